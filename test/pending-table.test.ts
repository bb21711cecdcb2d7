import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PendingTable } from '../src/transport/client/pending.ts'

describe('PendingTable', () => {
  it('behaves like a Map of ids in order, through growth and wrap-around (property)', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('add' as const), n: fc.integer({ min: 1, max: 200 }) }),
      fc.record({ op: fc.constant('take' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('takeOldest' as const) }),
      fc.record({ op: fc.constant('drain' as const) }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const table = new PendingTable<{ id: number; tag: number }>()
        const model = new Map<number, { id: number; tag: number }>()
        let tag = 0
        for (const s of steps) {
          if (s.op === 'add') {
            for (let i = 0; i < s.n; i++) {
              const item = { id: 0, tag: tag++ }
              const id = table.add(item)
              expect(item.id).toBe(id)
              model.set(id, item)
            }
          } else if (s.op === 'take') {
            const ids = [...model.keys()]
            const id = ids.length === 0 ? s.pick : ids[s.pick % ids.length]!
            expect(table.take(id)).toBe(model.get(id))
            model.delete(id)
            expect(table.take(id)).toBeUndefined() // taken once only
          } else if (s.op === 'takeOldest') {
            const oldest = table.oldest()
            expect(oldest).toBe(model.values().next().value)
            if (oldest !== undefined) {
              table.take(oldest.id)
              model.delete(oldest.id)
            }
          } else {
            expect(table.drain()).toEqual([...model.values()])
            model.clear()
          }
          expect(table.size).toBe(model.size)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('ignores ids it never gave out, and keeps a request that outlives many newer ones', () => {
    const table = new PendingTable<{ id: number }>()
    expect(table.take(0)).toBeUndefined()
    expect(table.take(-1)).toBeUndefined()
    expect(table.take(1.5)).toBeUndefined()
    expect(table.take(999)).toBeUndefined()
    const slow = { id: 0 }
    table.add(slow)
    for (let i = 0; i < 10_000; i++) table.take(table.add({ id: 0 }))
    expect(table.oldest()).toBe(slow)
    expect(table.take(slow.id)).toBe(slow)
    expect(table.size).toBe(0)
  })
})
