/**
 * Child process of the memory-per-entry scenario (started with --expose-gc): the heap and
 * ArrayBuffer bytes that `entries` stored 1 KB Buffers cost in burrow (either storage; the
 * off-heap segments are ArrayBuffers) or in lru-cache. The cache
 * itself is built inside the measured window, so fixed structures it allocates up front count too.
 *
 * Commands: run.
 *
 * @module
 */
import { Burrow, ENTRY_OVERHEAD_BYTES } from 'burrow'
import { LRUCache } from 'lru-cache'
import { serve } from '../lib/child.mjs'
import { bufferValue, KEY_BYTES, keyOf } from '../lib/data.mjs'

/** Holds the cache so it stays reachable through the second measurement. */
let keep

serve({ run })

/** @param {{ impl: 'burrow' | 'burrow-offheap' | 'lru', entries: number, valueBytes: number }} p */
async function run(p) {
  if (typeof globalThis.gc !== 'function') throw new Error('start this child with --expose-gc')
  const before = settledMemory()
  keep = p.impl === 'lru' ? fillLru(p) : await fillBurrow(p, p.impl === 'burrow' ? 'heap' : 'offheap')
  const after = settledMemory()
  const heap = after.heapUsed - before.heapUsed
  const external = after.arrayBuffers - before.arrayBuffers
  return {
    impl: p.impl,
    bytesPerEntry: (heap + external) / p.entries,
    heapPerEntry: heap / p.entries,
    arrayBuffersPerEntry: external / p.entries,
    items: keep.items(),
  }
}

/** Memory after full collections, repeated so that weak and finalised objects are gone too. */
function settledMemory() {
  for (let i = 0; i < 4; i++) globalThis.gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return { heapUsed, arrayBuffers }
}

async function fillBurrow(p, storage) {
  const node = new Burrow({ random: () => 0.5 })
  const ns = node.namespace('mem', {
    maxBytes: (KEY_BYTES + p.valueBytes + ENTRY_OVERHEAD_BYTES) * p.entries * 2,
    hot: false,
    storage,
    load: (key) => bufferValue(key.charCodeAt(6), p.valueBytes),
  })
  for (let i = 0; i < p.entries; i++) await ns.get(keyOf(i))
  return { node, ns, items: () => ns.stats().main.items }
}

function fillLru(p) {
  const cache = new LRUCache({ max: p.entries })
  for (let i = 0; i < p.entries; i++) {
    const key = keyOf(i)
    cache.set(key, bufferValue(key.charCodeAt(6), p.valueBytes))
  }
  return { cache, items: () => cache.size }
}
