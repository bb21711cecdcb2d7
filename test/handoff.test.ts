import { type AddressInfo, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Burrow, BurrowOptions, Namespace, StoredValue } from '../src/index.ts'
import { closeAll, freePort, manualClock, node, ringWhere, sleep } from './helpers.ts'
import { cluster, type LoadRecord } from './support/cluster.ts'

afterEach(closeAll)

const KEYS = Array.from({ length: 1000 }, (_, i) => `item:${i}`)

/** A warm cluster of three (every key loaded once, by its owner), and a fourth node that joins it. */
async function warmClusterAndJoiner(options: BurrowOptions = {}) {
  const { nodes, namespaces, loads } = await cluster(3, { node: options, namespace: { hot: false } })
  for (const key of KEYS) await namespaces[0]!.get(key)
  expect(loads).toHaveLength(KEYS.length)
  const { joiner, joinerNs } = await listeningJoiner({ peerTimeoutMs: 1000, ...options }, loads)
  const all = [...nodes, joiner]
  for (const n of all) n.setPeers(all.map((m) => m.self))
  return { nodes: all, namespaces: [...namespaces, joinerNs], loads, joiner }
}

/** A listening node with the cluster's namespace, whose loads go to `loads`; not yet in any ring. */
async function listeningJoiner(options: BurrowOptions, loads: LoadRecord[]) {
  const joiner = node(options)
  const joinerNs = joiner.namespace('test', {
    hot: false,
    load: (key) => {
      loads.push({ self: joiner.self, key })
      return `value of ${key}`
    },
  })
  await joiner.listen()
  return { joiner, joinerNs }
}

/** Reads every key through every node; returns the loads this caused. */
async function readEverywhere(
  namespaces: Namespace<StoredValue>[],
  loads: LoadRecord[],
): Promise<LoadRecord[]> {
  const before = loads.length
  for (const ns of namespaces) {
    const values = await Promise.all(KEYS.map((key) => ns.get(key)))
    expect(values).toEqual(KEYS.map((key) => `value of ${key}`))
  }
  return loads.slice(before)
}

