/**
 * The loader of `burrow serve`: a key's value is fetched from an HTTP origin, its URL made from a
 * template (`http://api.internal/items/{key}`). 2xx is the value, 404 not found; anything else —
 * another status, a redirect (never followed), a timeout, a body over the bound, a refused
 * connection — is a loader error, which burrow does not cache.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import type { Loader } from '../namespace/options.ts'

/** How a {@link originLoader} fetches. */
export interface OriginOptions {
  /** The URL template; `{key}` (and `{namespace}`) are replaced by the encodeURIComponent'd key (namespace). */
  template: string
  /** The deadline of one fetch, headers and body, in ms. */
  timeoutMs: number
  /** The largest body taken, in bytes; a longer one fails the load. */
  maxBodyBytes: number
  /** `string`: the body is decoded as UTF-8; `bytes`: kept as bytes. */
  kind: 'string' | 'bytes'
  /** Told of every failed fetch (for a log line); the load fails all the same. */
  onError?: (key: string, err: Error) => void
}

/**
 * Whether `template` can make origin URLs: an http(s) URL with `{key}` in it. Returns why not,
 * or `undefined` when it can.
 */
export function templateProblem(template: string): string | undefined {
  if (!template.includes('{key}')) return 'it must contain {key}, where the key goes'
  let url: URL
  try {
    url = new URL(template.replaceAll('{key}', 'k').replaceAll('{namespace}', 'n'))
  } catch {
    return 'it is not a URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'it must be an http:// or https:// URL'
  return undefined
}

/**
 * A loader that fetches each key from the origin.
 *
 * @example
 * node.namespace('items', {
 *   load: originLoader({ template: 'http://api.internal/items/{key}', timeoutMs: 5000, maxBodyBytes: 8 << 20, kind: 'string' }),
 * })
 */
export function originLoader(options: OriginOptions): Loader<string | Uint8Array> {
  const { template, timeoutMs, maxBodyBytes, kind, onError } = options
  return async (key, ctx) => {
    const url = template
      .replaceAll('{key}', encodeURIComponent(key))
      .replaceAll('{namespace}', encodeURIComponent(ctx.namespace))
    try {
      return await fetchValue(url, AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]))
    } catch (err) {
      const failure = explain(err, url, ctx.signal)
      // A load stopped because the node closes is no origin failure worth a log line.
      if (!ctx.signal.aborted) onError?.(key, failure)
      throw failure
    }
  }

  async function fetchValue(url: string, signal: AbortSignal): Promise<string | Uint8Array | undefined> {
    const response = await fetch(url, { signal, redirect: 'manual', headers: { accept: '*/*' } })
    if (response.status === 404) {
      await response.body?.cancel()
      return undefined
    }
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel()
      const location = response.headers.get('location')
      const redirect = response.status >= 300 && response.status < 400
      throw new Error(
        redirect
          ? `origin answered ${response.status} (a redirect${location === null ? '' : ` to ${location}`}, not followed) for ${url}`
          : `origin answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''} for ${url}`,
      )
    }
    const body = await readBounded(response, url)
    return kind === 'string' ? body.toString('utf8') : body
  }

  /** The body, failing as soon as it is known to be longer than `maxBodyBytes`. */
  async function readBounded(response: Response, url: string): Promise<Buffer> {
    const tooLong = () =>
      new Error(`origin's body for ${url} is over ${maxBodyBytes} bytes (--origin-max-bytes)`)
    const declared = Number(response.headers.get('content-length') ?? Number.NaN)
    if (declared > maxBodyBytes) {
      await response.body?.cancel()
      throw tooLong()
    }
    if (response.body === null) return Buffer.alloc(0)
    const chunks: Uint8Array[] = []
    let length = 0
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      length += value.byteLength
      if (length > maxBodyBytes) {
        await reader.cancel()
        throw tooLong()
      }
      chunks.push(value)
    }
    return Buffer.concat(chunks, length)
  }

  /** The error a load fails with: what happened, at which URL, in words a person can act on. */
  function explain(err: unknown, url: string, loadSignal: AbortSignal): Error {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    if (e.name === 'TimeoutError') {
      return new Error(`origin did not answer within ${timeoutMs} ms (--origin-timeout) for ${url}`)
    }
    if (e.name === 'AbortError' && loadSignal.aborted) return e
    if (e.message.startsWith('origin')) return e
    const cause = e.cause?.code ?? e.cause?.message ?? e.message
    return new Error(`cannot fetch ${url} from the origin: ${cause}`, { cause: err })
  }
}
