import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Lru } from '../src/store/lru.ts'

const sizeOf = (key: string, value: string | Uint8Array) =>
  key.length + (typeof value === 'string' ? value.length : value.length)

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
  fc.record({ op: fc.constant('clear' as const) }),
)

describe('Lru against a model', () => {
  it('answers, orders and evicts exactly like a plain recency list, across slot reuse and growth', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const lru = new Lru(sizeOf)
        let model = new Model()
        for (const o of ops) {
          if (o.op === 'get') expect(lru.get(o.key)).toBe(model.get(o.key))
          else if (o.op === 'peek') expect(lru.peek(o.key)).toBe(model.values.get(o.key))
          else if (o.op === 'set') {
            lru.set(o.key, o.value, sizeOf(o.key, o.value))
            model.set(o.key, o.value)
          } else if (o.op === 'delete') expect(lru.delete(o.key)).toBe(model.delete(o.key))
          else if (o.op === 'evict') expect(lru.evictOldest()).toBe(model.evictOldest())
          else {
            lru.clear()
            model = new Model()
          }
          expect([...lru.keys()]).toEqual(model.order)
          expect(lru.items).toBe(model.values.size)
          expect(lru.bytes).toBe(lru.recount())
        }
      }),
      { numRuns: 300 },
    )
  })

  it('holds thousands of entries through growth and gives every one back', () => {
    const lru = new Lru(sizeOf)
    for (let i = 0; i < 5000; i++) lru.set(`k${i}`, `v${i}`, sizeOf(`k${i}`, `v${i}`))
    for (let i = 0; i < 5000; i += 2) lru.delete(`k${i}`)
    for (let i = 5000; i < 7500; i++) lru.set(`k${i}`, `v${i}`, sizeOf(`k${i}`, `v${i}`))
    expect(lru.items).toBe(5000)
    for (let i = 1; i < 5000; i += 2) expect(lru.peek(`k${i}`)).toBe(`v${i}`)
    for (let i = 5000; i < 7500; i++) expect(lru.peek(`k${i}`)).toBe(`v${i}`)
    expect(lru.bytes).toBe(lru.recount())
  })
})
