/**
 * The peer client of `protocol: 'groupcache'`: asks owners with golang/groupcache's own request,
 * `GET {peer}/_groupcache/{group}/{key}`, answered by a protobuf `GetResponse`, so a node can
 * fetch from Go groupcache nodes (and from burrow nodes, which serve the route too).
 *
 * - Connections: a keep-alive `node:http`/`node:https` agent, at most `connections` sockets per
 *   peer (HTTP/1.1 carries one request per socket at a time; more wait for a socket, within
 *   their deadline). A request that fails because the peer closed an idle kept-alive socket as it
 *   was reused is sent again once.
 * - Every request has a deadline (`timeoutMs`, the wait for a socket included) and honours its
 *   `signal`. Redirects are never followed: a `3xx` is a peer error. A response body over
 *   `maxResponseBytes` is refused (`BURROW_ERR_FRAME_TOO_LARGE`) and its connection closed.
 * - Values: from a burrow peer, the kind it says (`x-burrow-kind`) and its time left
 *   (`x-burrow-ttl`); from a Go peer (no such headers), bytes, or a string (UTF-8, strictly) where
 *   the namespace asks for one (`valueKind`), kept without a TTL of their own.
 * - Errors: Go's `500` is the owner's loader error (`BURROW_ERR_LOADER`, final); `404` an unknown
 *   group (`BURROW_ERR_UNKNOWN_NAMESPACE`); a malformed body `BURROW_ERR_PROTOCOL`; any other
 *   status a peer error. A burrow peer's `x-burrow-error` gives its own code.
 * - No writes: groupcache's protocol has none, so `store`, `purge` and `flush` fail at once with
 *   `BURROW_ERR_PEER_UNAVAILABLE` (and `carriesWrites` is false). `leave` tells nobody; `ping` is
 *   `GET /_groupcache/`, which Go answers `400` and a leaving burrow node `503`.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { isIP, type Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import type { StoredValue, ValueKind } from '../../codec.ts'
import { BurrowError, type ErrorCode, isErrorCode } from '../../errors.ts'
import { peerAddress } from '../../membership/peer-id.ts'
import { decodeGetResponse } from '../groupcache/get-response.ts'
import { GROUPCACHE_PREFIX, groupcachePath } from '../groupcache/path.ts'
import { type Answer, NO_EXPIRY } from '../served.ts'
import { closed, type RequestContext, timedOut, unavailable } from './errors.ts'
import type { PeerClientStats, PeerTransport, Receiver } from './transport.ts'

/** Options of the groupcache client; the node fills them from its own options. */
export interface GroupcacheClientOptions {
  /** The deadline of one request, waiting for a socket and connecting included. */
  timeoutMs: number
  /** Sockets per peer, at most. */
  connections: number
  /** The largest response body accepted. */
  maxResponseBytes: number
  /** The node's lifetime signal: when it aborts, every request is rejected. */
  signal: AbortSignal
  /** Sent as `Authorization: Bearer <secret>` (burrow peers with `auth` require it; Go ignores it). */
  secret?: string
  /** How `https://` peers are dialled: the CA that verifies them, a client certificate. */
  tls?: ConnectionOptions
  /** What a value without a kind of its own (a Go peer's) becomes in `namespace`. */
  valueKind(namespace: string): ValueKind
}

/** A response as read: status, headers, and the whole body. */
interface Response {
  status: number
  headers: IncomingMessage['headers']
  body: Buffer
}

/** Keep-alive agents for `http://` and `https://` peers. */
interface Agents {
  http: HttpAgent
  https: HttpsAgent
}

/** A request in flight, failed from outside by abandon/retain/close. */
interface InFlight {
  peer: string
  fail(err: unknown): void
}

/**
 * Idle kept-alive sockets close after this long: before a burrow peer drops them (it waits
 * `requestTimeoutMs`, 10 s by default, for a next request), so the client, not the server,
 * usually closes them. Go servers keep idle connections open.
 */
const IDLE_SOCKET_MS = 4_000
/** The most of an error body quoted in a message. */
const QUOTED_BYTES = 200
const NO_WRITES = "golang/groupcache's protocol carries no writes (protocol: 'groupcache')"
const TTL_HEADER = /^(?:-1|[0-9]{1,15})$/

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * One groupcache client per node.
 *
 * @example
 * const client = new GroupcacheClient({ timeoutMs: 3000, connections: 32, maxResponseBytes: 32 << 20, signal, valueKind: () => 'bytes' })
 * const { value } = await client.fetch('http://10.0.0.2:8080', 'users', '42')
 */
