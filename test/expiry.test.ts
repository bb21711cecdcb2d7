import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, manualClock, node, versioned } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** A key that `nodes[1]` owns. */
const ownedBySecond = (nodes: { ownerOf(k: string): string; self: string }[]) =>
  Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => nodes[0]!.ownerOf(k) === nodes[1]!.self)!

describe('TTL', () => {
  it('a value is fresh until its ttl passes; then peek gives nothing and get loads it again', async () => {
    const clock = manualClock()
    const { load } = versioned()
    const n = node({ clock })
    const ns = n.namespace('test', { ttl: 1000, load })
    expect(await ns.get('a')).toBe('a@1')
    clock.t += 999
    expect(ns.peek('a')).toBe('a@1')
    expect(await ns.get('a')).toBe('a@1')
    clock.t += 1
    expect(ns.peek('a')).toBeUndefined()
    expect(await ns.get('a')).toBe('a@2')
    expect(n.stats().namespaces['test']).toMatchObject({ localLoads: 2, expired: 1 })
  })

  it('without a ttl (or with ttl 0) a value never expires', async () => {
    const clock = manualClock()
    const { load } = versioned()
    const n = node({ clock })
    const plain = n.namespace('plain', { load })
    const zero = n.namespace('zero', { ttl: 0, load })
    await plain.get('a')
    await zero.get('b')
    clock.t += 10 * 365 * 24 * 3600_000
    expect(await plain.get('a')).toBe('a@1')
    expect(await zero.get('b')).toBe('b@1')
  })

  it('a loader sets one value’s TTL with ctx.ttl, over the namespace ttl; ctx.ttl 0 never expires', async () => {
    const clock = manualClock()
    const { load } = versioned()
    const ns = node({ clock }).namespace('test', {
      ttl: 1000,
      load: (key, ctx) => {
        if (key === 'long') ctx.ttl = 5000
        if (key === 'forever') ctx.ttl = 0
        return load(key)
      },
    })
    for (const key of ['short', 'long', 'forever']) await ns.get(key)
    clock.t += 1000
    expect(ns.peek('short')).toBeUndefined()
    expect(ns.peek('long')).toBe('long@1')
    clock.t += 4000
    expect(ns.peek('long')).toBeUndefined()
    expect(ns.peek('forever')).toBe('forever@1')
  })

  it('ttlJitter shortens each TTL once, by ttlJitter × the node’s random draw', async () => {
    const clock = manualClock()
    const ns = node({ clock, random: () => 0.5 }).namespace('test', {
      ttl: 1000,
      ttlJitter: 0.2,
      load: (key) => key,
    })
    await ns.get('a')
    clock.t += 899
    expect(ns.peek('a')).toBe('a')
    clock.t += 1
    expect(ns.peek('a')).toBeUndefined()
  })

  it('a loader that sets a negative or non-finite ctx.ttl fails with BURROW_ERR_BAD_TTL, and nothing is cached', async () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      const n = node()
      const ns = n.namespace('test', {
        load: (_key, ctx) => {
          ctx.ttl = bad
          return 'v'
        },
      })
      await expect(ns.get('a')).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_TTL', namespace: 'test' })
      expect(ns.peek('a')).toBeUndefined()
      expect(n.stats().namespaces['test']!.localLoadErrors).toBe(1)
    }
  })
})

