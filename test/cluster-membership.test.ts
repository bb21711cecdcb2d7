import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

describe('membership changes and disagreement', () => {
  it('two nodes whose peer lists disagree about an owner: no loop, no deadlock, a value returned', async () => {
    // a thinks b owns everything it can; b thinks it is alone. Neither forwards a peer's request.
    const a = node()
    const b = node()
    const loadsA: string[] = []
    const loadsB: string[] = []
    const nsA = a.namespace('test', {
      load: (k) => {
        loadsA.push(k)
        return `a:${k}`
      },
    })
    const nsB = b.namespace('test', {
      load: (k) => {
        loadsB.push(k)
        return `b:${k}`
      },
    })
    await Promise.all([a.listen(), b.listen()])
    a.setPeers([a.self, b.self])
    b.setPeers([b.self]) // b does not know a
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`)
      .filter((k) => a.ownerOf(k) === b.self)
      .slice(0, 10)
    for (const key of keys) expect(await nsA.get(key)).toBe(`b:${key}`)
    expect(loadsB).toEqual(keys)
    // Now both think the other owns some keys: b's ring says a, a's ring says b.
    b.setPeers([b.self, a.self])
    const crossed = Array.from({ length: 400 }, (_, i) => `x${i}`).filter((k) => a.ownerOf(k) === b.self)
    a.setPeers([a.self]) // a now believes it owns everything, b still sends a its share
    for (const key of crossed.slice(0, 5)) expect(await nsB.get(key)).toMatch(/^[ab]:/)
    expect(loadsA.length + loadsB.length).toBeGreaterThan(keys.length)
  })

  it('setPeers while reads are running: no read fails or gets a wrong value', async () => {
    const { nodes, namespaces } = await cluster(3, { namespace: { hot: false } })
    const all = nodes.map((n) => n.self)
    const views = [all, all.slice(0, 2), [all[0]!, all[2]!], all]
    let reads = 0
    const reader = async (ns: (typeof namespaces)[number], offset: number) => {
      for (let i = 0; i < 400; i++) {
        const key = `k${(i * 7 + offset) % 300}`
        expect(await ns.get(key)).toBe(`value of ${key}`)
        reads++
      }
    }
    const readers = namespaces.map((ns, i) => reader(ns, i * 100))
    const flipper = (async () => {
      for (let round = 0; round < 20; round++) {
        for (const n of nodes) n.setPeers(views[round % views.length]!)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()
    await Promise.all([...readers, flipper])
    expect(reads).toBe(1200)
  })

  it('setPeers rebuilds the ring: keys move to a new peer and back', async () => {
    const a = node({ self: 'http://127.0.0.1:7001' })
    a.setPeers(['http://127.0.0.1:7001', 'http://127.0.0.1:7002'])
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`)
    const moved = keys.filter((k) => a.ownerOf(k) === 'http://127.0.0.1:7002')
    expect(moved.length).toBeGreaterThan(300)
    expect(moved.length).toBeLessThan(700)
    a.setPeers([])
    expect(a.peers).toEqual(['http://127.0.0.1:7001'])
    expect(keys.every((k) => a.ownerOf(k) === 'http://127.0.0.1:7001')).toBe(true)
  })
})

describe('rings that disagree', () => {
  it('two nodes that each think the other owns a key answer at once, by loading, never waiting on each other', async () => {
    const loader = async (key: string) => {
      await new Promise((resolve) => setTimeout(resolve, 50))
      return `loaded ${key}`
    }
    const a = node({ peerTimeoutMs: 2000 })
    const b = node({ peerTimeoutMs: 2000, replicas: 3 }) // another ring: owners differ
    const nsA = a.namespace('test', { load: loader })
    const nsB = b.namespace('test', { load: loader })
    await Promise.all([a.listen(), b.listen()])
    a.setPeers([a.self, b.self])
    b.setPeers([a.self, b.self])
    const crossed = Array.from({ length: 2000 }, (_, i) => `k${i}`).filter(
      (k) => a.ownerOf(k) === b.self && b.ownerOf(k) === a.self,
    )
    expect(crossed.length).toBeGreaterThan(0)
    const key = crossed[0]!
    const started = performance.now()
    expect(await Promise.all([nsA.get(key), nsB.get(key)])).toEqual([`loaded ${key}`, `loaded ${key}`])
    expect(performance.now() - started).toBeLessThan(1000) // far below the 2 s deadline
    expect(a.stats().peerClient.timeouts + b.stats().peerClient.timeouts).toBe(0)
  })
})
