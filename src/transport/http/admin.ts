/**
 * The admin routes under `/_burrow/`: `GET /_burrow/stats` (the node's `stats()` as JSON),
 * `GET /_burrow/metrics` (Prometheus text), `GET /_burrow/ring` (each peer's share of the keys and
 * recent membership events, as JSON) and `GET /_burrow/dashboard` (a page that draws them). Served
 * on the node's port; through an application's own server only where it mounts
 * `node.adminHandler`. With `auth`, the data routes need `Authorization: Bearer <secret>` like
 * every other route; the dashboard page holds no data and is served to anyone, and asks for the
 * secret itself (docs/dashboard.md).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { MembershipEvent } from '../../membership/membership-log.ts'
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../../metrics/exposition.ts'
import type { RingLayout } from '../../ring.ts'
import type { Secrets } from '../../security/secrets.ts'
import type { BurrowStats } from '../../stats.ts'
import type { HotKey } from '../../store/store.ts'
import { DASHBOARD_PATH, dashboardPage } from './dashboard.ts'
import { authorized } from './route.ts'

/** The path prefix of the admin routes. */
export const ADMIN_PREFIX = '/_burrow/'

/** What `GET /_burrow/ring` answers: the ring this node sees, and how membership changed lately. */
export type RingReport = {
  self: string
  /** The live peers, sorted, each with the fraction of the key hashes it owns (they add up to 1). */
  peers: { peer: string; share: number }[]
  /** Listed peers found down, off the ring until they answer again. */
  down: string[]
  /** Times the ring changed since the node was made. */
  changes: number
  /** The latest membership events since the node listened, oldest first (at most 100). */
  events: MembershipEvent[]
} & RingLayout

/** What the admin routes read from their node. */
export interface AdminSource {
  stats(): BurrowStats
  ring(): RingReport
  /** Each namespace's hot keys (`ns.hotKeys()`). */
  hotKeys(): Record<string, HotKey[]>
}

const JSON_TYPE = 'application/json; charset=utf-8'

type Route = (source: AdminSource) => { type: string; body: string }

const ROUTES = new Map<string, Route>([
  ['/_burrow/stats', (source) => ({ type: JSON_TYPE, body: `${JSON.stringify(source.stats())}\n` })],
  ['/_burrow/metrics', (source) => ({ type: PROMETHEUS_CONTENT_TYPE, body: prometheusText(source.stats()) })],
  ['/_burrow/ring', (source) => ({ type: JSON_TYPE, body: `${JSON.stringify(source.ring())}\n` })],
  ['/_burrow/hot-keys', (source) => ({ type: JSON_TYPE, body: `${JSON.stringify(source.hotKeys())}\n` })],
])

/** The admin routes, for a 404's hint. */
const KNOWN = [...ROUTES.keys(), DASHBOARD_PATH].join(', ')

/**
 * The request listener of the admin routes. Other paths go to `next` when given, else get a 404.
 *
 * @example
 * const admin = createAdminHandler(source, undefined)
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
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    // The page is the same static text on every node: a browser cannot send a Bearer header when
    // it navigates, so the page asks for the secret and sends it with its own data requests.
    if (path === DASHBOARD_PATH) {
      if (!allowed(req, res)) return
      const page = dashboardPage()
      res.setHeader('content-security-policy', page.csp)
      res.setHeader('x-content-type-options', 'nosniff')
      res.setHeader('referrer-policy', 'no-referrer')
      res.setHeader('x-frame-options', 'DENY')
      return reply(req, res, 200, page.html, 'text/html; charset=utf-8')
    }
    if (secrets !== undefined && !authorized(req, secrets)) {
      res.setHeader('www-authenticate', 'Bearer realm="burrow"')
      return reply(req, res, 401, 'unauthorized: send Authorization: Bearer <secret>\n')
    }
    const route = ROUTES.get(path)
    if (route === undefined) return reply(req, res, 404, `no such admin route; try ${KNOWN}\n`)
    if (!allowed(req, res)) return
    const { type, body } = route(source)
    reply(req, res, 200, body, type)
  }
}

/** Whether the method is GET or HEAD; else answers 405. */
function allowed(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true
  res.setHeader('allow', 'GET, HEAD')
  reply(req, res, 405, 'method not allowed; use GET\n')
  return false
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
