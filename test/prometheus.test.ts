/**
 * `burrow/prometheus`: a node's metrics in a real prom-client registry, read at scrape time.
 */
import { spawnSync } from 'node:child_process'
import { Counter, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { METRICS } from '../src/metrics/families.ts'
import { registerBurrowMetrics } from '../src/prometheus.ts'
import { closeAll, node, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** The value of the sample `name{labels}` in a registry's JSON, or undefined. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return found?.value
}

describe('registerBurrowMetrics', () => {
  it('registers every metric with a prom-client registry; a scrape shows the gets made since', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: false }, namespace: { hot: false } })
    const registry = new Registry()
    registerBurrowMetrics(nodes[0]!, { registry })
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(METRICS.map((m) => `burrow_${m.name}`))
    expect(await sample(registry, 'burrow_gets_total', { namespace: 'test' })).toBe(0)

    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
    for (const key of keys) await namespaces[0]!.get(key)
    await namespaces[0]!.get('k0')
    const local = keys.filter((k) => nodes[0]!.ownerOf(k) === nodes[0]!.self)

    const text = await registry.metrics()
    expect(text).toContain('# TYPE burrow_gets_total counter\nburrow_gets_total{namespace="test"} 31\n')
    expect(text).toContain(`burrow_loads_total{namespace="test"} ${local.length}\n`)
    expect(text).toContain(
      `burrow_peer_fetches_total{namespace="test"} ${keys.length - local.length + (local.includes('k0') ? 0 : 1)}\n`,
    )
    expect(text).toContain(`burrow_cache_entries{namespace="test",cache="main"} ${local.length}\n`)
    expect(text).toContain('burrow_peers 2\n')
    expect(text).toContain(`burrow_node_info{self="${nodes[0]!.self}"} 1\n`)
    // Scraped again, the counters are the node's totals, not totals added up twice.
    await registry.metrics()
    expect(await sample(registry, 'burrow_gets_total', { namespace: 'test' })).toBe(31)
    // What prom-client renders, Prometheus' own checker accepts.
    const check = spawnSync('promtool', ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect([check.error, check.status, check.stdout]).toEqual([undefined, 0, ''])
  })

  it('sits beside the application’s own metrics, and a namespace made later shows at the next scrape', async () => {
    const registry = new Registry()
    const requests = new Counter({ name: 'app_requests_total', help: 'Requests.', registers: [registry] })
    requests.inc(3)
    const n = node()
    registerBurrowMetrics(n, { registry })
    expect(await sample(registry, 'burrow_gets_total')).toBeUndefined()
    await n.namespace('late', { load: (key) => key }).get('k')
    expect(await sample(registry, 'burrow_gets_total', { namespace: 'late' })).toBe(1)
    expect(await sample(registry, 'app_requests_total')).toBe(3)
  })

  it('takes a prefix, so two nodes share a registry; a name taken already registers nothing', async () => {
    const registry = new Registry()
    const one = node()
    const two = node()
    registerBurrowMetrics(one, { registry })
    const err = thrownBy(() => registerBurrowMetrics(two, { registry }))
    expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
    expect(err.message).toBe('the registry has a metric named burrow_node_info already; give another prefix')
    expect(registry.getMetricsAsArray()).toHaveLength(METRICS.length)
    registerBurrowMetrics(two, { registry, prefix: 'second_' })
    expect(await sample(registry, 'second_node_info', { self: two.self })).toBe(1)
    expect(await sample(registry, 'burrow_node_info', { self: one.self })).toBe(1)
  })

  it('returns what unregisters them all', () => {
    const registry = new Registry()
    const unregister = registerBurrowMetrics(node(), { registry })
    expect(registry.getMetricsAsArray().length).toBe(METRICS.length)
    unregister()
    expect(registry.getMetricsAsArray()).toEqual([])
  })

  it('refuses bad arguments with BURROW_ERR_BAD_OPTION, naming what was received', () => {
    const registry = new Registry()
    const n = node()
    const call = (...args: unknown[]) =>
      thrownBy(() => (registerBurrowMetrics as (...a: unknown[]) => void)(...args))
    expect(call(undefined, { registry }).message).toBe(
      'registerBurrowMetrics takes a Burrow node first, received undefined',
    )
    expect(call(n, { registry: {} }).message).toBe(
      'option registry must be a prom-client Registry, received an object (Object)',
    )
    expect(call(n, { registry, prefix: '9x' }).message).toBe(
      'option prefix must be a metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*), received "9x"',
    )
    expect(call(n, { registry, prefx: 'a_' }).message).toBe(
      'unknown option registerBurrowMetrics options.prefx; the known options are registry, prefix',
    )
    expect(registry.getMetricsAsArray()).toEqual([])
  })
})

describe('the package subpath', () => {
  it('burrow/prometheus resolves to the built module and exports registerBurrowMetrics', async () => {
    // Through the package's own exports map, as a user imports it (built by `npm test` before
    // the tests run; a specifier in a variable, so the typecheck, which runs first, skips it).
    const specifier = 'burrow/prometheus'
    const module = (await import(specifier)) as typeof import('../src/prometheus.ts')
    expect(typeof module.registerBurrowMetrics).toBe('function')
    expect(import.meta.resolve(specifier)).toMatch(/\/dist\/prometheus\.js$/)
  })
})
