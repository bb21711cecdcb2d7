/**
 * The admin routes on the node's port: `/_burrow/metrics` (Prometheus text, accepted by a real
 * parser and by Prometheus' own promtool) and `/_burrow/stats` (JSON); behind auth; served by
 * `node.adminHandler` and not by `node.handler`.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { afterEach, describe, expect, it } from 'vitest'
import { prometheusText } from '../src/metrics/exposition.ts'
import { METRICS } from '../src/metrics/families.ts'
import type { BurrowStats } from '../src/stats.ts'
import { closeAll, node, onCleanup } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** The value of `name` with `labels` in parsed text, as a number (undefined: no such sample). */
function sampleIn(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name)
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  return sample === undefined ? undefined : Number(sample.value)
}

/** What Prometheus' promtool says of `text`: its exit status and findings. */
function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 })
  if (run.error !== undefined)
    throw new Error(`promtool could not run (scripts/install-test-deps.sh installs it): ${run.error.message}`)
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

async function scrape(base: string, path = '/_burrow/metrics', headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

describe('GET /_burrow/metrics', () => {
  it('is Prometheus text 0.0.4 whose counters and gauges follow the gets made', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: false }, namespace: { hot: false } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const before = await scrape(a.self)
    expect(before.status).toBe(200)
    expect(before.type).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(sampleIn(before.body, 'burrow_gets_total', { namespace: 'test' })).toBe(0)
    expect(sampleIn(before.body, 'burrow_peers')).toBe(2)
    expect(sampleIn(before.body, 'burrow_node_info', { self: a.self })).toBe(1)

    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
    const remote = keys.filter((k) => a.ownerOf(k) === b.self)
    for (const key of keys) await namespaces[0]!.get(key)
    for (const key of keys.slice(0, 10)) await namespaces[0]!.get(key)

    const after = (await scrape(a.self)).body
    const ns = { namespace: 'test' }
    expect(sampleIn(after, 'burrow_gets_total', ns)).toBe(50)
    expect(sampleIn(after, 'burrow_hits_total', ns)).toBe(
      10 - remote.filter((k) => keys.indexOf(k) < 10).length,
    )
    expect(sampleIn(after, 'burrow_peer_fetches_total', ns)).toBe(
      remote.length + remote.filter((k) => keys.indexOf(k) < 10).length,
    )
    expect(sampleIn(after, 'burrow_loads_total', ns)).toBe(keys.length - remote.length)
    expect(sampleIn(after, 'burrow_misses_total', ns)).toBe(
      50 - (sampleIn(after, 'burrow_hits_total', ns) ?? Number.NaN),
    )
    expect(sampleIn(after, 'burrow_cache_entries', { namespace: 'test', cache: 'main' })).toBe(
      keys.length - remote.length,
    )
    expect(sampleIn(after, 'burrow_cache_bytes', { namespace: 'test', cache: 'main' })).toBe(
      a.stats().namespaces['test']!.main.bytes,
    )
    expect(sampleIn(after, 'burrow_peer_requests_total')).toBeGreaterThanOrEqual(remote.length)
    expect(sampleIn(after, 'burrow_server_listening')).toBe(1)
    // The owner served those fetches.
    expect(sampleIn((await scrape(b.self)).body, 'burrow_served_requests_total', ns)).toBeGreaterThanOrEqual(
      remote.length,
    )
  })

  it('lists every metric with HELP and TYPE, and promtool (Prometheus’ own checker) finds nothing wrong', async () => {
    const n = node()
    n.namespace('users', { load: (key) => key })
    n.namespace('pages', { load: (key) => key })
    await n.listen()
    await n.getNamespace('users')!.get('k')
    const { body } = await scrape(n.self)
    const families = parsePrometheusTextFormat(body)
    expect(families.map((f) => f.name)).toEqual(METRICS.map((m) => `burrow_${m.name}`))
    for (const family of families) {
      const metric = METRICS.find((m) => `burrow_${m.name}` === family.name)!
      expect(family.type).toBe(metric.type.toUpperCase())
      expect(family.help).toBe(metric.help)
      expect(body).toContain(`# TYPE ${family.name} ${metric.type}\n`)
      for (const sample of family.metrics) expect(Number.isFinite(Number(sample.value))).toBe(true)
    }
    expect(sampleIn(body, 'burrow_gets_total', { namespace: 'pages' })).toBe(0)
    expect(promtool(body)).toEqual({ status: 0, output: '' })
  })

  it('escapes label values: a backslash, a double quote and a line feed survive a parse', () => {
    const self = 'http://odd\\host"name\n:1'
    const stats: BurrowStats = {
      self,
      peers: [self],
      down: [],
      ringChanges: 0,
      owedPurges: 0,
      loads: { running: 0, queued: 0, overloaded: 0 },
      server: { connections: 0, refused: 0, timedOut: 0, overflowed: 0 },
      listening: false,
      namespaces: {},
      peerClient: {
        requests: 0,
        timeouts: 0,
        failures: 0,
        connectionsOpened: 0,
        connectionsOpen: 0,
        inFlight: 0,
      },
      busyPoll: { spins: 0, timedOut: 0, vain: 0 },
    }
    const text = prometheusText(stats)
    expect(text).toContain('burrow_node_info{self="http://odd\\\\host\\"name\\n:1"} 1\n')
    const info = parsePrometheusTextFormat(text).find((f) => f.name === 'burrow_node_info')!
    expect(info.metrics[0]!.labels).toEqual({ self })
    expect(promtool(text).status).toBe(0)
  })

  it('is only served for GET and HEAD, and names the routes it has for an unknown one', async () => {
    const n = node()
    await n.listen()
    const post = await fetch(`${n.self}/_burrow/metrics`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    const head = await fetch(`${n.self}/_burrow/metrics`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0)
    const unknown = await scrape(n.self, '/_burrow/nothing')
    expect(unknown.status).toBe(404)
    expect(unknown.body).toBe(
      'no such admin route; try /_burrow/stats, /_burrow/metrics, /_burrow/ring, /_burrow/hot-keys, /_burrow/dashboard\n',
    )
    // A query string is no part of the route.
    expect((await scrape(n.self, '/_burrow/metrics?x=1')).status).toBe(200)
  })
})

