/**
 * Off-heap storage against heap storage: two stores with the same limits, clock and randomness
 * must agree on every answer, order, eviction and count, whatever the keys, kinds and sizes (first
 * written by a review of the off-heap store; it found the shared-pool and large-value copies).
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
// Both stores of a pair draw the same numbers from one seed (hash seed, flood guard).
import { seededRandom as seeded } from '../bench/lib/random.mjs'
import type { StoredValue } from '../src/codec.ts'
import { Arena, RECORD_HEADER } from '../src/store/arena.ts'
import { type Cached, NOT_FOUND } from '../src/store/cached.ts'
import { Store, type StorePolicy } from '../src/store/store.ts'

/** A heap store and an off-heap store with the same limits, clock and randomness: they must agree on everything. */
function twins(policy: StorePolicy, maxBytes: number, hotShare: number, seed: number, clock: { t: number }) {
  const limits = {
    maxBytes,
    maxEntryBytes: maxBytes,
    maxHotBytes: Math.floor(maxBytes * hotShare),
    staleMs: 50,
  }
  return [
    new Store(limits, () => clock.t, { policy, storage: 'heap', random: seeded(seed) }),
    new Store(limits, () => clock.t, { policy, storage: 'offheap', random: seeded(seed) }),
  ] as const
}

const offHeap = (maxBytes: number, policy: StorePolicy = 'lru') =>
  new Store(
    { maxBytes, maxEntryBytes: maxBytes, maxHotBytes: Math.floor(maxBytes / 8), staleMs: 0 },
    () => 0,
    {
      policy,
      storage: 'offheap',
    },
  )

const copyOf = (v: StoredValue): StoredValue =>
  typeof v === 'string' ? v : Buffer.isBuffer(v) ? Buffer.from(v) : Uint8Array.from(v)

