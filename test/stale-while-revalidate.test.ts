import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, deferred, manualClock, node } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** Lets every pending promise callback run (a refresh's rejection, say). */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('stale-while-revalidate (staleTtl)', () => {
  it('within the window, 1,000 concurrent gets of an expired key all get the stale value at once and exactly one refresh runs', async () => {
    const clock = manualClock()
    const gate = deferred<void>()
    let calls = 0
    const n = node({ clock })
    const ns = n.namespace('test', {
      ttl: 1000,
      staleTtl: 10_000,
      load: async () => {
        calls++
        if (calls > 1) await gate.promise
        return `v${calls}`
      },
    })
    expect(await ns.get('k')).toBe('v1')
    clock.t += 1500
    // The refresh is held at the gate: every get must answer without waiting for it.
    const values = await Promise.all(Array.from({ length: 1000 }, () => ns.get('k')))
    expect(new Set(values)).toEqual(new Set(['v1']))
    expect(calls).toBe(2)
    expect(n.stats().namespaces['test']).toMatchObject({ staleHits: 1000, refreshes: 1 })
    gate.resolve()
    await settle()
    expect(await ns.get('k')).toBe('v2')
    expect(ns.peek('k')).toBe('v2')
    expect(calls).toBe(2)
  })

  it('a failing refresh keeps the stale value served until the window ends, with a doubling backoff between refreshes', async () => {
    const clock = manualClock()
    let calls = 0
    const n = node({ clock })
    const ns = n.namespace('test', {
      ttl: 1000,
      staleTtl: 10_000,
      refreshBackoffMs: 1000,
      load: () => {
        calls++
        if (calls > 1) throw new Error('database down')
        return 'v1'
      },
    })
    await ns.get('k')
    clock.t += 1000 // expired at 1000: the stale window runs to 11_000
    expect(await ns.get('k')).toBe('v1')
    await settle()
    expect(calls).toBe(2) // the first refresh, failed
    expect(await ns.get('k')).toBe('v1')
    clock.t += 999
    expect(await ns.get('k')).toBe('v1')
    await settle()
    expect(calls).toBe(2) // backing off for 1000 ms
    clock.t += 1
    expect(await ns.get('k')).toBe('v1')
    await settle()
    expect(calls).toBe(3) // second refresh, failed: now 2000 ms
    clock.t += 1999
    await ns.get('k')
    await settle()
    expect(calls).toBe(3)
    clock.t += 1
    await ns.get('k')
    await settle()
    expect(calls).toBe(4)
    expect(n.stats().namespaces['test']).toMatchObject({ refreshes: 3, refreshErrors: 3 })
    // Past the window the stale value is gone: a get waits for a load, and its error.
    clock.t = 1_000_000 + 11_000
    await expect(ns.get('k')).rejects.toMatchObject({ code: 'BURROW_ERR_LOADER' })
    expect(ns.peek('k')).toBeUndefined()
  })

  it('a refresh that fails after a write of its key leaves no backoff: the written value refreshes on time', async () => {
    const clock = manualClock()
    const gate = deferred<void>()
    let calls = 0
    const ns = node({ clock }).namespace('test', {
      ttl: 1000,
      staleTtl: 60_000,
      refreshBackoffMs: 30_000,
      load: async () => {
        calls++
        if (calls === 2) {
          await gate.promise
          throw new Error('database down')
        }
        return `v${calls}`
      },
    })
    await ns.get('k')
    clock.t += 1000
    expect(await ns.get('k')).toBe('v1') // stale; the refresh waits at the gate
    await ns.set('k', 'written')
    gate.resolve()
    await settle()
    expect(calls).toBe(2)
    clock.t += 1000 // the written value is stale now: its refresh must not wait out a backoff
    expect(await ns.get('k')).toBe('written')
    await settle()
    expect(calls).toBe(3)
    expect(await ns.get('k')).toBe('v3')
  })

  it('past the window a get waits for the load instead of answering stale', async () => {
    const clock = manualClock()
    let calls = 0
    const ns = node({ clock }).namespace('test', { ttl: 1000, staleTtl: 500, load: () => `v${++calls}` })
    await ns.get('k')
    clock.t += 1500
    expect(await ns.get('k')).toBe('v2')
  })

  it('a refresh that finds the key gone ends the stale value', async () => {
    const clock = manualClock()
    let exists = true
    const ns = node({ clock }).namespace('test', {
      ttl: 1000,
      staleTtl: 10_000,
      load: () => (exists ? 'v' : undefined),
    })
    await ns.get('k')
    exists = false
    clock.t += 1000
    expect(await ns.get('k')).toBe('v') // stale, while the refresh runs
    await settle()
    expect(await ns.get('k')).toBeUndefined()
  })

  it('peek never returns a stale value', async () => {
    const clock = manualClock()
    const ns = node({ clock }).namespace('test', { ttl: 1000, staleTtl: 10_000, load: () => 'v' })
    await ns.get('k')
    clock.t += 1000
    expect(ns.peek('k')).toBeUndefined()
  })

  it('a non-owner gets the owner’s stale value without keeping it, and the owner runs the one refresh', async () => {
    const clock = manualClock()
    const gate = deferred<void>()
    let calls = 0
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { clock, random: () => 0 },
      namespace: { ttl: 1000, staleTtl: 10_000, hot: { probability: 1 } },
      load: async (key) => {
        calls++
        if (calls > 1) await gate.promise
        return `${key}#${calls}`
      },
    })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await namespaces[1]!.get(key)
    clock.t += 1000
    expect(await namespaces[0]!.get(key)).toBe(`${key}#1`)
    expect(namespaces[0]!.peek(key)).toBeUndefined() // a stale answer is not kept as a hot copy
    expect(await namespaces[0]!.get(key)).toBe(`${key}#1`)
    expect(loads.map((l) => l.self)).toEqual([nodes[1]!.self, nodes[1]!.self])
    gate.resolve()
    await settle()
    expect(await namespaces[0]!.get(key)).toBe(`${key}#2`)
  })
})
