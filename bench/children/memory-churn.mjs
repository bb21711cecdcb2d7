/**
 * Child process of bench/memory-churn.mjs: one node, one namespace, and either nothing (the
 * empty-process baseline) or sustained gets of uniformly random keys out of 10^6, each a 1 KB
 * value (a string, a Uint8Array, or a Buffer viewing a 64 KB chunk) that the namespace's loader
 * makes fresh on every miss. Memory
 * (rss, heapUsed, heapTotal, external, arrayBuffers, and the young generation's committed size) is
 * sampled every `sampleMs`; garbage collections are counted by kind. With `rate` (gets/s, 0: as
 * fast as it goes), gets are paced. With `cache: false`, the same gets call the loader directly:
 * the busy baseline, what the same load costs a process without a cache. `storage` is the
 * namespace's option (`'heap'` or `'offheap'`).
 *
 * Commands: run.
 *
 * @module
 */
import { PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'
import { serve } from '../lib/child.mjs'
import { seededRandom } from '../lib/random.mjs'

// Another build can be measured against this one (bench/memory-churn.mjs --dist).
const { Burrow } = await import(process.env.BURROW_CHURN_DIST || 'burrow')

serve({ run })

/** Digits of a key number: keys are `k0000000` … `k0999999`, 8 ASCII bytes. */
const KEY_DIGITS = 7

/**
 * @param {{ mode: 'empty' | 'string' | 'bytes' | 'slices', maxBytes: number, keys: number, valueBytes: number,
 *   batch: number, rate: number, maxMs: number, maxGets: number, sampleMs: number, seed: number,
 *   storage?: 'heap' | 'offheap', cache?: boolean }} p
 */
async function run(p) {
  const node = new Burrow({ random: () => 0.5 })
  const loaders = { string: stringLoader, bytes: bytesLoader, slices: sliceLoader, empty: stringLoader }
  const load = loaders[p.mode](p.valueBytes)
  const ns = node.namespace('churn', { maxBytes: p.maxBytes, hot: false, load, storage: p.storage ?? 'heap' })
  const get = p.cache === false ? async (key) => load(key) : (key) => ns.get(key)
  const gcs = countGcs()
  const samples = []
  const sample = () => {
    const m = process.memoryUsage()
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
    samples.push({
      t: Date.now() - t0,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      newSpace: young?.space_size ?? 0,
    })
  }
  const t0 = Date.now()
  sample()
  const timer = setInterval(sample, p.sampleMs)
  let gets = 0
  let misses = 0
  try {
    if (p.mode === 'empty') {
      await new Promise((resolve) => setTimeout(resolve, p.maxMs))
    } else {
      const random = seededRandom(p.seed)
      const pending = new Array(p.batch)
      const deadline = t0 + p.maxMs
      while (gets < p.maxGets && Date.now() < deadline) {
        for (let i = 0; i < p.batch; i++) pending[i] = get(keyOf(Math.floor(random() * p.keys)))
        for (let i = 0; i < p.batch; i++) {
          const value = await pending[i]
          if (value === undefined || value.length !== p.valueBytes)
            throw new Error('a get returned a wrong value')
        }
        gets += p.batch
        // One batch a turn of the event loop, as a server handles the requests of one read; with a
        // rate, the next batch waits for its time.
        const due = p.rate > 0 ? t0 + (gets / p.rate) * 1000 - Date.now() : 0
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
        else await new Promise((resolve) => setImmediate(resolve))
      }
      misses = ns.stats().localLoads
    }
  } finally {
    clearInterval(timer)
    gcs.stop()
  }
  sample()
  const stats = ns.stats()
  await node.close()
  return {
    mode: p.mode,
    maxBytes: p.maxBytes,
    seconds: (Date.now() - t0) / 1000,
    gets,
    misses,
    cacheBytes: stats.main.bytes,
    cacheItems: stats.main.items,
    offHeapBytes: stats.storage.offHeapBytes,
    gc: gcs.counts,
    samples,
  }
}

/** The key of number `i`. */
function keyOf(i) {
  return `k${String(i).padStart(KEY_DIGITS, '0')}`
}

/**
 * A loader of fresh flat 1 KB strings, as a database driver would decode them: the key, then
 * filler, read out of a scratch buffer (so each is a new sequential string on the JS heap).
 */
function stringLoader(size) {
  const scratch = Buffer.alloc(size, 0x2e)
  return (key) => {
    scratch.write(key, 0, 'latin1')
    return scratch.latin1Slice(0, size)
  }
}

/** A loader of fresh 1 KB Uint8Arrays, each with its own ArrayBuffer (off the JS heap). */
function bytesLoader(size) {
  return (key) => {
    const bytes = new Uint8Array(size)
    for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i)
    return bytes
  }
}

/**
 * A loader of 1 KB Buffers that are views into 64 KB chunks, as a driver that hands out slices of
 * the chunks it read would return them.
 */
function sliceLoader(size) {
  const chunkBytes = 64 * 1024
  let chunk = Buffer.allocUnsafeSlow(chunkBytes)
  let offset = 0
  return (key) => {
    if (offset + size > chunkBytes) {
      chunk = Buffer.allocUnsafeSlow(chunkBytes)
      offset = 0
    }
    const value = chunk.subarray(offset, offset + size)
    offset += size
    value.fill(0x2e)
    value.write(key, 0, 'latin1')
    return value
  }
}

/** Counts garbage collections by kind (scavenge, mark-compact, …) and their total pause. */
function countGcs() {
  const counts = {}
  const kinds = {
    1: 'scavenge',
    2: 'markCompact',
    4: 'incremental',
    8: 'weakCallbacks',
    16: 'minorMarkCompact',
  }
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[entry.detail?.kind] ?? `kind${entry.detail?.kind}`
      if (counts[kind] === undefined) counts[kind] = { count: 0, ms: 0 }
      counts[kind].count++
      counts[kind].ms += entry.duration
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return { counts, stop: () => observer.disconnect() }
}
