import { afterEach, describe, expect, it } from 'vitest'
import type { BurrowError } from '../src/index.ts'
import { closeAll, deferred, node, ringWhere, sleep } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** A key of `namespace` owned by `owner` on `asker`'s ring. */
function keyOwnedBy(asker: { ownerOf(key: string): string }, owner: string, prefix = 'k'): string {
  for (let i = 0; i < 1000; i++) if (asker.ownerOf(`${prefix}${i}`) === owner) return `${prefix}${i}`
  throw new Error(`no key owned by ${owner}`)
}

describe('close() leaves the cluster first', () => {
  it('its peers take it off their rings as soon as close() resolves, without waiting for a probe', async () => {
    const { nodes } = await cluster(3)
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    const leaving = a.self
    await a.close()
    expect(b.peers).not.toContain(leaving)
    expect(c.peers).not.toContain(leaving)
    expect(b.stats().down).toEqual([leaving])
  })

  it('a node that left and starts again on its address comes back into the rings', async () => {
    const { nodes } = await cluster(2, { node: { liveness: { intervalMs: 30, timeoutMs: 200 } } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const address = a.self
    await a.close()
    expect(b.peers).toEqual([b.self])
    const again = node({ self: address, peers: [address, b.self] })
    again.namespace('test', { load: (k) => k })
    await again.listen()
    expect(await ringWhere(b, (peers) => peers.includes(address))).toContain(address)
  })

  it('a get in flight on the leaving node finishes with its value, and close() waits for it', async () => {
    const gate = deferred<void>()
    const { nodes, namespaces, loads } = await cluster(2, {
      load: async (key) => {
        await gate.promise
        return `loaded ${key}`
      },
    })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const key = keyOwnedBy(b, a.self)
    // b asks a, the owner; a's loader runs while a is told to close.
    const get = namespaces[1]!.get(key)
    while (loads.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    let closed = false
    const closing = a.close().then(() => {
      closed = true
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(false)
    gate.resolve()
    expect(await get).toBe(`loaded ${key}`)
    await closing
    // The owner answered: b loaded nothing itself.
    expect(loads).toEqual([{ self: a.self, key }])
    expect(b.stats().namespaces['test']).toMatchObject({ peerLoads: 1, fallbackLoads: 0, peerErrors: 0 })
  })

  it('a set in flight on the leaving node completes before it closes', async () => {
    const { nodes, namespaces } = await cluster(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const key = keyOwnedBy(a, b.self)
    const setting = namespaces[0]!.set(key, 'new value')
    const closing = a.close()
    expect(await setting).toEqual({ unreachable: [] })
    await closing
    expect(await namespaces[1]!.get(key)).toBe('new value')
  })

  it('a get that starts while the node drains is served too, while the time lasts', async () => {
    // Each load ends when the test says: timed loads (100 ms, the second started 50 ms in) raced,
    // and a machine that paused between the two timers ended the first load, and the drain, first.
    const loads = { a: deferred<void>(), b: deferred<void>() }
    const n = node()
    const ns = n.namespace('test', { load: (key) => loads[key as 'a' | 'b'].promise.then(() => key) })
    await n.listen()
    const first = ns.get('a')
    const closing = n.close()
    await sleep(50) // the drain is under way, waiting on the first load
    const second = ns.get('b')
    loads.a.resolve()
    expect(await first).toBe('a')
    await sleep(20) // the drain goes on waiting, now for the second get
    loads.b.resolve()
    expect(await second).toBe('b')
    await closing
  })

  it('with timeoutMs, a load that never ends is given up: its get rejects with BURROW_ERR_CLOSED', async () => {
    const n = node()
    const ns = n.namespace('test', { load: () => new Promise<string>(() => {}) })
    await n.listen()
    const get = ns.get('k')
    const failed = get.then(
      () => undefined,
      (err: BurrowError) => err.code,
    )
    await n.close({ timeoutMs: 50 })
    expect(await failed).toBe('BURROW_ERR_CLOSED')
  })

  it('takes no new namespace and cannot listen again while it leaves', async () => {
    const gate = deferred<void>()
    const n = node()
    const ns = n.namespace('test', { load: () => gate.promise.then(() => 'v') })
    await n.listen()
    const get = ns.get('k')
    const closing = n.close()
    expect(() => n.namespace('other', { load: () => 'v' })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_CLOSED' }),
    )
    await expect(n.listen()).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED' })
    gate.resolve()
    expect(await get).toBe('v')
    await closing
  })

  it('a node without liveness probing keeps a peer that left on its ring (nothing would bring it back)', async () => {
    const { nodes } = await cluster(2, { nodeOptions: (i) => (i === 1 ? { liveness: false } : {}) })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    await a.close()
    expect(b.peers).toContain(a.self)
  })

  it('close() returns one promise however often it is called, and checks its options', async () => {
    const n = node()
    await expect(n.close({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_OPTION' })
    await expect(n.close({ nope: 1 } as never)).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_OPTION' })
    const first = n.close()
    expect(n.close()).toBe(first)
    await first
  })
})