describe('GET /_burrow/stats', () => {
  it('is node.stats() as JSON', async () => {
    const n = node()
    const ns = n.namespace('test', { load: (key) => key })
    await n.listen()
    await ns.get('a')
    await ns.get('a')
    const res = await scrape(n.self, '/_burrow/stats')
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/json; charset=utf-8')
    const stats = JSON.parse(res.body) as BurrowStats
    expect(stats.self).toBe(n.self)
    expect(stats.namespaces['test']).toMatchObject({ gets: 2, hits: 1, localLoads: 1 })
    // The same shape as stats(), counters and all (the server's connection count moves with this request).
    expect(Object.keys(stats).sort()).toEqual(Object.keys(n.stats()).sort())
    expect(stats.namespaces).toEqual(n.stats().namespaces)
  })
})

describe('with auth', () => {
  it('both routes answer 401 without the Bearer secret, and 200 with it', async () => {
    const secret = 'admin-route-secret'
    const n = node({ auth: { secret } })
    await n.listen()
    for (const path of ['/_burrow/metrics', '/_burrow/stats', '/_burrow/nothing']) {
      const res = await scrape(n.self, path)
      expect(res.status, path).toBe(401)
      expect(res.body).not.toContain('burrow_')
      expect((await scrape(n.self, path, { authorization: 'Bearer wrong' })).status).toBe(401)
    }
    const metrics = await scrape(n.self, '/_burrow/metrics', { authorization: `Bearer ${secret}` })
    expect(metrics.status).toBe(200)
    expect(metrics.body).not.toContain(secret)
    const stats = await scrape(n.self, '/_burrow/stats', { authorization: `Bearer ${secret}` })
    expect(stats.status).toBe(200)
    expect(stats.body).not.toContain(secret)
  })
})

describe('on an application’s own server', () => {
  async function serve(listener: Parameters<typeof createServer>[1]): Promise<string> {
    const server: Server = createServer(listener)
    onCleanup(() => new Promise((resolve) => server.close(resolve)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  }

  it('node.handler does not serve the admin routes; node.adminHandler serves them and passes the rest on', async () => {
    const n = node()
    n.namespace('test', { load: (key) => `value of ${key}` })
    const plain = await serve(n.handler)
    expect((await scrape(plain, '/_burrow/metrics')).status).toBe(404)
    expect((await scrape(plain, '/burrow/test/k')).body).toBe('value of k')

    const both = await serve((req, res) => n.adminHandler(req, res, () => n.handler(req, res)))
    const metrics = await scrape(both, '/_burrow/metrics')
    expect(metrics.status).toBe(200)
    expect(sampleIn(metrics.body, 'burrow_gets_total', { namespace: 'test' })).toBe(1)
    expect((await scrape(both, '/burrow/test/k')).body).toBe('value of k')

    const alone = await serve(n.adminHandler)
    expect((await scrape(alone, '/_burrow/stats')).status).toBe(200)
    expect((await scrape(alone, '/burrow/test/k')).status).toBe(404)
  })
})

describe('docs/metrics.md', () => {
  it('has a row for every metric, with its type', () => {
    const doc = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8')
    for (const metric of METRICS) expect(doc).toContain(`| \`burrow_${metric.name}\` | ${metric.type} |`)
  })
})
