#!/usr/bin/env node
/**
 * What `storage: 'offheap'` costs beside `'heap'`, the figures behind BENCHMARKS' "Off the heap":
 *
 * - `hit`: ns per `ns.peek` and per `await ns.get` of a held key, 10,000 keys per namespace, for
 *   strings, Uint8Arrays and Buffers of 32 B, 1 KB and 16 KB; each storage measured twice,
 *   alternating, and the second round printed.
 * - `compaction`: 1.5 M cache-aside gets through a bare store of 32 MiB (1 KB values, 10^6 keys
 *   drawn uniformly or skewed as u^3 / u^6), both policies: hit ratio, bytes moved by compaction per
 *   byte written, the segments' size, and µs per get.
 *
 *   npm run build && node bench/storage-costs.mjs [hit|compaction]   (default: both)
 *
 * @module
 */
import { Burrow } from '../dist/index.js'
import { Store } from '../dist/store/store.js'
import { seededRandom } from './lib/random.mjs'

const which = process.argv[2] ?? 'both'
if (!['hit', 'compaction', 'both'].includes(which))
  throw new Error(`unknown part ${which}: hit, compaction or both`)
if (which !== 'compaction') await hits()
if (which !== 'hit') compaction()

async function hits() {
  const node = new Burrow({ random: () => 0.5 })
  const keys = Array.from({ length: 10_000 }, (_, i) => `key:${i}`)
  const makeValue = (kind, size) =>
    kind === 'string' ? 'x'.repeat(size) : kind === 'buffer' ? Buffer.alloc(size) : new Uint8Array(size)
  let made = 0
  console.log('ns per call, heap -> offheap')
  for (const size of [32, 1024, 16_384]) {
    for (const kind of ['string', 'bytes', 'buffer']) {
      const rounds = []
      for (const storage of ['heap', 'offheap', 'heap', 'offheap']) {
        const value = makeValue(kind, size)
        const ns = node.namespace(`n${made++}`, { storage, maxBytes: 512 * 1024 * 1024, load: () => value })
        for (const key of keys) await ns.get(key)
        let sink = 0
        let t = performance.now()
        for (let r = 0; r < 50; r++) for (const key of keys) sink += ns.peek(key).length
        const peek = ((performance.now() - t) * 1e6) / (50 * keys.length)
        t = performance.now()
        for (let r = 0; r < 20; r++) for (const key of keys) sink += (await ns.get(key)).length
        const get = ((performance.now() - t) * 1e6) / (20 * keys.length)
        if (sink === 0) throw new Error('no value was read')
        rounds.push({ peek, get })
      }
      const [heap, off] = rounds.slice(2)
      const f = (x) => x.toFixed(0).padStart(5)
      console.log(
        `  ${kind.padEnd(6)} ${String(size).padStart(6)} B   peek ${f(heap.peek)} -> ${f(off.peek)}   get ${f(heap.get)} -> ${f(off.get)}`,
      )
    }
  }
  await node.close()
}

function compaction() {
  const maxBytes = 32 * 1024 * 1024
  const gets = 1_500_000
  const value = 'x'.repeat(1024)
  console.log(`compaction: ${gets.toLocaleString('en')} gets, 32 MiB, 1 KB values, 10^6 keys`)
  const draws = [
    ['uniform', (u) => Math.floor(u * 1e6)],
    ['skewed u^3', (u) => Math.floor(1e6 * u ** 3)],
    ['skewed u^6', (u) => Math.floor(1e6 * u ** 6)],
  ]
  for (const [name, draw] of draws) {
    for (const policy of ['lru', 'tinylfu']) {
      const store = new Store(
        { maxBytes, maxEntryBytes: maxBytes / 8, maxHotBytes: 0, staleMs: 0 },
        () => 0,
        {
          storage: 'offheap',
          policy,
          random: () => 0.5,
        },
      )
      const random = seededRandom(7)
      let written = 0
      let hits = 0
      const t0 = performance.now()
      for (let i = 0; i < gets; i++) {
        const key = `k${draw(random())}`
        if (store.get(key) !== undefined) hits++
        else if (store.set('main', key, value)) written += 8 + Buffer.byteLength(key) + value.length
      }
      const { compactedBytes, offHeapBytes } = store.storageStats()
      console.log(
        `  ${name.padEnd(10)} ${policy.padEnd(7)} hit ratio ${(hits / gets).toFixed(3)}, moved / written ` +
          `${(compactedBytes / written).toFixed(2)}, segments ${(offHeapBytes / 2 ** 20).toFixed(0)} MiB, ` +
          `${(((performance.now() - t0) * 1000) / gets).toFixed(2)} µs per get`,
      )
    }
  }
}
