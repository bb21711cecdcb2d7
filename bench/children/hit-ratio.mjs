/**
 * Child process of the hit-ratio scenarios: one Zipf(0.99) trace, replayed through a burrow
 * namespace sized to hold exactly N entries, through lru-cache with max N, and through Belady's
 * optimal (MIN), for each capacity N.
 *
 * Commands: run.
 *
 * @module
 */
import { Burrow, ENTRY_OVERHEAD_BYTES } from 'burrow'
import { LRUCache } from 'lru-cache'
import { serve } from '../lib/child.mjs'
import { KEY_BYTES, keyList } from '../lib/data.mjs'
import { nextUses, optimalHits } from '../lib/optimal.mjs'
import { zipfTrace } from '../lib/random.mjs'

serve({ run })

/** @param {{ keys: number, requests: number, seed: number, skew: number, valueBytes: number, capacities: number[] }} p */
async function run(p) {
  const keys = keyList(p.keys)
  const trace = zipfTrace({ keys: p.keys, length: p.requests, skew: p.skew, seed: p.seed })
  const next = nextUses(trace, p.keys)
  const value = 'v'.repeat(p.valueBytes) // ASCII: its UTF-8 length is its length
  const results = {}
  for (const capacity of p.capacities) {
    const t0 = Date.now()
    const burrow = await burrowHits(trace, keys, capacity, value)
    const lru = lruHits(trace, keys, capacity, value)
    const optimal = optimalHits(trace, next, p.keys, capacity)
    const optimalNoBypass = optimalHits(trace, next, p.keys, capacity, { bypass: false })
    results[capacity] = {
      burrow: burrow.hits / p.requests,
      lru: lru / p.requests,
      optimal: optimal / p.requests,
      optimalNoBypass: optimalNoBypass / p.requests,
      burrowItemsAtEnd: burrow.items,
      seconds: (Date.now() - t0) / 1000,
    }
  }
  return results
}

/** Replays the trace through a namespace whose byte budget fits exactly `capacity` entries. */
async function burrowHits(trace, keys, capacity, value) {
  const entryBytes = KEY_BYTES + value.length + ENTRY_OVERHEAD_BYTES
  const node = new Burrow({ random: () => 0.5 })
  const ns = node.namespace('hits', {
    maxBytes: capacity * entryBytes,
    maxEntryBytes: entryBytes,
    hot: false,
    load: () => value, // synchronous: a miss costs one loader call and no I/O
  })
  for (let i = 0; i < trace.length; i++) await ns.get(keys[trace[i]])
  const s = ns.stats()
  await node.close()
  if (s.gets !== trace.length || s.hits + s.localLoads !== s.gets)
    throw new Error(`unexpected counters ${JSON.stringify(s)}`)
  if (s.main.items !== capacity)
    throw new Error(`burrow held ${s.main.items} entries, expected exactly ${capacity}`)
  return { hits: s.hits, items: s.main.items }
}

/** Replays the trace through lru-cache with max `capacity`, as cache-aside (get; set on a miss). */
function lruHits(trace, keys, capacity, value) {
  const cache = new LRUCache({ max: capacity })
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]]
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, value)
  }
  return hits
}
