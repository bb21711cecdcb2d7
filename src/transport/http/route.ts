/**
 * The seed's HTTP route, `GET /burrow/{namespace}/{key}`: any node answers, asking the key's owner
 * when it is not the owner itself. Each segment is percent-encoded by the client
 * (`encodeURIComponent`) and decoded exactly once here. Never redirects. The handler also serves
 * golang/groupcache's route, `/_groupcache/` (groupcache-route.ts), behind the same `auth`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { StoredValue } from '../../codec.ts'
import { BurrowError } from '../../errors.ts'
import type { Secrets } from '../../security/secrets.ts'
import { GROUPCACHE_PREFIX } from '../groupcache/path.ts'
import type { ServedNamespace } from '../served.ts'
import { serveGroupcache } from './groupcache-route.ts'

/** The path prefix of the seed route. */
const ROUTE_PREFIX = '/burrow/'

/** Why a 404 was given, in the `x-burrow-status` header. */
const NOT_FOUND_STATUS = { key: 'not-found', namespace: 'no-namespace' } as const

/**
 * Builds the request listener behind `node.handler`: `lookup` names this node's namespaces, and
 * `leaving` says whether the node is leaving (its groupcache probe then fails). Paths outside the
 * routes go to `next` when given, else get a 404.
 *
 * @example
 * const handler = createHttpHandler((name) => namespaces.get(name))
 * http.createServer(handler).listen(8080)
 */
export function createHttpHandler(
  lookup: (name: string) => ServedNamespace | undefined,
  secrets?: Secrets,
  leaving: () => boolean = () => false,
): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
  return (req, res, next) => {
    const url = req.url ?? ''
    const groupcache = url.startsWith(GROUPCACHE_PREFIX)
    if (!groupcache && !url.startsWith(ROUTE_PREFIX)) {
      if (next !== undefined) return next()
      return text(res, 404, 'no such route; try GET /burrow/{namespace}/{key}\n', 'no-route')
    }
    if (secrets !== undefined && !authorized(req, secrets)) {
      res.setHeader('www-authenticate', 'Bearer realm="burrow"')
      return text(res, 401, 'unauthorized: send Authorization: Bearer <secret>\n', 'unauthorized')
    }
    if (groupcache) return serveGroupcache(req, res, lookup, leaving)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return text(res, 405, 'method not allowed; use GET\n')
    }
    const route = parseRoute(url)
    if (route === undefined)
      return text(res, 400, 'bad request: expected /burrow/{namespace}/{key}, percent-encoded\n')
    const ns = lookup(route.namespace)
    if (ns === undefined)
      return text(res, 404, `no such namespace: ${route.namespace}\n`, NOT_FOUND_STATUS.namespace)
    let answer: StoredValue | undefined | Promise<StoredValue | undefined>
    try {
      answer = ns.read(route.key)
    } catch (err) {
      return sendError(res, err)
    }
    if (!(answer instanceof Promise)) return sendAnswer(req, res, answer)
    answer.then(
      (value) => sendAnswer(req, res, value),
      (err: unknown) => sendError(res, err),
    )
  }
}

/** Whether `req` carries `Authorization: Bearer <secret>` with one of the node's secrets. */
export function authorized(req: IncomingMessage, secrets: Secrets): boolean {
  const header = req.headers.authorization
  if (header === undefined || !/^bearer /i.test(header)) return false
  return secrets.matches(header.slice(7).trim())
}

/** Splits and decodes `/burrow/{namespace}/{key}`; `undefined` when malformed. */
function parseRoute(url: string): { namespace: string; key: string } | undefined {
  const query = url.indexOf('?')
  const path = url.slice(ROUTE_PREFIX.length, query === -1 ? undefined : query)
  const slash = path.indexOf('/')
  if (slash <= 0 || slash === path.length - 1) return undefined
  try {
    return {
      namespace: decodeURIComponent(path.slice(0, slash)),
      key: decodeURIComponent(path.slice(slash + 1)),
    }
  } catch {
    return undefined
  }
}

function sendAnswer(req: IncomingMessage, res: ServerResponse, value: StoredValue | undefined): void {
  if (value === undefined) return text(res, 404, 'not found\n', NOT_FOUND_STATUS.key)
  if (res.destroyed) return
  const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  res.writeHead(200, {
    'content-type': typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
    'content-length': body.byteLength,
    'x-burrow-kind': typeof value === 'string' ? 'string' : 'bytes',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

function sendError(res: ServerResponse, err: unknown): void {
  if (!(err instanceof BurrowError)) return text(res, 500, 'internal error\n', 'error')
  const status = err.code === 'BURROW_ERR_BAD_KEY' ? 400 : err.code === 'BURROW_ERR_CLOSED' ? 503 : 500
  text(res, status, `${err.code}: ${err.message}\n`, 'error', err.code)
}

function text(res: ServerResponse, status: number, body: string, reason?: string, code?: string): void {
  if (res.destroyed || res.headersSent) return
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  }
  if (reason !== undefined) headers['x-burrow-status'] = reason
  if (code !== undefined) headers['x-burrow-error'] = code
  res.writeHead(status, headers)
  res.end(res.req?.method === 'HEAD' ? undefined : body)
}
