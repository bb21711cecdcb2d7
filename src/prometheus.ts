/**
 * `burrow/prometheus`: a node's metrics in a prom-client registry, next to the application's own.
 * Needs the optional peer dependency `prom-client`; the core package never loads it. The metrics
 * are the ones `GET /_burrow/metrics` serves (docs/metrics.md), read from `node.stats()` when the
 * registry is scraped.
 *
 * @example
 * import { Registry } from 'prom-client'
 * import { registerBurrowMetrics } from 'burrow/prometheus'
 * const registry = new Registry()
 * registerBurrowMetrics(node, { registry })
 * // then serve `await registry.metrics()` on the application's /metrics route
 *
 * @module
 */
import { Counter, Gauge, type OpenMetricsContentType, type Registry } from 'prom-client'
import { BurrowError, describe } from './errors.ts'
import { DEFAULT_PREFIX, METRICS, type MetricDefinition } from './metrics/families.ts'
import { objectOption, onlyKnownOptions } from './options.ts'
import type { BurrowStats } from './stats.ts'

/** Options of {@link registerBurrowMetrics}. */
export interface BurrowMetricsOptions {
  /** The prom-client registry to register with (prom-client's `register` is its default one). */
  registry: Registry | Registry<OpenMetricsContentType>
  /**
   * What every metric name starts with; change it to register two nodes of one process with one
   * registry. @default 'burrow_'
   */
  prefix?: string
}

/** What a node must offer: its stats. A `Burrow` does. */
export interface MetricsSource {
  stats(): BurrowStats
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/**
 * Registers every metric of `node` with `options.registry`: one prom-client `Counter` or `Gauge`
 * per metric, whose `collect()` reads `node.stats()` (once per scrape, shared by all of them).
 * Returns a function that unregisters them. Throws `BURROW_ERR_BAD_OPTION` for a bad registry or
 * prefix, or when one of the names is registered already (then nothing is registered).
 *
 * @example
 * const unregister = registerBurrowMetrics(node, { registry, prefix: 'cache_' })
 * await node.close()
 * unregister()
 */
export function registerBurrowMetrics(node: MetricsSource, options: BurrowMetricsOptions): () => void {
  if (typeof (node as MetricsSource | undefined)?.stats !== 'function') {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `registerBurrowMetrics takes a Burrow node first, received ${describe(node)}`,
    )
  }
  const opts = objectOption<BurrowMetricsOptions>('registerBurrowMetrics options', options)
  onlyKnownOptions('registerBurrowMetrics options', opts, ['registry', 'prefix'])
  const registry = opts.registry
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option registry must be a prom-client Registry, received ${describe(registry)}`,
    )
  }
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string' || !METRIC_NAME.test(`${prefix}x`)) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option prefix must be a metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*), received ${describe(prefix)}`,
    )
  }
  const names = METRICS.map((metric) => prefix + metric.name)
  const taken = names.find((name) => registry.getSingleMetric(name) !== undefined)
  if (taken !== undefined) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `the registry has a metric named ${taken} already; give another prefix`,
    )
  }
  const stats = onePerScrape(node)
  for (const metric of METRICS) register(metric, prefix + metric.name, registry, stats)
  return () => {
    for (const name of names) registry.removeSingleMetric(name)
  }
}

/** Reads `node.stats()` once per scrape: a registry collects every metric in one go. */
function onePerScrape(node: MetricsSource): () => BurrowStats {
  let cached: BurrowStats | undefined
  return () => {
    if (cached === undefined) {
      cached = node.stats()
      queueMicrotask(() => {
        cached = undefined
      })
    }
    return cached
  }
}

function register(
  metric: MetricDefinition,
  name: string,
  registry: BurrowMetricsOptions['registry'],
  stats: () => BurrowStats,
): void {
  const config = { name, help: metric.help, labelNames: metric.labelNames, registers: [registry] }
  if (metric.type === 'counter') {
    new Counter({
      ...config,
      collect(this: Counter) {
        // The totals are the node's own: each scrape sets them afresh.
        this.reset()
        for (const { labels, value } of metric.samples(stats())) this.inc(labels, value)
      },
    })
  } else {
    new Gauge({
      ...config,
      collect(this: Gauge) {
        this.reset()
        for (const { labels, value } of metric.samples(stats())) this.set(labels, value)
      },
    })
  }
}
