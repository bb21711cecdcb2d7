import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ArenaSlots } from '../src/store/arena-slots.ts'
import { homeOf, KeyTable } from '../src/store/key-table.ts'
import { hashKey } from '../src/store/sketch.ts'
import { FLOOD_PROBES, HeapSlots, NONE, PROBATION, SHORT_KEY } from '../src/store/slots.ts'

/** The slots whose hash is `hash`, found as the stores find them: from the home bucket to the first empty one. */
function probe(table: KeyTable, hash: number): number[] {
  const { buckets, hashes } = table
  const found: number[] = []
  for (let bucket = homeOf(hash, buckets.length), seen = 0; seen < buckets.length; seen++) {
    const entry = buckets[bucket]!
    if (entry === 0) return found
    if (hashes[entry - 1] === hash) found.push(entry - 1)
    if (++bucket === buckets.length) bucket = 0
  }
  throw new Error('no empty bucket: a lookup of a missing key would never end')
}

describe('KeyTable', () => {
  it('finds every slot entered and none removed, after any adds and removes (hashes that collide and wrap)', () => {
    // Few distinct hashes, among them the ones whose home is the first and the last bucket, so
    // runs are long, cross the table's end and are shifted back by removals.
    const hash = fc.oneof(
      fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x12345678, 0xdeadbeef),
      fc.integer({ min: 0, max: 0xffffffff }),
    )
    // Three adds to a removal, in runs as long as allowed: the table grows and rebuilds many times.
    const op = fc.oneof(
      { arbitrary: fc.record({ add: fc.constant(true), hash }), weight: 3 },
      { arbitrary: fc.record({ add: fc.constant(false), pick: fc.nat() }), weight: 1 },
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400, size: 'max' }), (ops) => {
        const table = new KeyTable(4)
        let slots = 4
        const held = new Map<number, number>() // slot -> hash
        const free: number[] = [3, 2, 1, 0]
        for (const o of ops) {
          if (o.add) {
            if (free.length === 0) {
              table.growSlots(slots * 2)
              for (let s = slots * 2 - 1; s >= slots; s--) free.push(s)
              slots *= 2
            }
            const slot = free.pop()!
            table.add(slot, o.hash)
            held.set(slot, o.hash)
          } else if (held.size > 0) {
            const slot = [...held.keys()][o.pick % held.size]!
            table.remove(slot)
            held.delete(slot)
            free.push(slot)
          }
          const inBuckets = table.buckets.filter((entry) => entry !== 0)
          expect(inBuckets.length).toBe(held.size)
          expect(held.size * 4).toBeLessThanOrEqual(table.buckets.length * 3)
          const byHash = new Map<number, number[]>()
          for (const [slot, h] of held) {
            expect(table.hashes[slot]).toBe(h)
            byHash.set(h, [...(byHash.get(h) ?? []), slot])
          }
          // Probing from each hash's home finds exactly the slots entered with it.
          for (const [h, expected] of byHash) expect(probe(table, h).sort()).toEqual(expected.sort())
        }
      }),
      { numRuns: 15 },
    )
  })

  it('spreads hashes over every bucket by their high bits, whatever the table length', () => {
    for (const length of [16, 24, 100, 1000, 147_457]) {
      expect(homeOf(0, length)).toBe(0)
      expect(homeOf(0xffffffff, length)).toBe(length - 1)
      expect(homeOf(0x80000000, length)).toBe(Math.floor(length / 2))
    }
  })

  it.each([
    ['heap', (seed: number) => new HeapSlots(() => 1, seed)],
    ['offheap', (seed: number) => new ArenaSlots(() => 1, seed, 1 << 20)],
  ] as const)(
    '%s slots move every key into a Map once keys crowd one run (a hash flood), and find them all there',
    (_, make) => {
      const seed = 7
      // Short keys whose hashes have 12 leading zero bits: their home is bucket 0 in any table of up
      // to 4,096 buckets, so each one lands a bucket further out than the last.
      const crowd: string[] = []
      for (let i = 0; crowd.length < FLOOD_PROBES + 64; i++) {
        const key = `f${i}`
        if (hashKey(key, seed) < 0x100000) crowd.push(key)
      }
      expect(crowd.every((key) => key.length <= SHORT_KEY)).toBe(true)
      const slots = make(seed)
      const plain = Array.from({ length: 300 }, (_, i) => `p${i}`)
      const long = Array.from({ length: 50 }, (_, i) => `a-key-longer-than-short-${i}`)
      const slotOf = new Map<string, number>()
      for (const key of [...plain, ...long, ...crowd.slice(0, 500)])
        slotOf.set(key, slots.insert(key, key, 1, PROBATION, 0))
      expect(slots.flooded).toBe(false)
      for (const key of crowd.slice(500)) slotOf.set(key, slots.insert(key, key, 1, PROBATION, 0))
      expect(slots.flooded).toBe(true)
      for (const [key, slot] of slotOf) {
        expect(slots.find(key)).toBe(slot)
        expect(slots.keyAt(slot)).toBe(key)
        expect(slots.valueAt(slot)).toBe(key)
        expect(slots.hashAt(slot)).toBe(hashKey(key, seed))
      }
      // Removal and insertion still work on the Map alone.
      for (const key of [...plain.slice(0, 100), ...crowd.slice(0, 100), ...long.slice(0, 10)]) {
        slots.remove(slotOf.get(key)!)
        slotOf.delete(key)
        expect(slots.find(key)).toBe(NONE)
      }
      const again = slots.insert('p0', 'p0', 1, PROBATION, 0)
      expect(slots.find('p0')).toBe(again)
      expect(slots.size).toBe(slotOf.size + 1)
      for (const [key, slot] of slotOf) expect(slots.find(key)).toBe(slot)
    },
  )
})
