import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, deferred, node } from './helpers.ts'

afterEach(closeAll)

describe('single-flight: one load per key at a time', () => {
  it('100 concurrent gets of one key make 1 loader call and see 100 equal results', async () => {
    const gate = deferred<void>()
    let calls = 0
    const ns = node().namespace('test', {
      load: async (key) => {
        calls++
        await gate.promise
        return `value of ${key}`
      },
    })
    const gets = Array.from({ length: 100 }, () => ns.get('k'))
    gate.resolve()
    const results = await Promise.all(gets)
    expect(calls).toBe(1)
    expect(new Set(results)).toEqual(new Set(['value of k']))
    expect(results).toHaveLength(100)
  })

  it('10 sequential gets make 1 loader call (the rest are hits)', async () => {
    let calls = 0
    const n = node()
    const ns = n.namespace('test', {
      load: (key) => {
        calls++
        return key.toUpperCase()
      },
    })
    for (let i = 0; i < 10; i++) expect(await ns.get('abc')).toBe('ABC')
    expect(calls).toBe(1)
    const stats = n.stats().namespaces['test']!
    expect(stats).toMatchObject({ gets: 10, hits: 9, loads: 1, localLoads: 1 })
  })

  it('counts the misses that joined a running flight as deduplicated', async () => {
    const gate = deferred<void>()
    const n = node()
    const ns = n.namespace('test', {
      load: async () => {
        await gate.promise
        return 'v'
      },
    })
    const gets = [ns.get('a'), ns.get('a'), ns.get('a'), ns.get('b')]
    gate.resolve()
    await Promise.all(gets)
    expect(n.stats().namespaces['test']).toMatchObject({ loads: 4, loadsDeduped: 2, localLoads: 2 })
  })

  it('loads different keys independently and concurrently', async () => {
    const gates = { a: deferred<string>(), b: deferred<string>() }
    const ns = node().namespace('test', { load: (key) => gates[key as 'a' | 'b'].promise })
    const a = ns.get('a')
    const b = ns.get('b')
    gates.b.resolve('B')
    expect(await b).toBe('B')
    gates.a.resolve('A')
    expect(await a).toBe('A')
  })

  it('a not-found answer is shared by the waiters and not cached', async () => {
    let calls = 0
    const ns = node().namespace('test', {
      load: async () => {
        calls++
        return undefined
      },
    })
    expect(await Promise.all([ns.get('x'), ns.get('x')])).toEqual([undefined, undefined])
    expect(calls).toBe(1)
    expect(await ns.get('x')).toBeUndefined()
    expect(calls).toBe(2)
    expect(ns.peek('x')).toBeUndefined()
  })
})
