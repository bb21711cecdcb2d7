/**
 * Scenarios `hit-ratio-1k` and `hit-ratio-10k`: the hit ratio of burrow's eviction policy on a
 * Zipf(0.99) trace over 100k keys, with room for 1k and for 10k entries, against Belady's optimal
 * on the same trace (ratio = burrow / optimal). lru-cache's ratio is reported alongside.
 *
 * @module
 */
import { withChild } from '../lib/child.mjs'
import { makeRow, ratioAtLeast } from '../lib/report.mjs'

export const group = 'hit-ratio'
export const names = ['hit-ratio-1k', 'hit-ratio-10k']

const CAPACITIES = { 'hit-ratio-1k': 1_000, 'hit-ratio-10k': 10_000 }

/** @param {{ quick: boolean, log: (s: string) => void, selected: (n: string) => boolean }} ctx */
export async function run(ctx) {
  const params = {
    keys: 100_000,
    requests: ctx.quick ? 200_000 : 1_000_000,
    skew: 0.99,
    seed: 7,
    valueBytes: 32,
  }
  const wanted = names.filter(ctx.selected)
  const capacities = wanted.map((n) => CAPACITIES[n])
  const results = await withChild('hit-ratio.mjs', { name: 'hit-ratio' }, (c) =>
    c.call('run', { ...params, capacities }, ctx.quick ? 50_000 : 180_000),
  )
  const rows = {}
  for (const name of wanted) {
    const capacity = CAPACITIES[name]
    const r = results[capacity]
    ctx.log(
      `  ${capacity} entries: burrow ${r.burrow.toFixed(4)}, lru-cache ${r.lru.toFixed(4)}, optimal ${r.optimal.toFixed(4)} (${r.seconds.toFixed(1)} s)`,
    )
    rows[name] = makeRow({
      burrow: r.burrow,
      anchor: r.optimal,
      ratio: r.burrow / r.optimal,
      unit: 'hit ratio',
      bar: ratioAtLeast(0.95),
      anchorName: "Belady's optimal (MIN)",
      params: {
        ...params,
        capacity,
        lruCacheHitRatio: r.lru,
        lruCacheVsOptimal: r.lru / r.optimal,
        optimalWithoutBypass: r.optimalNoBypass,
        optimalNote: 'optimal may decline to admit a key needed later than every cached one',
        burrowItemsAtEnd: r.burrowItemsAtEnd,
      },
      note: `lru-cache ${r.lru.toFixed(4)} (${(r.lru / r.optimal).toFixed(2)}x optimal); optimal without bypass ${r.optimalNoBypass.toFixed(4)}`,
    })
  }
  return rows
}
