/**
 * golang/groupcache's route, `GET /_groupcache/{group}/{key}`, served the way a Go groupcache
 * node serves it, so Go nodes can have a burrow node in their ring: a group is a namespace, and a
 * `200` carries a protobuf `GetResponse` whose field 1 is the value's bytes (a string's UTF-8).
 *
 * The node answers as the key's owner, like `BURROW.FETCH`: from its caches, or a load here,
 * never a request to another node, so two nodes whose rings disagree never wait on each other.
 * Statuses are Go's: `400 bad request`, `404 no such group: {g}`, `500 {error}` for a loader
 * error. Go has no not-found status: burrow's not-found is a `404` with `x-burrow-status:
 * not-found`, which a Go asker counts as a peer error (it loads the key itself) and a burrow asker
 * reads as not-found. For burrow askers a response also says the value's kind (`x-burrow-kind`),
 * the time it has left (`x-burrow-ttl`, ms; -1 never expires) and an error's code
 * (`x-burrow-error`); Go ignores these headers.
 *
 * `GET /_groupcache/` is the liveness probe of burrow nodes in groupcache mode: `400` like Go, or
 * `503` once this node is leaving.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BurrowError, type ErrorCode } from '../../errors.ts'
import { encodeGetResponse } from '../groupcache/get-response.ts'
import { GROUPCACHE_PREFIX, parseGroupcachePath } from '../groupcache/path.ts'
import type { Answer, ServedNamespace } from '../served.ts'

/** Errors that are not the asker's fault nor a loader's: the node cannot serve now. */
const UNAVAILABLE: ReadonlySet<ErrorCode> = new Set(['BURROW_ERR_CLOSED', 'BURROW_ERR_OVERLOADED'])

/**
 * Serves one request under {@link GROUPCACHE_PREFIX} (authorized already). `lookup` names this
 * node's namespaces; `leaving` says whether it is leaving the cluster.
 */
export function serveGroupcache(
  req: IncomingMessage,
  res: ServerResponse,
  lookup: (name: string) => ServedNamespace | undefined,
  leaving: () => boolean,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    return text(res, 405, 'method not allowed; use GET')
  }
  const url = req.url ?? ''
  if (url.length === GROUPCACHE_PREFIX.length && leaving()) return text(res, 503, 'leaving', 'leaving')
  const route = parseGroupcachePath(url)
  if (route === undefined) return text(res, 400, 'bad request')
  const ns = lookup(route.group)
  if (ns === undefined) return text(res, 404, `no such group: ${route.group}`, 'no-namespace')
  let answer: Answer | Promise<Answer>
  try {
    answer = ns.fetch(route.key)
  } catch (err) {
    return sendError(res, err)
  }
  if (!(answer instanceof Promise)) return sendAnswer(req, res, answer)
  answer.then(
    (a) => sendAnswer(req, res, a),
    (err: unknown) => sendError(res, err),
  )
}

function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return
  const ttl = String(answer.ttlMs)
  if (answer.value === undefined) {
    res.setHeader('x-burrow-ttl', ttl)
    return text(res, 404, 'not found', 'not-found')
  }
  const body = encodeGetResponse({ value: answer.value })
  res.writeHead(200, {
    'content-type': 'application/x-protobuf',
    'content-length': body.byteLength,
    'x-burrow-kind': typeof answer.value === 'string' ? 'string' : 'bytes',
    'x-burrow-ttl': ttl,
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

function sendError(res: ServerResponse, err: unknown): void {
  if (!(err instanceof BurrowError)) return text(res, 500, 'internal error')
  const status = err.code === 'BURROW_ERR_BAD_KEY' ? 400 : UNAVAILABLE.has(err.code) ? 503 : 500
  res.setHeader('x-burrow-error', err.code)
  text(res, status, err.message)
}

/** A plain-text answer as Go's `http.Error` writes one (the message and a newline). */
function text(res: ServerResponse, status: number, message: string, reason?: string): void {
  if (res.destroyed || res.headersSent) return
  const body = `${message}\n`
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
  }
  if (reason !== undefined) headers['x-burrow-status'] = reason
  res.writeHead(status, headers)
  res.end(res.req?.method === 'HEAD' ? undefined : body)
}
