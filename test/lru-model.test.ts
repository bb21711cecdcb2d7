import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Lru, NONE } from '../src/store/lru.ts'

/** The value without touching recency. */
function peek(lru: Lru, key: string) {
  const slot = lru.find(key)
  return slot === NONE ? undefined : lru.valueAt(slot)
}

const sizeOf = (key: string, value: unknown) =>
  key.length + (typeof value === 'string' ? value.length : (value as Uint8Array).length)

/** The obviously correct model: an array of keys from newest to oldest, and a Map of values. */
class Model {
  order: string[] = []
  values = new Map<string, string>()
  get(key: string): string | undefined {
    if (!this.values.has(key)) return undefined
    this.order = [key, ...this.order.filter((k) => k !== key)]
    return this.values.get(key)
  }
  set(key: string, value: string): void {
    this.values.set(key, value)
    this.order = [key, ...this.order.filter((k) => k !== key)]
  }
  delete(key: string): boolean {
    this.order = this.order.filter((k) => k !== key)
    return this.values.delete(key)
  }
  evictOldest(): boolean {
    const oldest = this.order.pop()
    if (oldest === undefined) return false
    this.values.delete(oldest)
    return true
  }
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')
const op = fc.oneof(
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('peek' as const), key }),
  fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 5 }) }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('evict' as const) }),
)

describe('Lru against a model', () => {
  it('answers, orders and evicts exactly like a plain recency list, across slot reuse and growth', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const lru = new Lru(sizeOf)
        const model = new Model()
        for (const o of ops) {
          if (o.op === 'get') expect(lru.get(o.key)).toBe(model.get(o.key))
          else if (o.op === 'peek') expect(peek(lru, o.key)).toBe(model.values.get(o.key))
          else if (o.op === 'set') {
            lru.set(o.key, o.value, sizeOf(o.key, o.value))
            model.set(o.key, o.value)
          } else if (o.op === 'delete') expect(lru.delete(o.key)).toBe(model.delete(o.key))
          else expect(lru.evictOldest()).toBe(model.evictOldest())
          expect([...lru.keys()]).toEqual(model.order)
          expect(lru.items).toBe(model.values.size)
          expect(lru.bytes).toBe(lru.recount())
        }
      }),
      { numRuns: 300 },
    )
  })

  it("keeps each entry's deadline through replacement, slot reuse and growth, and none for entries without one", () => {
    const lru = new Lru(sizeOf)
    lru.set('plain', 'v', sizeOf('plain', 'v'))
    expect(lru.deadlineAt(lru.find('plain'))).toBe(0)
    for (let i = 0; i < 3000; i++) lru.set(`k${i}`, 'v', sizeOf(`k${i}`, 'v'), 1000 + i)
    for (let i = 0; i < 3000; i += 3) lru.delete(`k${i}`)
    for (let i = 0; i < 3000; i += 3) lru.set(`n${i}`, 'v', sizeOf(`n${i}`, 'v'), i % 2 === 0 ? 0 : 5000 + i)
    lru.set('k1', 'w', sizeOf('k1', 'w'), 42)
    expect(lru.deadlineAt(lru.find('plain'))).toBe(0)
    expect(lru.deadlineAt(lru.find('k1'))).toBe(42)
    for (let i = 2; i < 3000; i += 3) expect(lru.deadlineAt(lru.find(`k${i}`))).toBe(1000 + i)
    for (let i = 0; i < 3000; i += 3)
      expect(lru.deadlineAt(lru.find(`n${i}`))).toBe(i % 2 === 0 ? 0 : 5000 + i)
  })

  it('holds thousands of entries through growth and gives every one back', () => {
    const lru = new Lru(sizeOf)
    for (let i = 0; i < 5000; i++) lru.set(`k${i}`, `v${i}`, sizeOf(`k${i}`, `v${i}`))
    for (let i = 0; i < 5000; i += 2) lru.delete(`k${i}`)
    for (let i = 5000; i < 7500; i++) lru.set(`k${i}`, `v${i}`, sizeOf(`k${i}`, `v${i}`))
    expect(lru.items).toBe(5000)
    for (let i = 1; i < 5000; i += 2) expect(peek(lru, `k${i}`)).toBe(`v${i}`)
    for (let i = 5000; i < 7500; i++) expect(peek(lru, `k${i}`)).toBe(`v${i}`)
    expect(lru.bytes).toBe(lru.recount())
  })
})

describe('Lru deadlines', () => {
  it('get drops an entry once its deadline is reached, keeps it through a grace period, and reads the clock only for entries with one', () => {
    let now = 100
    let reads = 0
    const clock = () => {
      reads++
      return now
    }
    const lru = new Lru(sizeOf, clock)
    lru.set('plain', 'p', sizeOf('plain', 'p'))
    lru.set('timed', 't', sizeOf('timed', 't'), 200)
    expect(lru.get('plain')).toBe('p')
    expect(reads).toBe(0)
    expect(lru.get('timed')).toBe('t')
    now = 200
    expect(lru.get('timed')).toBeUndefined()
    expect(lru.has('timed')).toBe(false)
    expect(lru.expired).toBe(1)
    expect(lru.get('plain')).toBe('p')
    expect(reads).toBe(2)

    const graced = new Lru(sizeOf, clock, 50)
    graced.set('k', 'v', sizeOf('k', 'v'), 200)
    now = 249
    expect(graced.get('k')).toBeUndefined() // not fresh ...
    expect(graced.has('k')).toBe(true) // ... but kept, to be served stale
    now = 250
    expect(graced.get('k')).toBeUndefined()
    expect(graced.has('k')).toBe(false)
    expect(graced.bytes).toBe(graced.recount())
  })
})
