import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node } from './helpers.ts'
import { ChildNode, loadsReported } from './support/cluster.ts'

const children: ChildNode[] = []
const servers: Server[] = []
afterEach(async () => {
  await closeAll()
  await Promise.all(children.splice(0).map((c) => c.kill()))
  for (const s of servers.splice(0)) s.close()
})

/** Keys among k0..k999 whose owner, on `n`'s ring, is `peer`. */
function keysOwnedBy(n: { ownerOf(key: string): string }, peer: string, count: number): string[] {
  return Array.from({ length: 1000 }, (_, i) => `k${i}`)
    .filter((k) => n.ownerOf(k) === peer)
    .slice(0, count)
}

/** A TCP server that accepts connections, reads everything, and never answers. */
async function silentPeer(): Promise<string> {
  const sockets: Socket[] = []
  const server = createServer((socket) => {
    sockets.push(socket)
    socket.resume()
  })
  server.on('close', () => {
    for (const s of sockets) s.destroy()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

describe('failover: nodes in separate processes', () => {
  it('after the owner is killed (SIGKILL), gets of its keys through the others succeed within the deadline, each loaded once by a survivor', async () => {
    const started = await Promise.all([
      ChildNode.start({ peerTimeoutMs: 500 }),
      ChildNode.start({ peerTimeoutMs: 500 }),
      ChildNode.start({ peerTimeoutMs: 500 }),
    ])
    children.push(...started)
    const [a, b, owner] = started as [ChildNode, ChildNode, ChildNode]
    const peers = started.map((c) => c.self)
    await Promise.all(started.map((c) => c.setPeers(peers)))
    // A ring like theirs, built here, tells which keys the doomed node owns.
    const probe = node({ self: a.self, peers })
    const keys = keysOwnedBy(probe, owner.self, 5)
    expect(keys.length).toBe(5)
    // Before the crash: the owner loads them, once.
    for (const key of keys)
      expect(await a.get(key)).toMatchObject({ type: 'value', value: `value of ${key}` })
    expect((await loadsReported(() => owner.loads, keys.length)).map((l) => l.key)).toEqual(keys)
    await owner.kill()
    const fresh = keysOwnedBy(probe, owner.self, 10).slice(5)
    for (const key of fresh) {
      const started = performance.now()
      expect(await b.get(key)).toMatchObject({ type: 'value', value: `value of ${key}` })
      expect(performance.now() - started).toBeLessThan(500 + 1000) // the deadline plus generous slack
    }
    // Each loaded once, by a survivor: by fallback on b, or by its new owner once liveness took
    // the dead node off the rings. Never by the dead node.
    const survivorLoads = () => [...a.loads, ...b.loads].filter((l) => fresh.includes(l.key))
    const loaded = (await loadsReported(survivorLoads, fresh.length)).map((l) => l.key)
    expect(loaded.sort()).toEqual([...fresh].sort())
  })

  it('a peer that accepts connections and never answers: gets still complete within the deadline, by fallback', async () => {
    const silent = await silentPeer()
    const n = node({ peerTimeoutMs: 300 })
    let loads = 0
    const ns = n.namespace('test', {
      load: (key) => {
        loads++
        return `local ${key}`
      },
    })
    await n.listen()
    n.setPeers([n.self, silent])
    const keys = keysOwnedBy(n, silent, 20)
    const started = performance.now()
    const values = await Promise.all(keys.map((k) => ns.get(k)))
    expect(performance.now() - started).toBeLessThan(300 + 1000)
    expect(values).toEqual(keys.map((k) => `local ${k}`))
    expect(loads).toBe(keys.length)
    expect(n.stats().namespaces['test']).toMatchObject({
      peerErrors: keys.length,
      fallbackLoads: keys.length,
    })
    expect(n.stats().peerClient.timeouts).toBe(keys.length)
  })

  it('with peerFallback off, an unreachable owner rejects with BURROW_ERR_PEER_TIMEOUT instead of loading', async () => {
    const silent = await silentPeer()
    const n = node({ peerTimeoutMs: 200 })
    let loads = 0
    const ns = n.namespace('test', {
      peerFallback: false,
      load: () => {
        loads++
        return 'v'
      },
    })
    await n.listen()
    n.setPeers([n.self, silent])
    const [key] = keysOwnedBy(n, silent, 1)
    await expect(ns.get(key!)).rejects.toMatchObject({ code: 'BURROW_ERR_PEER_TIMEOUT', peer: silent })
    expect(loads).toBe(0)
  })

  it('an owner that refuses connections fails fast and the key is loaded here', async () => {
    const gone = await silentPeer()
    servers.pop()?.close() // the port is now closed: connections are refused
    const n = node({ peerTimeoutMs: 5000 })
    const ns = n.namespace('test', { load: (k) => `here ${k}` })
    await n.listen()
    n.setPeers([n.self, gone])
    const [key] = keysOwnedBy(n, gone, 1)
    const started = performance.now()
    expect(await ns.get(key!)).toBe(`here ${key}`)
    expect(performance.now() - started).toBeLessThan(2000) // well before the 5 s deadline
    expect(n.stats().namespaces['test']).toMatchObject({ peerErrors: 1, fallbackLoads: 1 })
  })

  it("an aborted caller's signal rejects a get that waits on a slow owner, at once", async () => {
    const silent = await silentPeer()
    const n = node({ peerTimeoutMs: 5000 })
    const ns = n.namespace('test', { load: (k) => k })
    await n.listen()
    n.setPeers([n.self, silent])
    const [key] = keysOwnedBy(n, silent, 1)
    const controller = new AbortController()
    const get = ns.get(key!, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('enough')), 50)
    await expect(get).rejects.toThrow('enough')
  })
})
