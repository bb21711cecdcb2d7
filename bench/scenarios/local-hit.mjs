/**
 * Scenarios `local-hit-async` and `local-hit-peek`: the cost of a cache hit in the calling
 * process. 100k entries of 1 KB, all preloaded, looked up along a Zipf(0.99) trace, compared with
 * lru-cache holding the same data.
 *
 * Each implementation runs in a child process of its own (monomorphic call sites, separate
 * heaps). Both children are set up first; then they take turns measuring a few rounds each, so
 * that a burst of noise on the machine lands on both rather than on whichever ran during it. The
 * figure is the median over every measured round.
 *
 * @module
 */
import { startChild } from '../lib/child.mjs'
import { median } from '../lib/measure.mjs'
import { makeRow, ratioAtLeast } from '../lib/report.mjs'

export const group = 'local-hit'
export const names = ['local-hit-async', 'local-hit-peek']

const PAIRS = [
  {
    name: 'local-hit-async',
    burrow: 'burrow-get',
    anchor: 'lru-get-await',
    anchorName: 'await lru-cache.get',
  },
  { name: 'local-hit-peek', burrow: 'burrow-peek', anchor: 'lru-get', anchorName: 'lru-cache.get' },
]

/** @param {{ quick: boolean, log: (s: string) => void, selected: (name: string) => boolean }} ctx */
export async function run(ctx) {
  const params = {
    entries: ctx.quick ? 20_000 : 100_000,
    valueBytes: 1024,
    zipfSkew: 0.99,
    traceLength: ctx.quick ? 1 << 18 : 1 << 20,
    seed: 42,
    passes: ctx.quick ? 2 : 4,
    roundsPerPass: ctx.quick ? 1 : 3,
    maxMsPerPass: ctx.quick ? 1000 : 3000,
    statistic: 'median of all rounds',
  }
  const rows = {}
  for (const pair of PAIRS) {
    if (!ctx.selected(pair.name)) continue
    const { burrow, anchor } = await measurePair(ctx, pair, params)
    rows[pair.name] = makeRow({
      burrow: burrow.opsPerSec,
      anchor: anchor.opsPerSec,
      ratio: burrow.opsPerSec / anchor.opsPerSec,
      unit: 'ops/s',
      bar: ratioAtLeast(1.0),
      anchorName: pair.anchorName,
      params: { ...params, burrowRounds: burrow.rounds, anchorRounds: anchor.rounds },
    })
  }
  return rows
}

/** Sets up both implementations, then alternates measuring passes between them. */
async function measurePair(ctx, pair, params) {
  const impls = [pair.burrow, pair.anchor]
  const children = impls.map((impl) => startChild('local-hit.mjs', { name: impl }))
  try {
    const setups = await Promise.all(
      children.map((c, i) => c.call('setup', { ...params, impl: impls[i] }, 90_000)),
    )
    const rounds = [[], []]
    for (let pass = 0; pass < params.passes; pass++) {
      for (let i = 0; i < 2; i++) {
        const r = await children[i].call(
          'measure',
          {
            opsPerRound: setups[i].opsPerRound,
            warmupRounds: pass === 0 ? 2 : 1,
            maxRounds: params.roundsPerPass,
            maxMs: params.maxMsPerPass,
          },
          60_000,
        )
        rounds[i].push(...r.rounds)
      }
    }
    const [burrow, anchor] = rounds.map((r) => ({ opsPerSec: median(r), rounds: r }))
    ctx.log(`  ${pair.burrow}: ${Math.round(burrow.opsPerSec)} ops/s (rounds ${burrow.rounds.join(', ')})`)
    ctx.log(`  ${pair.anchor}: ${Math.round(anchor.opsPerSec)} ops/s (rounds ${anchor.rounds.join(', ')})`)
    return { burrow, anchor }
  } finally {
    await Promise.all(children.map((c) => c.kill()))
  }
}
