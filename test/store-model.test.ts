import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { StoredValue } from '../src/codec.ts'
import { entrySize, Store, type StoreStorage } from '../src/store/store.ts'

/** The obviously correct LRU: keys from newest to oldest, a Map of values, evicting the oldest over budget. */
class Model {
  order: string[] = []
  values = new Map<string, string>()
  readonly maxBytes: number
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }
  get(key: string): string | undefined {
    if (!this.values.has(key)) return undefined
    this.order = [key, ...this.order.filter((k) => k !== key)]
    return this.values.get(key)
  }
  set(key: string, value: string): void {
    this.values.set(key, value)
    this.order = [key, ...this.order.filter((k) => k !== key)]
    while (this.bytes() > this.maxBytes) this.values.delete(this.order.pop()!)
  }
  delete(key: string): boolean {
    this.order = this.order.filter((k) => k !== key)
    return this.values.delete(key)
  }
  bytes(): number {
    let total = 0
    for (const [k, v] of this.values) total += entrySize(k, v)
    return total
  }
}

const lruStore = (
  maxBytes: number,
  now: () => number = Date.now,
  staleMs = 0,
  storage: StoreStorage = 'heap',
) =>
  new Store({ maxBytes, maxEntryBytes: maxBytes, maxHotBytes: 0, staleMs }, now, { policy: 'lru', storage })

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')
const op = fc.oneof(
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 30 }) }),
  fc.record({ op: fc.constant('delete' as const), key }),
)

describe("the store's LRU policy against a model", () => {
  for (const storage of ['heap', 'offheap'] as const)
    it(`answers, orders and evicts exactly like a plain recency list, across slot reuse and growth (${storage})`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 70, max: 600 }), fc.array(op, { maxLength: 400 }), (maxBytes, ops) => {
          const store = lruStore(maxBytes, Date.now, 0, storage)
          const model = new Model(maxBytes)
          for (const o of ops) {
            if (o.op === 'get') expect(store.get(o.key)).toBe(model.get(o.key))
            else if (o.op === 'set') {
              if (!store.fits('main', o.key, o.value)) continue
              store.set('main', o.key, o.value)
              model.set(o.key, o.value)
            } else expect(store.delete(o.key)).toBe(model.delete(o.key))
            expect([...store.keys('main')]).toEqual(model.order)
            expect(store.bytes).toBe(model.bytes())
            expect(store.stats().main.bytes).toBe(store.recount('main'))
          }
        }),
        { numRuns: 300 },
      )
    })

  for (const storage of ['heap', 'offheap'] as const)
    it(`holds thousands of entries through growth and gives every one back (${storage})`, () => {
      const store = lruStore(10_000_000, Date.now, 0, storage)
      for (let i = 0; i < 5000; i++) store.set('main', `k${i}`, `v${i}`)
      for (let i = 0; i < 5000; i += 2) store.delete(`k${i}`)
      for (let i = 5000; i < 7500; i++) store.set('main', `k${i}`, `v${i}`)
      expect(store.stats().main.items).toBe(5000)
      for (let i = 1; i < 5000; i += 2) expect(store.get(`k${i}`)).toBe(`v${i}`)
      for (let i = 5000; i < 7500; i++) expect(store.get(`k${i}`)).toBe(`v${i}`)
      expect(store.bytes).toBe(store.recount('main'))
    })
})

describe('store deadlines', () => {
  for (const policy of ['tinylfu', 'lru'] as const) {
    it(`keeps each entry's deadline through replacement, slot reuse and growth, and none for entries without one (${policy})`, () => {
      const store = new Store({ maxBytes: 1e9, maxEntryBytes: 1e9, maxHotBytes: 0, staleMs: 0 }, () => 0, {
        policy,
      })
      store.set('main', 'plain', 'v')
      for (let i = 0; i < 3000; i++) store.set('main', `k${i}`, 'v', 1000 + i)
      for (let i = 0; i < 3000; i += 3) store.delete(`k${i}`)
      for (let i = 0; i < 3000; i += 3) store.set('main', `n${i}`, 'v', i % 2 === 0 ? 0 : 5000 + i)
      store.set('main', 'k1', 'w', 42)
      // The deadline the entry of `key` was found with (the clock stands at 0: every entry is fresh).
      const deadlineOf = (key: string) => (store.get(key) === undefined ? undefined : store.hitDeadline)
      expect(deadlineOf('plain')).toBe(0)
      expect(deadlineOf('k1')).toBe(42)
      for (let i = 2; i < 3000; i += 3) expect(deadlineOf(`k${i}`)).toBe(1000 + i)
      for (let i = 0; i < 3000; i += 3) expect(deadlineOf(`n${i}`)).toBe(i % 2 === 0 ? 0 : 5000 + i)
    })
  }

  it('get drops an entry once its deadline is reached, keeps a main entry through the stale window, and reads the clock only for entries with a deadline', () => {
    let now = 100
    let reads = 0
    const clock = () => {
      reads++
      return now
    }
    const store = new Store({ maxBytes: 1e6, maxEntryBytes: 1e6, maxHotBytes: 1e5, staleMs: 50 }, clock)
    store.set('main', 'plain', 'p')
    store.set('main', 'timed', 't', 200)
    store.set('hot', 'copy', 'c', 200)
    expect(store.get('plain')).toBe('p')
    expect(reads).toBe(0)
    expect(store.get('timed')).toBe('t')
    now = 200
    expect(store.get('copy')).toBeUndefined() // a hot copy has no stale window: gone
    expect(store.recount('hot')).toBe(0) // the copy's entry is gone, not only unserved
    expect(store.get('timed')).toBeUndefined() // not fresh ...
    expect(store.stale('timed')).toBe('t') // ... but kept, to be served stale
    now = 250
    expect(store.get('timed')).toBeUndefined()
    expect(store.recount('main')).toBe(entrySize('plain', 'p')) // only 'plain' is left
    expect(store.expired).toBe(2)
    expect(store.get('plain')).toBe('p')
    expect(store.bytes).toBe(store.recount('main') + store.recount('hot'))
  })
})

