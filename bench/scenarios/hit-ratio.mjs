/**
 * Scenarios `hit-ratio-*`: the hit ratio of burrow's eviction policy (W-TinyLFU, the default) on
 * seeded traces of 100k keys (bench/lib/traces.mjs), with room for 1k or 10k entries, against the
 * anchor each bar of DESIGN.md §7 names:
 *
 * - Zipf traces (`hit-ratio-1k`, `-10k`: skew 0.99; `hit-ratio-zipf08`: 0.8): the best fixed set
 *   of keys, ratio >= 0.96.
 * - `hit-ratio-scan` (a fifth of the requests one-off scans): lru-cache, burrow >= LRU + 0.06.
 * - `hit-ratio-shift-*` (popular keys replaced every 100k requests) and `hit-ratio-drift-*`
 *   (popular keys sliding all the time): lru-cache, ratio >= 0.98.
 *
 * Every row also reports lru-cache, burrow with `policy: 'lru'`, the best fixed set and Belady's
 * optimal (which knows the future: reported, not a bar).
 *
 * @module
 */
import { withChild } from '../lib/child.mjs'
import { makeRow, ratioAtLeast } from '../lib/report.mjs'

export const group = 'hit-ratio'

const CASES = [
  { name: 'hit-ratio-1k', kind: 'zipf', skew: 0.99, seed: 7, capacity: 1_000, anchor: 'fixed' },
  { name: 'hit-ratio-10k', kind: 'zipf', skew: 0.99, seed: 7, capacity: 10_000, anchor: 'fixed' },
  { name: 'hit-ratio-zipf08', kind: 'zipf', skew: 0.8, seed: 8, capacity: 1_000, anchor: 'fixed' },
  { name: 'hit-ratio-scan', kind: 'scan', skew: 0.99, seed: 10, capacity: 1_000, anchor: 'scan' },
  { name: 'hit-ratio-shift-1k', kind: 'shift', skew: 0.99, seed: 11, capacity: 1_000, anchor: 'lru' },
  { name: 'hit-ratio-shift-10k', kind: 'shift', skew: 0.99, seed: 11, capacity: 10_000, anchor: 'lru' },
  { name: 'hit-ratio-drift-10k', kind: 'drift', skew: 0.99, seed: 12, capacity: 10_000, anchor: 'lru' },
]

export const names = CASES.map((c) => c.name)

/** Bar: burrow's hit ratio at least lru-cache's plus `margin`. */
function aboveLru(margin) {
  return {
    text: `burrow >= LRU + ${margin.toFixed(2)}`,
    check: (row) => row.burrow !== null && row.anchor !== null && row.burrow >= row.anchor + margin,
  }
}

/** @param {{ quick: boolean, log: (s: string) => void, selected: (n: string) => boolean }} ctx */
export async function run(ctx) {
  const params = { keys: 100_000, length: ctx.quick ? 200_000 : 1_000_000, valueBytes: 32 }
  const cases = CASES.filter((c) => ctx.selected(c.name))
  const results = await withChild('hit-ratio.mjs', { name: 'hit-ratio' }, (c) =>
    c.call('run', { ...params, cases }, ctx.quick ? 120_000 : 600_000),
  )
  const rows = {}
  for (const c of cases) {
    const r = results[c.name]
    const f = (x) => x.toFixed(4)
    ctx.log(
      `  ${c.name}: burrow ${f(r.burrow)} (window ${(r.windowShare * 100).toFixed(1)} %), lru policy ${f(r.burrowLru)}, lru-cache ${f(r.lru)}, best fixed set ${f(r.fixed)}, optimal ${f(r.optimal)} (${r.seconds.toFixed(1)} s)`,
    )
    const anchor = c.anchor === 'fixed' ? r.fixed : r.lru
    rows[c.name] = makeRow({
      burrow: r.burrow,
      anchor,
      ratio: r.burrow / anchor,
      unit: 'hit ratio',
      bar:
        c.anchor === 'fixed' ? ratioAtLeast(0.96) : c.anchor === 'scan' ? aboveLru(0.06) : ratioAtLeast(0.98),
      anchorName: c.anchor === 'fixed' ? 'the best fixed set of keys' : 'lru-cache (LRU)',
      params: {
        ...params,
        ...c,
        lruCache: r.lru,
        burrowLruPolicy: r.burrowLru,
        bestFixedSet: r.fixed,
        optimal: r.optimal,
      },
      note: `lru-cache ${f(r.lru)}, burrow policy lru ${f(r.burrowLru)}, best fixed ${f(r.fixed)}, optimal ${f(r.optimal)}`,
    })
  }
  return rows
}