describe('warm hand-off', () => {
  it('a fourth node joining a warm cluster of three reloads almost none of the warm keys', async () => {
    // 1,000 gets at once through each node: a hand-off ask waits behind the rest of the burst in
    // this one event loop, so its deadline is set well above the 250 ms default. A missed ask
    // would reload the key and count no hit.
    const { nodes, namespaces, loads, joiner } = await warmClusterAndJoiner({ handoff: { timeoutMs: 5000 } })
    const moved = KEYS.filter((key) => joiner.ownerOf(key) === joiner.self)
    expect(moved.length).toBeGreaterThan(KEYS.length / 10) // about a quarter moved to it
    const reloads = await readEverywhere(namespaces, loads)
    expect(reloads.length).toBeLessThanOrEqual(KEYS.length / 100)
    expect(joiner.stats().namespaces['test']).toMatchObject({ handoffHits: moved.length, localLoads: 0 })
    // The old owners still answer their own keys from their caches.
    for (const n of nodes.slice(0, 3)) expect(n.stats().namespaces['test']!.localLoads).toBeGreaterThan(0)
  })

  it('without hand-off, the same join reloads every key that moved', async () => {
    const { namespaces, loads, joiner } = await warmClusterAndJoiner({ handoff: false })
    const moved = KEYS.filter((key) => joiner.ownerOf(key) === joiner.self)
    const reloads = await readEverywhere(namespaces, loads)
    expect(reloads.map((l) => l.key).sort()).toEqual([...moved].sort())
  })

  it("asks the previous owner's cache only: a key it never loaded is loaded once, by the new owner", async () => {
    const { loads, joiner, namespaces } = await warmClusterAndJoiner()
    const cold = Array.from({ length: 500 }, (_, i) => `cold:${i}`).find(
      (k) => joiner.ownerOf(k) === joiner.self,
    )!
    expect(await namespaces[0]!.get(cold)).toBe(`value of ${cold}`)
    expect(loads.filter((l) => l.key === cold)).toEqual([{ self: joiner.self, key: cold }])
    expect(joiner.stats().namespaces['test']).toMatchObject({ handoffMisses: 1, handoffHits: 0 })
  })

  it('a previous owner that is gone costs one failed ask, then the loader answers', async () => {
    const { nodes, loads, joiner, namespaces } = await warmClusterAndJoiner({ liveness: false })
    const key = KEYS.find((k) => joiner.ownerOf(k) === joiner.self)!
    const previous = nodes.slice(0, 3).find((n) => holds(n, key))
    await previous!.close({ timeoutMs: 0 })
    expect(await namespaces[3]!.get(key)).toBe(`value of ${key}`)
    expect(loads.filter((l) => l.key === key).map((l) => l.self)).toEqual([previous!.self, joiner.self])
  })

  it('the window closes: after handoff.windowMs the loader runs at once', async () => {
    const { loads, joiner, namespaces } = await warmClusterAndJoiner({ handoff: { windowMs: 1 } })
    await sleep(20)
    const key = KEYS.find((k) => joiner.ownerOf(k) === joiner.self)!
    expect(await namespaces[3]!.get(key)).toBe(`value of ${key}`)
    expect(loads.filter((l) => l.key === key)).toHaveLength(2)
    expect(joiner.stats().namespaces['test']).toMatchObject({ handoffHits: 0, handoffMisses: 0 })
  })

  it('a handed-off value keeps the time it had left on the previous owner', async () => {
    const clock = manualClock()
    const { nodes, namespaces } = await cluster(2, {
      node: { clock },
      namespace: { hot: false, ttl: 10_000 },
    })
    const [a, b] = nodes as [Burrow, Burrow]
    const key = KEYS.find((k) => b.ownerOf(k) === b.self)!
    // b is cut off: a owns everything, loads the key at t0.
    a.setPeers([a.self])
    await namespaces[0]!.get(key)
    clock.t += 4000
    // b is back and owns the key again: it takes a's copy, with its 6 s left.
    a.setPeers([a.self, b.self])
    b.setPeers([a.self, b.self])
    expect(await namespaces[1]!.get(key)).toBe(`value of ${key}`)
    expect(b.stats().namespaces['test']!.handoffHits).toBe(1)
    clock.t += 6001
    expect(namespaces[1]!.peek(key)).toBeUndefined()
  })

  it('keeps working across a second ring change (a listed peer found down right after the join)', async () => {
    const { nodes, namespaces, loads } = await cluster(3, { namespace: { hot: false } })
    for (const key of KEYS) await namespaces[0]!.get(key)
    const { joiner, joinerNs } = await listeningJoiner(
      { liveness: { intervalMs: 30, timeoutMs: 200 }, handoff: { timeoutMs: 5000 } },
      loads,
    )
    const dead = `http://127.0.0.1:${await freePort()}`
    const all = [...nodes.map((n) => n.self), joiner.self]
    for (const n of nodes) n.setPeers(all)
    joiner.setPeers([...all, dead])
    await ringWhere(joiner, (ring) => !ring.includes(dead))
    const mine = KEYS.filter((key) => joiner.ownerOf(key) === joiner.self)
    const before = loads.length
    for (const key of mine) expect(await joinerNs.get(key)).toBe(`value of ${key}`)
    expect(loads.length - before).toBeLessThanOrEqual(KEYS.length / 100)
    expect(joiner.stats().namespaces['test']!.handoffHits).toBe(mine.length)
  })

  it('a node that closes while it asks a previous owner does not call its loader', async () => {
    const silent = createServer(() => {}) // accepts connections, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const quiet = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
    try {
      const calls: string[] = []
      const n = node({ liveness: false, handoff: { timeoutMs: 5000 }, peers: [quiet] })
      const ns = n.namespace('test', {
        load: (key) => {
          calls.push(key)
          return key
        },
      })
      await n.listen()
      const key = KEYS.find((k) => n.ownerOf(k) === n.self)!
      const get = ns.get(key).then(
        () => 'answered',
        (err: { code: string }) => err.code,
      )
      await sleep(30) // the peek to the silent previous owner is in flight
      await n.close({ timeoutMs: 0 })
      expect(await get).toBe('BURROW_ERR_CLOSED')
      expect(calls).toEqual([])
    } finally {
      silent.close()
    }
  })

  it('closes the window early when asks keep finding nothing (a cluster that forms cold)', async () => {
    const { nodes, namespaces } = await cluster(2, { namespace: { hot: false } })
    const cold = Array.from({ length: 4000 }, (_, i) => `cold:${i}`).filter(
      (k) => nodes[1]!.ownerOf(k) === nodes[1]!.self,
    )
    for (const key of cold.slice(0, 400)) await namespaces[1]!.get(key)
    // 256 asks in a row found nothing: the next misses went straight to the loader.
    expect(nodes[1]!.stats().namespaces['test']).toMatchObject({
      handoffMisses: 256,
      handoffHits: 0,
      localLoads: 400,
    })
  })

  it('rejects bad hand-off options', () => {
    expect(() => node({ handoff: { windowMs: -1 } })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_BAD_OPTION' }),
    )
    expect(() => node({ handoff: { timeoutMs: 0 } })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_BAD_OPTION' }),
    )
    expect(() => node({ handoff: { nope: 1 } as never })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_BAD_OPTION' }),
    )
  })
})

/** Does `n` hold `key` in its cache (with hot copies off: did it load it as its owner)? */
function holds(n: Burrow, key: string): boolean {
  return n.getNamespace('test')!.peek(key) !== undefined
}