describe('TTL across nodes', () => {
  it('a hot copy carries the owner’s remaining time, so it expires with the owner’s copy even when clocks differ by hours', async () => {
    const owner = manualClock(5_000_000)
    const reader = manualClock(5_000_000 + 3 * 3600_000) // three hours ahead
    const clocks = [reader, owner]
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { random: () => 0 },
      namespace: { ttl: 1000, hot: { probability: 1 } },
      nodeOptions: (i) => ({ clock: clocks[i]! }),
    })
    const key = ownedBySecond(nodes)
    expect(await namespaces[1]!.get(key)).toBe(`value of ${key}`) // loaded on the owner at t0
    owner.t += 400
    reader.t += 400
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`) // fetched: 600 ms left
    expect(namespaces[0]!.peek(key)).toBe(`value of ${key}`) // kept as a hot copy
    reader.t += 599
    expect(namespaces[0]!.peek(key)).toBe(`value of ${key}`)
    reader.t += 1
    expect(namespaces[0]!.peek(key)).toBeUndefined()
    expect(loads).toHaveLength(1)
  })

  it('hot.maxTtl bounds a hot copy of a value that never expires on its owner', async () => {
    const clock = manualClock()
    const { nodes, namespaces } = await cluster(2, {
      node: { clock, random: () => 0 },
      namespace: { hot: { probability: 1, maxTtl: 5000 } },
    })
    const key = ownedBySecond(nodes)
    await namespaces[0]!.get(key)
    clock.t += 4999
    expect(namespaces[0]!.peek(key)).toBe(`value of ${key}`)
    clock.t += 1
    expect(namespaces[0]!.peek(key)).toBeUndefined()
    expect(namespaces[1]!.peek(key)).toBe(`value of ${key}`) // the owner's copy stays
  })
})

describe('negative caching', () => {
  it('with notFoundTtl a not-found is cached that long: no loader call until it expires', async () => {
    const clock = manualClock()
    let calls = 0
    const n = node({ clock })
    const ns = n.namespace('test', {
      notFoundTtl: 5000,
      load: () => {
        calls++
        return undefined
      },
    })
    expect(await ns.get('gone')).toBeUndefined()
    clock.t += 4999
    expect(await ns.get('gone')).toBeUndefined()
    expect(calls).toBe(1)
    expect(n.stats().namespaces['test']!.hits).toBe(1)
    clock.t += 1
    expect(await ns.get('gone')).toBeUndefined()
    expect(calls).toBe(2)
  })

  it('a cached not-found answers like any hit: with an aborted signal, and after close', async () => {
    const n = node()
    const ns = n.namespace('test', { notFoundTtl: 5000, load: (key) => (key === 'v' ? 'V' : undefined) })
    await ns.get('v')
    await ns.get('nf')
    const signal = AbortSignal.abort()
    expect(await ns.get('v', { signal })).toBe('V')
    expect(await ns.get('nf', { signal })).toBeUndefined()
    await n.close()
    expect(await ns.get('v')).toBe('V')
    expect(await ns.get('nf')).toBeUndefined()
    expect(n.stats().namespaces['test']!.hits).toBe(4)
  })

  it('without notFoundTtl every get of a missing key calls the loader', async () => {
    let calls = 0
    const ns = node().namespace('test', {
      load: () => {
        calls++
        return undefined
      },
    })
    for (let i = 0; i < 3; i++) expect(await ns.get('gone')).toBeUndefined()
    expect(calls).toBe(3)
  })

  it('a loader caches one not-found with ctx.ttl even when notFoundTtl is off', async () => {
    let calls = 0
    const ns = node().namespace('test', {
      load: (_key, ctx) => {
        calls++
        ctx.ttl = 60_000
        return undefined
      },
    })
    await ns.get('gone')
    await ns.get('gone')
    expect(calls).toBe(1)
  })

  it('a not-found from the owner is kept as a hot copy for the owner’s remaining time', async () => {
    const clock = manualClock()
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { clock, random: () => 0 },
      namespace: { notFoundTtl: 2000, hot: { probability: 1 } },
      load: () => undefined,
    })
    const key = ownedBySecond(nodes)
    expect(await namespaces[0]!.get(key)).toBeUndefined()
    expect(await namespaces[0]!.get(key)).toBeUndefined()
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ peerLoads: 1, hits: 1 })
    clock.t += 2000
    expect(await namespaces[0]!.get(key)).toBeUndefined()
    expect(loads).toHaveLength(2)
  })
})
