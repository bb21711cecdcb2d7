/**
 * Child process of the local-hit scenarios: ONE implementation per process, so that the measured
 * call site only ever sees one receiver type. Stores `entries` 1 KB Buffers, then times rounds of
 * lookups along a Zipf(0.99) trace in which every lookup is a hit.
 *
 * Implementations: `burrow-get` (await ns.get), `burrow-peek` (ns.peek),
 * `lru-get-await` (await cache.get), `lru-get` (cache.get).
 *
 * @module
 */
import { Burrow, ENTRY_OVERHEAD_BYTES } from 'burrow'
import { LRUCache } from 'lru-cache'
import { serve } from '../lib/child.mjs'
import { bufferValue, KEY_BYTES, keyList } from '../lib/data.mjs'
import { roundsPerSecond } from '../lib/measure.mjs'
import { zipfTrace } from '../lib/random.mjs'

/** The measured round of this process's implementation, once set up. */
let round

serve({
  /**
   * Builds the data and fills the implementation.
   * @param {{ impl: string, entries: number, valueBytes: number, traceLength: number, seed: number }} p
   */
  async setup(p) {
    const keys = keyList(p.entries)
    const trace = zipfTrace({ keys: p.entries, length: p.traceLength, seed: p.seed })
    // The trace as key strings, made once, so a round measures lookups and nothing else.
    const traceKeys = Array.from(trace, (rank) => keys[rank])
    round = await setUp(p, keys, traceKeys)
    return { opsPerRound: traceKeys.length }
  },

  /**
   * Times rounds (after unmeasured warm-up rounds); called several times, alternating with the
   * other implementation's process, so that machine noise falls on both.
   * @param {{ opsPerRound: number, warmupRounds: number, maxRounds: number, maxMs: number }} p
   */
  measure(p) {
    return roundsPerSecond({ round, ...p })
  },
})

/** Builds and fills the implementation; returns one measured round (throws on any miss). */
async function setUp(p, keys, traceKeys) {
  const checked = (misses) => {
    if (misses !== 0) throw new Error(`${p.impl}: ${misses} misses in a round that should be all hits`)
  }
  if (p.impl.startsWith('burrow')) {
    const node = new Burrow({ random: () => 0.5 })
    const entryBytes = KEY_BYTES + p.valueBytes + ENTRY_OVERHEAD_BYTES
    const ns = node.namespace('test', {
      maxBytes: entryBytes * p.entries * 2,
      hot: false,
      load: (key) => bufferValue(key.length, p.valueBytes),
    })
    for (const key of keys) await ns.get(key) // a single node owns every key: the loader fills it
    if (ns.stats().main.items !== p.entries) throw new Error('burrow did not keep every entry')
    if (p.impl === 'burrow-get') return async () => checked(await burrowGetRound(ns, traceKeys))
    return () => checked(burrowPeekRound(ns, traceKeys))
  }
  const cache = new LRUCache({ max: p.entries })
  for (const key of keys) cache.set(key, bufferValue(key.length, p.valueBytes))
  if (p.impl === 'lru-get-await') return async () => checked(await lruAwaitRound(cache, traceKeys))
  return () => checked(lruGetRound(cache, traceKeys))
}

// One function per implementation: each loop's call site stays monomorphic.

async function burrowGetRound(ns, traceKeys) {
  let misses = 0
  for (let i = 0; i < traceKeys.length; i++) {
    if ((await ns.get(traceKeys[i])) === undefined) misses++
  }
  return misses
}

function burrowPeekRound(ns, traceKeys) {
  let misses = 0
  for (let i = 0; i < traceKeys.length; i++) {
    if (ns.peek(traceKeys[i]) === undefined) misses++
  }
  return misses
}

async function lruAwaitRound(cache, traceKeys) {
  let misses = 0
  for (let i = 0; i < traceKeys.length; i++) {
    if ((await cache.get(traceKeys[i])) === undefined) misses++
  }
  return misses
}

function lruGetRound(cache, traceKeys) {
  let misses = 0
  for (let i = 0; i < traceKeys.length; i++) {
    if (cache.get(traceKeys[i]) === undefined) misses++
  }
  return misses
}