export class GroupcacheClient implements PeerTransport {
  readonly carriesWrites = false
  readonly #options: GroupcacheClientOptions
  /** Fetches, `connections` sockets per peer; probes have one socket of their own per peer. */
  readonly #agents: { fetch: Agents; probe: Agents }
  readonly #inFlight = new Set<InFlight>()
  /** Sockets seen so far, so each is counted as opened once however many requests reuse it. */
  readonly #seen = new WeakSet<Socket>()
  readonly #counters = { requests: 0, timeouts: 0, failures: 0, connectionsOpened: 0, connectionsOpen: 0 }

  constructor(options: GroupcacheClientOptions) {
    this.#options = options
    // A probe never waits for a socket behind fetches to a slow owner: it would time out, and
    // take a busy peer for a dead one.
    this.#agents = { fetch: agents(options.connections, options.tls), probe: agents(1, options.tls) }
  }

  /** `GET /_groupcache/{namespace}/{key}` on `peer`: its value, or not-found (burrow peers only). */
  async fetch(peer: string, namespace: string, key: string, signal?: AbortSignal): Promise<Answer> {
    const request = { peer, namespace, key }
    let path: string
    try {
      path = groupcachePath(namespace, key)
    } catch {
      throw new BurrowError(
        'BURROW_ERR_BAD_KEY',
        'a key must be well-formed UTF-16 (it has a lone surrogate)',
        {
          namespace,
        },
      )
    }
    const res = await this.#get(request, path, this.#options.timeoutMs, signal, this.#agents.fetch)
    if (res.status === 200) return this.#answer(request, res)
    if (res.status === 404 && res.headers['x-burrow-status'] === 'not-found')
      return { value: undefined, ttlMs: ttlOf(request, res) }
    throw this.#failed(request, res)
  }

  /** `fetch`, its outcome told to `to`. */
  fetchTo(
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal | undefined,
    to: Receiver<Answer>,
  ): void {
    this.fetch(peer, namespace, key, signal).then(
      (answer) => to.answered(answer),
      (err: unknown) => to.failed(err),
    )
  }

  /** Groupcache's protocol has no cache-only ask: always a miss (warm hand-off is off in this mode). */
  peek(): Promise<Answer | undefined> {
    return Promise.resolve(undefined)
  }

  store(peer: string, namespace: string, key: string): Promise<void> {
    return Promise.reject(unavailable(peer, namespace, key, NO_WRITES))
  }

  purge(peer: string, namespace: string, key: string): Promise<void> {
    return Promise.reject(unavailable(peer, namespace, key, NO_WRITES))
  }

  flush(peer: string, namespace: string): Promise<void> {
    return Promise.reject(unavailable(peer, namespace, '', NO_WRITES))
  }

  /**
   * `GET /_groupcache/`: any answer means the peer is up (Go answers `400`), except `503` (a
   * burrow node leaving) and `401` (a burrow node that refuses this node's secret).
   */
  async ping(peer: string, timeoutMs: number): Promise<void> {
    const request = { peer, namespace: '', key: '' }
    const res = await this.#get(request, GROUPCACHE_PREFIX, timeoutMs, undefined, this.#agents.probe)
    if (res.status === 503) throw unavailable(peer, '', '', 'it is leaving')
    if (res.status === 401) throw statusError(request, 'BURROW_ERR_AUTH', res)
  }

  /** Nothing to tell: peers see this node's probe answered `503` while it leaves. */
  leave(): Promise<void> {
    return Promise.resolve()
  }

