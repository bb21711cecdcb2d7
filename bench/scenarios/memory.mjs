/**
 * Scenarios `memory-per-entry` (the default `storage: 'heap'`) and `memory-per-entry-offheap`:
 * heap plus ArrayBuffer bytes per stored 1 KB entry (100k entries), burrow against lru-cache
 * holding the same Buffers, each in a child started with --expose-gc. ratio = lru-cache bytes /
 * burrow bytes (above 1: burrow is smaller).
 *
 * @module
 */
import { withChild } from '../lib/child.mjs'
import { makeRow, ratioAtLeast } from '../lib/report.mjs'

export const group = 'memory'
export const names = ['memory-per-entry', 'memory-per-entry-offheap']

/** @param {{ quick: boolean, log: (s: string) => void }} ctx */
export async function run(ctx) {
  const params = { entries: ctx.quick ? 20_000 : 100_000, valueBytes: 1024 }
  const measure = async (impl) => {
    const r = await withChild('memory.mjs', { name: `memory-${impl}`, execArgv: ['--expose-gc'] }, (c) =>
      c.call('run', { impl, ...params }, 60_000),
    )
    if (r.items !== params.entries) throw new Error(`${impl} held ${r.items} of ${params.entries} entries`)
    ctx.log(
      `  ${impl}: ${r.bytesPerEntry.toFixed(1)} B/entry (heap ${r.heapPerEntry.toFixed(1)}, ArrayBuffers ${r.arrayBuffersPerEntry.toFixed(1)})`,
    )
    return r
  }
  const heap = await measure('burrow')
  const offHeap = await measure('burrow-offheap')
  const a = await measure('lru')
  const row = (b, storage) =>
    makeRow({
      burrow: b.bytesPerEntry,
      anchor: a.bytesPerEntry,
      ratio: a.bytesPerEntry / b.bytesPerEntry,
      unit: 'bytes',
      bar: ratioAtLeast(1.0),
      anchorName: 'lru-cache holding Buffers',
      params: {
        ...params,
        storage,
        measured: 'heapUsed + arrayBuffers after gc(), minus the same before building the cache',
        burrowHeapPerEntry: round1(b.heapPerEntry),
        anchorHeapPerEntry: round1(a.heapPerEntry),
        arrayBuffersPerEntry: round1(b.arrayBuffersPerEntry),
      },
    })
  return { 'memory-per-entry': row(heap, 'heap'), 'memory-per-entry-offheap': row(offHeap, 'offheap') }
}

function round1(x) {
  return Math.round(x * 10) / 10
}