describe('expired entries leave first', () => {
  for (const policy of ['tinylfu', 'lru'] as const) {
    it(`when room is needed, entries past their deadline (and stale window) are dropped before any live one (${policy})`, () => {
      let now = 0
      const value = (i: number): StoredValue => `value-${String(i).padStart(4, '0')}`
      const size = entrySize('k000', value(0))
      const store = new Store(
        { maxBytes: size * 20, maxEntryBytes: size, maxHotBytes: 0, staleMs: 10 },
        () => now,
        { policy, random: () => 0.5 },
      )
      // Ten live entries, asked for often (so W-TinyLFU would keep them anyway), and ten that die at 100.
      for (let i = 0; i < 10; i++) store.set('main', `k${String(i).padStart(3, '0')}`, value(i))
      for (let i = 10; i < 20; i++) store.set('main', `k${String(i).padStart(3, '0')}`, value(i), 100)
      now = 105 // past the deadline, inside the stale window: still servable stale
      expect(store.stale('k015')).toBe(value(15))
      now = 110 // past the stale window: dead
      for (let i = 21; i < 31; i++) store.set('main', `k${String(i).padStart(3, '0')}`, value(i))
      for (let i = 0; i < 10; i++) expect(store.get(`k${String(i).padStart(3, '0')}`)).toBe(value(i))
      for (let i = 21; i < 31; i++) expect(store.get(`k${String(i).padStart(3, '0')}`)).toBe(value(i))
      expect(store.expired).toBe(10)
      expect(store.bytes).toBeLessThanOrEqual(size * 20)
    })
  }
})

describe('the store stays whole', () => {
  it('a stored buffer that changes length later (transferred to a worker) skews no count and stops no set', () => {
    const store = new Store(
      { maxBytes: 100_000, maxEntryBytes: 100_000, maxHotBytes: 0, staleMs: 0 },
      () => 0,
      {
        random: () => 0.5,
      },
    )
    const value = new Uint8Array(500)
    store.set('main', 'a', value)
    const bytes = store.bytes
    structuredClone(value, { transfer: [value.buffer] }) // value.length is 0 from here on
    for (let i = 0; i < 2000; i++) store.get(`miss${i}`) // samples end: the window may shrink to nothing
    for (let i = 0; i < 50; i++) expect(store.set('main', `b${i}`, 'x')).toBe(true)
    expect(store.stats().main.items).toBe(51)
    let added = 0
    for (let i = 0; i < 50; i++) added += entrySize(`b${i}`, 'x')
    expect(store.bytes).toBe(bytes + added)
    expect(store.delete('a')).toBe(true)
    expect(store.bytes).toBe(store.recount('main'))
  })

  it('an eviction listener may write to the store: it is told once the store is whole', () => {
    const store = new Store({ maxBytes: 600, maxEntryBytes: 600, maxHotBytes: 0, staleMs: 0 }, () => 0, {
      random: () => 0.5,
    })
    for (const key of ['a', 'b', 'c', 'e']) store.set('main', key, 'x'.repeat(60))
    for (let i = 0; i < 5; i++) store.get('d')
    for (let i = 0; i < 9; i++) store.get('z')
    const told: string[] = []
    store.onEvict = (key, part) => {
      told.push(`${key}:${part}`)
      if (told.length === 1) store.set('main', 'z', 'z'.repeat(200))
    }
    expect(store.set('main', 'd', 'x'.repeat(100))).toBe(true)
    expect(store.get('d')).toBe('x'.repeat(100))
    expect(told.length).toBeGreaterThan(0)
    expect(store.bytes).toBeLessThanOrEqual(600)
    expect(store.bytes).toBe(store.recount('main'))
    expect(store.stats().main.items).toBe([...store.keys('main')].length)
  })
})
