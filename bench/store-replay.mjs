#!/usr/bin/env node
/**
 * The hit-ratio scenarios' traces replayed straight through a built store (no namespace, no
 * promises), several times faster than `npm run bench`: for trying store changes. Prints, per
 * trace, W-TinyLFU's and LRU's hit ratios, the best fixed set and the window's final share; then,
 * for a trace whose popularity settles after moving (the `shift` trace, then the Zipf(0.99) trace
 * of `zipf 0.99`), the hit ratios of its second half.
 *
 *   npm run build && node bench/store-replay.mjs [--dist path/to/dist] [--length 1000000] [--random 0.5]
 *
 * `--random` is what the store's `random` returns (its hash seed is drawn from it; default 0.5,
 * as in the scenarios): another value shows how much the figures owe to one seed.
 * `--dist` points at another build (e.g. a copy of an older commit's `dist/`), so two builds can
 * be compared on the same traces. Keys are 7 bytes and values 32, as in the scenarios.
 *
 * @module
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { keyList } from './lib/data.mjs'
import { bestFixedHits, makeTrace } from './lib/traces.mjs'

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    length: { type: 'string', default: '1000000' },
    random: { type: 'string', default: '0.5' },
  },
})
const { Store, ENTRY_OVERHEAD_BYTES } = await import(
  pathToFileURL(resolve(values.dist, 'store/store.js')).href
)
const LENGTH = Number(values.length)
const RANDOM = Number(values.random)
if (!(RANDOM >= 0 && RANDOM < 1)) throw new Error(`--random: a number in [0, 1), not ${values.random}`)
const KEYS = 100_000
const VALUE = 'v'.repeat(32)
const CASES = [
  ['zipf 0.99, 1k', 'zipf', 0.99, 7, 1_000],
  ['zipf 0.99, 10k', 'zipf', 0.99, 7, 10_000],
  ['zipf 0.8, 1k', 'zipf', 0.8, 8, 1_000],
  ['scan, 1k', 'scan', 0.99, 10, 1_000],
  ['shift, 1k', 'shift', 0.99, 11, 1_000],
  ['shift, 10k', 'shift', 0.99, 11, 10_000],
  ['drift, 10k', 'drift', 0.99, 12, 10_000],
]

/** A store that fits exactly `capacity` of the traces' entries. */
function storeOf(policy, capacity) {
  const entry = 7 + VALUE.length + ENTRY_OVERHEAD_BYTES
  return new Store(
    { maxBytes: capacity * entry, maxHotBytes: 0, maxEntryBytes: entry, staleMs: 0 },
    () => 0,
    { policy, random: () => RANDOM },
  )
}

/** Cache-aside through a store that fits exactly `capacity` entries; returns hits and the store. */
function replay(policy, trace, keys, capacity) {
  const store = storeOf(policy, capacity)
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]]
    if (store.get(key) !== undefined) hits++
    else store.set('main', key, VALUE)
  }
  return { ratio: hits / trace.length, store }
}

for (const [name, kind, skew, seed, capacity] of CASES) {
  const { trace, keySpace } = makeTrace(kind, { keys: KEYS, length: LENGTH, skew, seed })
  const keys = keyList(keySpace)
  const tinylfu = replay('tinylfu', trace, keys, capacity)
  const lru = replay('lru', trace, keys, capacity).ratio
  const fixed = bestFixedHits(trace, keySpace, capacity) / LENGTH
  const window = tinylfu.store.admission().windowShare
  console.log(
    `${name.padEnd(15)} tinylfu ${tinylfu.ratio.toFixed(4)}  lru ${lru.toFixed(4)}  best fixed ${fixed.toFixed(4)}` +
      `  tinylfu/fixed ${(tinylfu.ratio / fixed).toFixed(3)}  tinylfu/lru ${(tinylfu.ratio / lru).toFixed(3)}  window ${(window * 100).toFixed(1)} %`,
  )
}

// Popularity that settles after moving: a window grown for the first half must come back down.
for (const capacity of [1_000, 10_000]) {
  const moving = makeTrace('shift', { keys: KEYS, length: LENGTH, skew: 0.99, seed: 11 }).trace
  const settled = makeTrace('zipf', { keys: KEYS, length: LENGTH, skew: 0.99, seed: 7 }).trace
  const trace = new Int32Array(2 * LENGTH)
  trace.set(moving)
  trace.set(settled, LENGTH)
  const keys = keyList(KEYS)
  const [tinylfu, lru] = ['tinylfu', 'lru'].map((policy) => secondHalf(policy, trace, keys, capacity))
  const alone = replay('tinylfu', settled, keys, capacity).ratio
  console.log(
    `shift, then zipf 0.99, ${capacity / 1000}k: second half tinylfu ${tinylfu.toFixed(4)}  lru ${lru.toFixed(4)}` +
      `  tinylfu/lru ${(tinylfu / lru).toFixed(3)}  (tinylfu on the zipf trace alone ${alone.toFixed(4)})`,
  )
}

/** Like {@link replay}, but returns the hit ratio of the trace's second half only. */
function secondHalf(policy, trace, keys, capacity) {
  const store = storeOf(policy, capacity)
  const half = trace.length / 2
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]]
    if (store.get(key) !== undefined) {
      if (i >= half) hits++
    } else store.set('main', key, VALUE)
  }
  return hits / half
}
