import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ENTRY_OVERHEAD_BYTES, entrySize, Store } from '../src/store/store.ts'

/** One step against the store: set a key in a part, read it, or delete it. */
const step = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    part: fc.constantFrom('main' as const, 'hot' as const),
    key: fc.string({ maxLength: 6 }),
    size: fc.nat(400),
    multibyte: fc.boolean(),
  }),
  fc.record({ op: fc.constant('get' as const), key: fc.string({ maxLength: 6 }) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.string({ maxLength: 6 }) }),
)

describe('store accounting (property)', () => {
  it('after any sequence of sets, replacements, reads, deletes and evictions, bytes equal the sum of entry sizes and stay within maxBytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.array(step, { maxLength: 300 }),
        (maxBytes, fraction, steps) => {
          const store = new Store(
            {
              maxBytes,
              maxEntryBytes: maxBytes,
              maxHotBytes: Math.floor(maxBytes * fraction),
              staleMs: 0,
            },
            Date.now,
          )
          for (const s of steps) {
            if (s.op === 'set') {
              const value = s.multibyte ? 'é'.repeat(s.size >> 1) : new Uint8Array(s.size)
              const stored = store.set(s.part, s.key, value)
              expect(stored).toBe(
                entrySize(s.key, value) <=
                  Math.min(maxBytes, s.part === 'hot' ? store.limits.maxHotBytes : maxBytes),
              )
              if (stored) expect(store.get(s.key)).toBe(value)
            } else if (s.op === 'get') store.get(s.key)
            else store.delete(s.key)
            expect(store.main.bytes).toBe(store.main.recount())
            expect(store.hot.bytes).toBe(store.hot.recount())
            expect(store.bytes).toBeLessThanOrEqual(maxBytes)
            expect(store.hot.bytes).toBeLessThanOrEqual(store.limits.maxHotBytes)
            const keys = [...store.main.keys()]
            expect(keys.filter((k) => store.hot.has(k))).toEqual([]) // a key lives in one part
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('replacing a key never counts it twice', () => {
    const store = new Store(
      { maxBytes: 10_000, maxEntryBytes: 10_000, maxHotBytes: 1000, staleMs: 0 },
      Date.now,
    )
    for (let i = 0; i < 50; i++) store.set('main', 'k', 'x'.repeat(i))
    expect(store.bytes).toBe(1 + 49 + ENTRY_OVERHEAD_BYTES)
    store.set('hot', 'k', 'y')
    expect(store.main.items).toBe(0)
    expect(store.bytes).toBe(1 + 1 + ENTRY_OVERHEAD_BYTES)
  })
})

describe('store eviction between the parts', () => {
  it('a new main entry is kept by evicting hot copies when main holds nothing else', () => {
    // Found by the property above: the new entry used to evict itself.
    const store = new Store({ maxBytes: 394, maxEntryBytes: 394, maxHotBytes: 64, staleMs: 0 }, Date.now)
    expect(store.set('hot', '', new Uint8Array(0))).toBe(true)
    const value = new Uint8Array(266)
    expect(store.set('main', ' ', value)).toBe(true)
    expect(store.get(' ')).toBe(value)
    expect(store.hot.items).toBe(0)
  })
})
