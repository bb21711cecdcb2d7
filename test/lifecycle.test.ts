import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** Resolves true when a TCP connection to `base` is accepted, false when it is refused. */
function accepts(base: string): Promise<boolean> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('listen and close', () => {
  it('listen on port 0 binds a free port and self names it', async () => {
    const n = node()
    const { port } = await n.listen()
    expect(port).toBeGreaterThan(0)
    expect(n.self).toBe(`http://127.0.0.1:${port}`)
    expect(n.peers).toEqual([n.self])
    expect(n.stats().listening).toBe(true)
  })

  it('listening twice, or on a port in use, is BURROW_ERR_LISTEN', async () => {
    const a = node()
    await a.listen()
    await expect(a.listen()).rejects.toMatchObject({ code: 'BURROW_ERR_LISTEN' })
    const b = node({ self: a.self })
    await expect(b.listen()).rejects.toMatchObject({ code: 'BURROW_ERR_LISTEN' })
  })

  it('close stops serving, closes peer connections, and frees the port', async () => {
    const { nodes, namespaces } = await cluster(2)
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await namespaces[0]!.get(key)
    expect(nodes[0]!.stats().peerClient.connectionsOpen).toBeGreaterThan(0)
    const port = new URL(nodes[1]!.self).port
    await nodes[0]!.close()
    await nodes[1]!.close()
    expect(nodes[0]!.stats().peerClient.connectionsOpen).toBe(0)
    expect(await accepts(nodes[1]!.self)).toBe(false)
    // The port is free again: a new node can take it.
    const again = node({ self: `http://127.0.0.1:${port}` })
    await again.listen()
    expect(await accepts(again.self)).toBe(true)
  })

  it('a node keeps its cache and serves hits after a peer closes', async () => {
    const { nodes, namespaces } = await cluster(2, { namespace: { hot: false } })
    const mine = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[0]!.self,
    )!
    await namespaces[0]!.get(mine)
    await nodes[1]!.close()
    expect(namespaces[0]!.peek(mine)).toBe(`value of ${mine}`)
    expect(await namespaces[0]!.get(mine)).toBe(`value of ${mine}`)
  })
})

describe('close races', () => {
  it('close() while listen() is binding: listen rejects with BURROW_ERR_CLOSED and nothing is left listening', async () => {
    const n = node()
    const listening = n.listen()
    const outcome = listening.catch((err: unknown) => err)
    await n.close()
    expect(await outcome).toMatchObject({ code: 'BURROW_ERR_CLOSED' })
    expect(n.stats().listening).toBe(false)
  })

  it('close({ timeoutMs: 0 }) while a connection to a peer is still being made rejects the waiting get at once', async () => {
    // A peer on a port nobody answers quickly: the get waits on a connection that is not up yet.
    const n = node({ peerTimeoutMs: 5000 })
    const ns = n.namespace('test', { load: (k) => k })
    await n.listen()
    const other = node()
    other.namespace('test', { load: async (k) => k })
    await other.listen()
    n.setPeers([n.self, other.self])
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => n.ownerOf(k) === other.self)!
    const get = ns.get(key) // its connection is opened now, and is not connected yet
    const outcome = get.catch((err: unknown) => err)
    const started = performance.now()
    await n.close({ timeoutMs: 0 })
    expect(await outcome).toMatchObject({ code: 'BURROW_ERR_CLOSED' })
    expect(performance.now() - started).toBeLessThan(1000)
    expect(n.stats().peerClient.connectionsOpen).toBe(0)
  })
})
