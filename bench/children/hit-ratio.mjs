/**
 * Child process of the hit-ratio scenarios: for each case, one seeded trace (bench/lib/traces.mjs)
 * replayed through a burrow namespace sized to hold exactly N entries (W-TinyLFU, the default
 * policy, and `policy: 'lru'`), through lru-cache with max N, and scored against the best fixed
 * set of N keys and Belady's optimal (MIN).
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
import { bestFixedHits, makeTrace } from '../lib/traces.mjs'

serve({ run })

/**
 * @param {{ length: number, keys: number, valueBytes: number,
 *   cases: { name: string, kind: 'zipf' | 'scan' | 'shift' | 'drift', skew: number, seed: number, capacity: number }[] }} p
 */
async function run(p) {
  const value = 'v'.repeat(p.valueBytes) // ASCII: its UTF-8 length is its length
  const results = {}
  for (const c of p.cases) {
    const t0 = Date.now()
    const { trace, keySpace } = makeTrace(c.kind, {
      keys: p.keys,
      length: p.length,
      skew: c.skew,
      seed: c.seed,
    })
    const keys = keyList(keySpace)
    const tinylfu = await burrowHits(trace, keys, c.capacity, value, 'tinylfu')
    const lruPolicy = await burrowHits(trace, keys, c.capacity, value, 'lru')
    const lru = lruCacheHits(trace, keys, c.capacity, value)
    const fixed = bestFixedHits(trace, keySpace, c.capacity)
    const optimal = optimalHits(trace, nextUses(trace, keySpace), keySpace, c.capacity)
    results[c.name] = {
      burrow: tinylfu.hits / p.length,
      burrowLru: lruPolicy.hits / p.length,
      lru: lru / p.length,
      fixed: fixed / p.length,
      optimal: optimal / p.length,
      windowShare: tinylfu.windowShare,
      seconds: (Date.now() - t0) / 1000,
    }
  }
  return results
}

/** Replays the trace through a namespace whose byte budget fits exactly `capacity` entries. */
async function burrowHits(trace, keys, capacity, value, policy) {
  const entryBytes = KEY_BYTES + value.length + ENTRY_OVERHEAD_BYTES
  const node = new Burrow({ random: () => 0.5 })
  const ns = node.namespace('hits', {
    maxBytes: capacity * entryBytes,
    maxEntryBytes: entryBytes,
    hot: false,
    policy,
    load: () => value, // synchronous: a miss costs one loader call and no I/O
  })
  for (let i = 0; i < trace.length; i++) await ns.get(keys[trace[i]])
  const s = ns.stats()
  await node.close()
  if (s.gets !== trace.length || s.hits + s.localLoads !== s.gets)
    throw new Error(`unexpected counters ${JSON.stringify(s)}`)
  if (s.main.bytes > capacity * entryBytes)
    throw new Error(`burrow held ${s.main.bytes} bytes, over its budget`)
  return { hits: s.hits, windowShare: s.admission.windowShare }
}

/** Replays the trace through lru-cache with max `capacity`, as cache-aside (get; set on a miss). */
function lruCacheHits(trace, keys, capacity, value) {
  const cache = new LRUCache({ max: capacity })
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]]
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, value)
  }
  return hits
}
