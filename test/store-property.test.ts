import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SHORT_KEY } from '../src/store/slots.ts'
import { ENTRY_OVERHEAD_BYTES, entrySize, Store } from '../src/store/store.ts'

/**
 * A key: short, or long enough to be kept through the slots' Map rather than their own hash table
 * (longer than `SHORT_KEY`); the long ones share a suffix, so they repeat as often as short ones.
 */
const key = fc
  .tuple(fc.string({ maxLength: 6 }), fc.boolean())
  .map(([k, long]) => (long ? `${k}/a-longer-key`.padEnd(SHORT_KEY + 1, '.') : k))

/** One step against the store: set a key in a part, read it, or delete it. */
const step = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    part: fc.constantFrom('main' as const, 'hot' as const),
    key,
    size: fc.nat(400),
    multibyte: fc.boolean(),
  }),
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('delete' as const), key }),
)

describe('store accounting (property)', () => {
  it('after any sequence of sets, replacements, reads, deletes and evictions, under either policy and either storage, bytes and items equal the entries held and stay within the budgets', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('tinylfu' as const, 'lru' as const),
        fc.constantFrom('heap' as const, 'offheap' as const),
        fc.integer({ min: 0, max: 4000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.array(step, { maxLength: 300, size: 'max' }),
        (policy, storage, maxBytes, fraction, steps) => {
          const store = new Store(
            {
              maxBytes,
              maxEntryBytes: maxBytes,
              maxHotBytes: Math.floor(maxBytes * fraction),
              staleMs: 0,
            },
            Date.now,
            { policy, storage },
          )
          for (const s of steps) {
            if (s.op === 'set') {
              const value = s.multibyte ? 'é'.repeat(s.size >> 1) : new Uint8Array(s.size)
              const stored = store.set(s.part, s.key, value)
              const fits =
                entrySize(s.key, value) <=
                Math.min(maxBytes, s.part === 'hot' ? store.limits.maxHotBytes : maxBytes)
              // W-TinyLFU may refuse an entry that fits (it lost its place); LRU refuses nothing that fits.
              if (policy === 'tinylfu') expect(!stored || fits).toBe(true)
              else expect(stored).toBe(fits)
              // Off the heap, a read is a copy of what was stored: equal, of the same class.
              if (stored && storage === 'heap') expect(store.get(s.key)).toBe(value)
              else if (stored) expect(store.get(s.key)).toStrictEqual(value)
            } else if (s.op === 'get') store.get(s.key)
            else store.delete(s.key)
            const { main, hot } = store.stats()
            expect(main.bytes).toBe(store.recount('main'))
            expect(hot.bytes).toBe(store.recount('hot'))
            const mainKeys = [...store.keys('main')]
            const hotKeys = [...store.keys('hot')]
            expect(main.items).toBe(mainKeys.length)
            expect(hot.items).toBe(hotKeys.length)
            expect(store.bytes).toBeLessThanOrEqual(maxBytes)
            expect(hot.bytes).toBeLessThanOrEqual(store.limits.maxHotBytes)
            expect(mainKeys.filter((k) => hotKeys.includes(k))).toEqual([]) // a key lives in one part
            expect(new Set(mainKeys).size).toBe(mainKeys.length)
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('counts entries of 64 KiB and more exactly once smaller ones are held (sizes outgrow two bytes)', () => {
    for (const policy of ['tinylfu', 'lru'] as const) {
      for (const storage of ['heap', 'offheap'] as const) {
        const maxBytes = 4 * 1024 * 1024
        const store = new Store({ maxBytes, maxEntryBytes: maxBytes, maxHotBytes: 0, staleMs: 0 }, Date.now, {
          policy,
          storage,
        })
        // The first large entry comes before the arrays grow (16 slots), the second after.
        const large = new Uint8Array(70_000 + 3).map((_, i) => i % 251)
        const huge = new Uint8Array(300_000 + 5).map((_, i) => i % 253)
        const same = (a: unknown, b: Uint8Array) => a instanceof Uint8Array && Buffer.from(a).equals(b)
        expect(store.set('main', 'large', large)).toBe(true)
        let smallBytes = 0
        for (let i = 0; i < 100; i++) {
          store.set('main', `small-${i}`, new Uint8Array(100 + i))
          smallBytes += entrySize(`small-${i}`, new Uint8Array(100 + i))
        }
        expect(store.set('main', 'huge', huge)).toBe(true)
        expect(same(store.get('large'), large)).toBe(true)
        expect(same(store.get('huge'), huge)).toBe(true)
        expect(store.get('small-7')).toStrictEqual(new Uint8Array(107))
        expect(store.stats().main.bytes).toBe(store.recount('main'))
        expect(store.bytes).toBe(entrySize('large', large) + entrySize('huge', huge) + smallBytes)
        store.delete('large')
        expect(store.bytes).toBe(entrySize('huge', huge) + smallBytes)
        store.set('main', 'huge', new Uint8Array(10))
        expect(store.bytes).toBe(entrySize('huge', new Uint8Array(10)) + smallBytes)
        expect(store.stats().main.bytes).toBe(store.recount('main'))
      }
    }
  })

  it('replacing a key never counts it twice', () => {
    const store = new Store(
      { maxBytes: 10_000, maxEntryBytes: 10_000, maxHotBytes: 1000, staleMs: 0 },
      Date.now,
    )
    for (let i = 0; i < 50; i++) store.set('main', 'k', 'x'.repeat(i))
    expect(store.bytes).toBe(1 + 49 + ENTRY_OVERHEAD_BYTES)
    store.set('hot', 'k', 'y')
    expect(store.stats().main.items).toBe(0)
    expect(store.bytes).toBe(1 + 1 + ENTRY_OVERHEAD_BYTES)
  })
})

describe('store eviction between the parts', () => {
  for (const policy of ['lru', 'tinylfu'] as const) {
    it(`a new main entry is kept by evicting hot copies when main holds nothing else (${policy})`, () => {
      // Found by the property above: the new entry used to evict itself.
      const store = new Store({ maxBytes: 394, maxEntryBytes: 394, maxHotBytes: 64, staleMs: 0 }, Date.now, {
        policy,
      })
      expect(store.set('hot', '', new Uint8Array(0))).toBe(true)
      const value = new Uint8Array(266)
      store.get(' ') // a miss: under W-TinyLFU, the ask that makes it more wanted than the copy
      expect(store.set('main', ' ', value)).toBe(true)
      expect(store.get(' ')).toBe(value)
      expect(store.stats().hot.items).toBe(0)
    })
  }
})