  abandon(peer: string): void {
    for (const request of [...this.#inFlight]) {
      if (request.peer === peer) request.fail(unavailable(peer, '', '', 'it was found down'))
    }
  }

  retain(peers: ReadonlySet<string>): void {
    for (const request of [...this.#inFlight]) {
      if (!peers.has(request.peer)) request.fail(unavailable(request.peer, '', '', 'it left the peer set'))
    }
  }

  close(): void {
    for (const request of [...this.#inFlight]) request.fail(closed(request.peer, '', ''))
    for (const pair of [this.#agents.fetch, this.#agents.probe]) {
      pair.http.destroy()
      pair.https.destroy()
    }
  }

  stats(): PeerClientStats {
    return { ...this.#counters, inFlight: this.#inFlight.size }
  }

  /** A `200`'s value in the kind it has (a burrow peer's) or the namespace asks for (a Go peer's). */
  #answer(request: RequestContext, res: Response): Answer {
    let bytes: Uint8Array | undefined
    try {
      bytes = decodeGetResponse(res.body).value
    } catch (err) {
      this.#counters.failures++
      const cause = err as BurrowError
      throw new BurrowError('BURROW_ERR_PROTOCOL', `peer ${request.peer} sent ${cause.message}`, {
        ...request,
        cause,
      })
    }
    // Go writes an unset value as an empty one: so does its client read it.
    const raw = bytes ?? new Uint8Array(0)
    const kind = res.headers['x-burrow-kind'] ?? this.#options.valueKind(request.namespace)
    let value: StoredValue
    if (kind === 'bytes') value = raw
    else if (kind === 'string') value = utf8(request, raw)
    else throw this.#protocol(request, `x-burrow-kind: ${String(kind).slice(0, 20)}`)
    return { value, ttlMs: ttlOf(request, res) }
  }

  /** The error a status other than `200` means. */
  #failed(request: RequestContext, res: Response): BurrowError {
    const code = res.headers['x-burrow-error']
    if (typeof code === 'string' && isErrorCode(code)) return statusError(request, code, res)
    switch (res.status) {
      case 500:
        return statusError(request, 'BURROW_ERR_LOADER', res)
      case 404:
        return statusError(request, 'BURROW_ERR_UNKNOWN_NAMESPACE', res)
      case 401:
        return statusError(request, 'BURROW_ERR_AUTH', res)
      case 503:
        return statusError(request, 'BURROW_ERR_PEER_UNAVAILABLE', res)
      default:
        this.#counters.failures++
        return statusError(
          request,
          'BURROW_ERR_PROTOCOL',
          res,
          res.status >= 300 && res.status < 400 ? ' (a redirect: not followed)' : '',
        )
    }
  }

  #protocol(request: RequestContext, what: string): BurrowError {
    this.#counters.failures++
    return new BurrowError('BURROW_ERR_PROTOCOL', `peer ${request.peer} sent ${what}`, request)
  }

  /**
   * One GET with a deadline: resolves the whole response (any status), rejects with a coded error
   * when the peer cannot be reached, does not answer in time, or sends too large a body.
   */
  #get(
    request: RequestContext,
    path: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    agent: Agents,
  ): Promise<Response> {
    if (this.#options.signal.aborted)
      return Promise.reject(closed(request.peer, request.namespace, request.key))
    if (signal?.aborted) return Promise.reject(signal.reason)
    this.#counters.requests++
    // The node's own signal is handled by close(): a listener per request on it would only add work.
    const caller = signal === this.#options.signal ? undefined : signal
    return new Promise((resolve, reject) => {
      let req: ClientRequest | undefined
      let settled = false
      const entry: InFlight = {
        peer: request.peer,
        fail: (err) => {
          if (!finish()) return
          req?.destroy()
          reject(err)
        },
      }
      const finish = (): boolean => {
        if (settled) return false
        settled = true
        clearTimeout(timer)
        caller?.removeEventListener('abort', onAbort)
        this.#inFlight.delete(entry)
        return true
      }
      const timer = setTimeout(() => {
        if (settled) return
        this.#counters.timeouts++
        entry.fail(timedOut(request))
      }, timeoutMs)
      const onAbort = (): void => entry.fail(caller?.reason)
      caller?.addEventListener('abort', onAbort, { once: true })
      this.#inFlight.add(entry)
      const send = (retry: boolean): void => {
        req = this.#send(request, path, agent, {
          response: (res) => {
            if (finish()) resolve(res)
          },
          error: (err, reused) => {
            if (settled) return
            // The peer closed a kept-alive socket just as it was reused (it dropped it idle): a
            // GET may be sent again, once.
            if (reused && retry && (err as NodeJS.ErrnoException).code === 'ECONNRESET') return send(false)
            if (!(err instanceof BurrowError)) this.#counters.failures++
            entry.fail(
              err instanceof BurrowError
                ? err
                : unavailable(request.peer, request.namespace, request.key, (err as Error).message, err),
            )
          },
        })
      }
      send(true)
    })
  }

  /** Sends one GET; calls `response` with the whole response, or `error` once. */
  #send(
    request: RequestContext,
    path: string,
    agent: Agents,
    on: { response(res: Response): void; error(err: unknown, reused: boolean): void },
  ): ClientRequest {
    const { host, port, tls } = peerAddress(request.peer)
    const headers: Record<string, string> = {}
    if (this.#options.secret !== undefined) headers.authorization = `Bearer ${this.#options.secret}`
    const options = { host, port, path, method: 'GET', headers }
    const req = tls
      ? httpsRequest({ ...options, agent: agent.https, servername: isIP(host) === 0 ? host : undefined })
      : httpRequest({ ...options, agent: agent.http })
    const max = this.#options.maxResponseBytes
    req.on('socket', (socket) => this.#count(socket))
    req.on('error', (err) => on.error(err, req.reusedSocket))
    req.on('response', (res) => {
      // Failed here, not through req.destroy(err): once a response began, Node reports a
      // destroyed request as a generic abort, not as the error given.
      const refuse = (bytes: number): void => {
        on.error(tooLarge(request, bytes, max), false)
        req.destroy()
      }
      const length = Number(res.headers['content-length'] ?? 0)
      if (length > max) return refuse(length)
      const chunks: Buffer[] = []
      let total = 0
      res.on('data', (chunk: Buffer) => {
        total += chunk.length
        if (total > max) return refuse(total)
        chunks.push(chunk)
      })
      res.on('close', () => {
        if (!res.complete) on.error(new Error('the connection closed before the response ended'), false)
      })
      res.on('end', () => {
        // One buffer of its own: a cached value then pins no socket read buffer.
        const body = Buffer.allocUnsafeSlow(total)
        let at = 0
        for (const chunk of chunks) {
          body.set(chunk, at)
          at += chunk.length
        }
        on.response({ status: res.statusCode ?? 0, headers: res.headers, body })
      })
      res.on('error', (err) => on.error(err, false))
    })
    req.end()
    return req
  }

  #count(socket: Socket): void {
    if (this.#seen.has(socket)) return
    this.#seen.add(socket)
    this.#counters.connectionsOpened++
    this.#counters.connectionsOpen++
    socket.once('close', () => {
      this.#counters.connectionsOpen--
    })
  }
}

/** Keep-alive agents with at most `sockets` sockets per peer. */
function agents(sockets: number, tls: ConnectionOptions | undefined): Agents {
  const options = {
    keepAlive: true,
    maxSockets: sockets,
    maxFreeSockets: sockets,
    scheduling: 'lifo' as const,
    timeout: IDLE_SOCKET_MS,
  }
  return { http: new HttpAgent(options), https: new HttpsAgent({ ...options, ...tls }) }
}

/** The time an answer may be kept: a burrow peer's `x-burrow-ttl`, else (Go) no expiry of its own. */
function ttlOf(request: RequestContext, res: Response): number {
  const header = res.headers['x-burrow-ttl']
  if (header === undefined) return NO_EXPIRY
  if (typeof header !== 'string' || !TTL_HEADER.test(header))
    throw new BurrowError(
      'BURROW_ERR_PROTOCOL',
      `peer ${request.peer} sent x-burrow-ttl: ${String(header).slice(0, 20)}`,
      request,
    )
  return Number(header)
}

function utf8(request: RequestContext, bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw new BurrowError(
      'BURROW_ERR_BAD_VALUE',
      `peer ${request.peer} sent a value that is not UTF-8, for namespace ${request.namespace} whose groupcacheValues is 'string'`,
      request,
    )
  }
}

function statusError(request: RequestContext, code: ErrorCode, res: Response, note = ''): BurrowError {
  const text = res.body.subarray(0, QUOTED_BYTES).toString('utf8').trim()
  return new BurrowError(code, `peer ${request.peer} answered ${res.status}${note}: ${text}`, request)
}

function tooLarge(request: RequestContext, bytes: number, max: number): BurrowError {
  return new BurrowError(
    'BURROW_ERR_FRAME_TOO_LARGE',
    `peer ${request.peer} sent a response of ${bytes} bytes, over the bound of ${max}`,
    request,
  )
}
