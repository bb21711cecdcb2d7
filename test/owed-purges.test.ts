import { afterEach, describe, expect, it } from 'vitest'
import { OwedPurges } from '../src/membership/owed-purges.ts'
import { PeerClient } from '../src/transport/client/peer-client.ts'
import { closeAll, node, ringWhere } from './helpers.ts'
import { ChildNode, cluster } from './support/cluster.ts'

const children: ChildNode[] = []
afterEach(async () => {
  await closeAll()
  for (const c of children) c.thaw()
  await Promise.all(children.splice(0).map((c) => c.kill()))
})

describe('the purges a peer is owed', () => {
  it('are kept per peer and namespace, once per key, and taken whole', () => {
    const owed = new OwedPurges(100)
    owed.record('http://a:1', 'users', 'k1')
    owed.record('http://a:1', 'users', 'k1')
    owed.record('http://a:1', 'pages', 'p')
    owed.record('http://b:1', 'users', 'k2')
    expect(owed.size).toBe(3)
    expect(owed.take('http://a:1')).toEqual([
      { namespace: 'users', keys: ['k1'] },
      { namespace: 'pages', keys: ['p'] },
    ])
    expect(owed.take('http://a:1')).toEqual([])
    expect(owed.peers()).toEqual(['http://b:1'])
    owed.forget('http://b:1')
    expect(owed.size).toBe(0)
  })

  it('turn into a flush of the namespace past the bound, and stay one', () => {
    const owed = new OwedPurges(3)
    for (const key of ['a', 'b', 'c', 'd']) owed.record('http://a:1', 'users', key)
    owed.record('http://a:1', 'pages', 'p')
    expect(owed.size).toBe(2)
    expect(owed.take('http://a:1')).toEqual([
      { namespace: 'users', all: true },
      { namespace: 'pages', keys: ['p'] },
    ])
    owed.recordFlush('http://a:1', 'users')
    owed.record('http://a:1', 'users', 'z')
    expect(owed.take('http://a:1')).toEqual([{ namespace: 'users', all: true }])
  })
})

describe('a node cut off while a key was written', () => {
  it('drops its copy once it answers again (the purge it missed is delivered)', async () => {
    const liveness = { intervalMs: 40, timeoutMs: 150 }
    const x = await ChildNode.start({ liveness })
    children.push(x)
    const w = node({ liveness, peerTimeoutMs: 500 })
    const ns = w.namespace('test', { hot: false, load: (key) => `value of ${key}` })
    await w.listen()
    const peers = [w.self, x.self]
    w.setPeers(peers)
    await x.setPeers(peers)
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => w.ownerOf(k) === x.self)!
    expect((await x.get(key)).value).toBe(`value of ${key}`)

    await x.freeze()
    await ringWhere(w, (ring) => !ring.includes(x.self))
    // Known down: the purge is owed at once, not sent into a frozen process's socket.
    expect(await ns.delete(key)).toEqual({ unreachable: [x.self] })
    expect(w.stats().owedPurges).toBe(1)

    x.thaw()
    await ringWhere(w, (ring) => ring.includes(x.self))
    for (let i = 0; i < 200 && (await x.peek(key)).value !== null; i++)
      await new Promise((r) => setTimeout(r, 20))
    expect((await x.peek(key)).value).toBeNull()
    expect(w.stats().owedPurges).toBe(0)
  })

  it('a purge that failed is sent again, without liveness probing too, once the peer is back', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: false } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const address = a.self
    await a.close({ timeoutMs: 0 })
    expect(await namespaces[1]!.delete('k')).toEqual({ unreachable: [address] })
    expect(b.stats().owedPurges).toBe(1)
    const again = node({ self: address, peers: [address, b.self], liveness: false })
    const ns = again.namespace('test', { load: (key) => key })
    await again.listen()
    // b takes the purge off its owed list when it sends it, before the node back has applied
    // it: wait for the purge to arrive, not for the owed list to empty.
    for (let i = 0; i < 100 && ns.stats().purges === 0; i++) await new Promise((r) => setTimeout(r, 50))
    expect(ns.stats().purges).toBe(1)
    expect(b.stats().owedPurges).toBe(0)
  })
})

describe('purges owed to a peer that leaves the peer set', () => {
  it('are forgotten, not sent to it for ever', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: { intervalMs: 30, timeoutMs: 200 } } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const gone = a.self
    await a.close({ timeoutMs: 0 })
    await ringWhere(b, (ring) => !ring.includes(gone))
    for (let i = 0; i < 20; i++) await namespaces[1]!.delete(`k${i}`)
    expect(b.stats().owedPurges).toBe(20)
    b.setPeers([b.self])
    expect(b.stats().owedPurges).toBe(0)
  })
})

describe('BURROW.FLUSH', () => {
  it('drops every key of the namespace on the node it is sent to', async () => {
    const n = node()
    const ns = n.namespace('test', { load: (key) => `value of ${key}` })
    await n.listen()
    for (const key of ['a', 'b', 'c']) await ns.get(key)
    const client = new PeerClient({
      timeoutMs: 1000,
      connections: 1,
      maxFrameBytes: 1 << 20,
      signal: new AbortController().signal,
    })
    try {
      await client.flush(n.self, 'test')
      await expect(client.flush(n.self, 'nope')).rejects.toMatchObject({
        code: 'BURROW_ERR_UNKNOWN_NAMESPACE',
      })
    } finally {
      client.close()
    }
    expect(['a', 'b', 'c'].map((key) => ns.peek(key))).toEqual([undefined, undefined, undefined])
    expect(ns.stats()).toMatchObject({ flushes: 1, main: { items: 0, bytes: 0 } })
    expect(await ns.get('a')).toBe('value of a')
  })
})