const key = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 60 }).map((i) => `k${i}`) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 20 }).map((i) => `ké${i}🦡`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }).map((i) => `x\uD800${i}`) },
  // Past the record limit of a 64 KiB segment (8 KiB): kept on the heap with its value.
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => `${'L'.repeat(9000)}${i}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 5 }) },
)
const value: fc.Arbitrary<Cached> = fc.oneof(
  fc.nat(3000).map((n) => 'a'.repeat(n)),
  fc.nat(1000).map((n) => 'é'.repeat(n)),
  fc.nat(300).map((n) => `s\uDC00${'z'.repeat(n)}`),
  fc.tuple(fc.nat(5000), fc.nat(255)).map(([n, b]) => new Uint8Array(n).fill(b)),
  fc.tuple(fc.nat(5000), fc.nat(255)).map(([n, b]) => Buffer.alloc(n, b)),
  fc.integer({ min: 8000, max: 40_000 }).map((n) => new Uint8Array(n).fill(n & 255)),
  fc.constant(NOT_FOUND),
)
const op = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      part: fc.constantFrom('main' as const, 'main' as const, 'hot' as const),
      key,
      value,
      ttl: fc.constantFrom(0, 0, 10, 100),
    }),
  },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.nat(80) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stale' as const), key }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
)

describe('off-heap storage against heap storage', () => {
  it('answers, orders, evicts and counts exactly like heap storage, whatever the keys, kinds, sizes, parts, deadlines and clears (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<StorePolicy>('lru', 'tinylfu'),
        fc.integer({ min: 1000, max: 300_000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.nat(),
        fc.array(op, { maxLength: 300 }),
        (policy, maxBytes, hotShare, seed, ops) => {
          const clock = { t: 1 }
          const [heap, off] = twins(policy, maxBytes, hotShare, seed, clock)
          const reads: [StoredValue, StoredValue][] = []
          for (const o of ops) {
            if (o.op === 'set') {
              const deadline = o.ttl === 0 ? 0 : clock.t + o.ttl
              expect(off.set(o.part, o.key, o.value, deadline)).toBe(
                heap.set(o.part, o.key, o.value, deadline),
              )
            } else if (o.op === 'get') {
              const read = off.get(o.key)
              expect(read).toStrictEqual(heap.get(o.key))
              if (read !== undefined) reads.push([read, copyOf(read)])
              expect(off.notFound(o.key)).toBe(heap.notFound(o.key))
            } else if (o.op === 'delete') expect(off.delete(o.key)).toBe(heap.delete(o.key))
            else if (o.op === 'tick') clock.t += o.ms
            else if (o.op === 'stale') expect(off.stale(o.key)).toStrictEqual(heap.stale(o.key))
            else {
              heap.clear()
              off.clear()
            }
            expect(off.bytes).toBe(heap.bytes)
            expect([...off.keys('main')]).toEqual([...heap.keys('main')])
            expect([...off.keys('hot')]).toEqual([...heap.keys('hot')])
          }
          for (const part of ['main', 'hot'] as const) {
            expect(off.recount(part)).toBe(heap.recount(part))
            for (const k of [...heap.keys(part)]) expect(off.get(k)).toStrictEqual(heap.get(k))
          }
          expect(off.stats()).toEqual(heap.stats())
          expect(off.storageStats().offHeapBytes).toBeLessThanOrEqual(1.25 * maxBytes + 2 * 65_536)
          // No value handed out earlier changed since (later writes, compactions, pool reuse).
          for (const [read, copy] of reads) expect(read).toStrictEqual(copy)
        },
      ),
      { numRuns: Number(process.env.TWIN_RUNS ?? 30) },
    )
  }, 300_000)

  for (const policy of ['lru', 'tinylfu'] as const)
    it(`agrees with heap storage through 20,000 operations of churn at segment boundaries, hot part included (${policy})`, () => {
      for (const maxBytes of [70_000, 200_000, 3_000_000]) {
        const clock = { t: 1 }
        const [heap, off] = twins(policy, maxBytes, 0.25, maxBytes, clock)
        const random = seeded(maxBytes ^ 0x5eed)
        const pick = (n: number) => Math.floor(random() * n)
        const sizes = [0, 1, 7, 8, 100, 1000, 4096, 4097, 8180, 8192, 9000, 70_000]
        for (let i = 0; i < 20_000; i++) {
          const k = `k${pick(random() < 0.5 ? 50 : 3000)}`
          const r = random()
          if (r < 0.45) {
            const size = sizes[pick(sizes.length)]!
            const byte = pick(256)
            const kind = pick(4)
            const v: Cached =
              kind === 0
                ? String.fromCharCode(97 + (byte % 26)).repeat(size)
                : kind === 1
                  ? new Uint8Array(size).fill(byte)
                  : kind === 2
                    ? Buffer.alloc(size, byte)
                    : NOT_FOUND
            const part = random() < 0.2 ? 'hot' : 'main'
            const deadline = random() < 0.1 ? clock.t + pick(100) : 0
            expect(off.set(part, k, v, deadline)).toBe(heap.set(part, k, v, deadline))
          } else if (r < 0.95) {
            // isDeepStrictEqual: expect's diff of two 70 KB values would take minutes if they differed.
            const [a, b] = [off.get(k), heap.get(k)]
            if (!isDeepStrictEqual(a, b)) expect.unreachable(`op ${i}: ${k} differs`)
          } else if (r < 0.99) expect(off.delete(k)).toBe(heap.delete(k))
          else if (r < 0.999) clock.t += pick(20)
          else {
            heap.clear()
            off.clear()
          }
          if (i % 10_000 === 9999) {
            for (const part of ['main', 'hot'] as const) {
              expect([...off.keys(part)]).toEqual([...heap.keys(part)])
              expect(off.recount(part)).toBe(heap.recount(part))
            }
            expect(off.stats()).toEqual(heap.stats())
          }
        }
        const stats = off.storageStats()
        expect(stats.offHeapBytes).toBeLessThanOrEqual(1.25 * maxBytes + 2 * 65_536)
      }
    }, 300_000)

  it('keeps every record intact and places every record while what is live stays within maxBytes (arena against a model)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.array(fc.tuple(fc.nat(400), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(255)), {
          minLength: 1000,
          maxLength: 3000,
        }),
        (maxBytes, steps) => {
          const arena = new Arena(maxBytes)
          const slots = 400
          arena.grow(slots + 1)
          const model = new Map<number, { length: number; byte: number }>()
          let live = 0
          for (const [slot, fraction, byte] of steps) {
            const old = model.get(slot)
            if (old !== undefined) {
              arena.release(slot)
              model.delete(slot)
              live -= RECORD_HEADER + old.length
            }
            const length = Math.floor(fraction * (arena.maxRecordBytes - RECORD_HEADER))
            if (live + RECORD_HEADER + length > maxBytes) continue
            expect(arena.place(slot, length)).toBe(true)
            arena.segments[arena.segmentOf[slot]!]!.fill(
              byte,
              arena.offsetOf[slot]! + RECORD_HEADER,
              arena.offsetOf[slot]! + RECORD_HEADER + length,
            )
            model.set(slot, { length, byte })
            live += RECORD_HEADER + length
            expect(arena.bytes).toBeLessThanOrEqual(
              Math.ceil((1.25 * maxBytes) / arena.segmentBytes + 1) * arena.segmentBytes,
            )
          }
          for (const [slot, { length, byte }] of model) {
            const segment = arena.segments[arena.segmentOf[slot]!]!
            const at = arena.offsetOf[slot]!
            expect(segment.readUInt32LE(at)).toBe(slot)
            expect(segment.readUInt32LE(at + 4)).toBe(length)
            for (let i = 0; i < length; i++)
              if (segment[at + RECORD_HEADER + i] !== byte) expect.unreachable(`slot ${slot} byte ${i}`)
          }
        },
      ),
      { numRuns: 20 },
    )
  }, 300_000)

  it('gives the same bytes again after clear() and reuse, and frees its segments', () => {
    const store = offHeap(1_000_000)
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3000; i++)
        store.set('main', `k${i}`, Buffer.alloc(300 + (i % 50), (i + round) & 255))
      for (let i = 0; i < 3000; i += 7) {
        const read = store.get(`k${i}`)
        if (read !== undefined) expect(read).toStrictEqual(Buffer.alloc(300 + (i % 50), (i + round) & 255))
      }
      store.clear()
      expect(store.storageStats().offHeapBytes).toBeLessThanOrEqual(256 * 1024)
      expect(store.stats().main.items).toBe(0)
    }
  })

  it('leaves other values, and later reads, intact when a caller transfers the bytes it was given', () => {
    const store = offHeap(1_000_000)
    store.set('main', 'a', Uint8Array.from([1, 2, 3]))
    store.set('main', 'b', Uint8Array.from([4, 5, 6]))
    const a = store.get('a') as Uint8Array
    const b = store.get('b') as Uint8Array
    // As a caller does to hand bytes to a worker: postMessage(a, [a.buffer]).
    structuredClone(a, { transfer: [a.buffer as ArrayBuffer] })
    expect(b).toStrictEqual(Uint8Array.from([4, 5, 6]))
    expect(store.get('b')).toStrictEqual(Uint8Array.from([4, 5, 6]))
  })

  it('hands out bytes that own their ArrayBuffer, as a loaded value is kept (ownValue)', () => {
    const store = offHeap(1_000_000)
    store.set('main', 'small', Uint8Array.from([1, 2, 3]))
    const read = store.get('small') as Uint8Array
    // A 3-byte read must not pin (or expose) a 64 KiB pool of other keys' values.
    expect(read.buffer.byteLength).toBe(3)
  })

  it('hands out a copy of a value too large for a record too, so a caller that changes it changes nothing cached', () => {
    const store = offHeap(64 * 1024 * 1024)
    store.set('main', 'big', new Uint8Array(300_000).fill(1))
    const first = store.get('big') as Uint8Array
    first.fill(9)
    expect((store.get('big') as Uint8Array)[0]).toBe(1)
  })
})
