/**
 * The admin routes under `/_burrow/`: `GET /_burrow/stats` (the node's `stats()` as JSON) and
 * `GET /_burrow/metrics` (Prometheus text). Served on the node's port; through an application's
 * own server only where it mounts `node.adminHandler`. With `auth`, they need
 * `Authorization: Bearer <secret>` like every other route.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../../metrics/exposition.ts'
import type { Secrets } from '../../security/secrets.ts'
import type { BurrowStats } from '../../stats.ts'
import { authorized } from './route.ts'

/** The path prefix of the admin routes. */
export const ADMIN_PREFIX = '/_burrow/'

/** What the admin routes read from their node. */
export interface AdminSource {
  stats(): BurrowStats
}

type Route = (source: AdminSource) => { type: string; body: string }

const ROUTES = new Map<string, Route>([
  [
    '/_burrow/stats',
    (source) => ({ type: 'application/json; charset=utf-8', body: `${JSON.stringify(source.stats())}\n` }),
  ],
  ['/_burrow/metrics', (source) => ({ type: PROMETHEUS_CONTENT_TYPE, body: prometheusText(source.stats()) })],
])

/** The admin routes, for a 404's hint. */
const KNOWN = [...ROUTES.keys()].join(' or ')

/**
 * The request listener of the admin routes. Other paths go to `next` when given, else get a 404.
 *
 * @example
 * const admin = createAdminHandler(node, undefined)
 * http.createServer(admin).listen(9464)
 */
export function createAdminHandler(
  source: AdminSource,
  secrets: Secrets | undefined,
): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
  return (req, res, next) => {
    const url = req.url ?? ''
    if (!url.startsWith(ADMIN_PREFIX)) {
      if (next !== undefined) return next()
      return reply(req, res, 404, `no such route; try ${KNOWN}\n`)
    }
    if (secrets !== undefined && !authorized(req, secrets)) {
      res.setHeader('www-authenticate', 'Bearer realm="burrow"')
      return reply(req, res, 401, 'unauthorized: send Authorization: Bearer <secret>\n')
    }
    const query = url.indexOf('?')
    const route = ROUTES.get(query === -1 ? url : url.slice(0, query))
    if (route === undefined) return reply(req, res, 404, `no such admin route; try ${KNOWN}\n`)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return reply(req, res, 405, 'method not allowed; use GET\n')
    }
    const { type, body } = route(source)
    reply(req, res, 200, body, type)
  }
}

function reply(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  if (res.destroyed || res.headersSent) return
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
