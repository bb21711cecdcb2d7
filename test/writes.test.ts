import { afterEach, describe, expect, it } from 'vitest'
import type { StoredValue } from '../src/index.ts'
import { closeAll, deferred, manualClock, node, versioned } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

describe('set and delete on one node', () => {
  it('set stores a value that get then returns without calling the loader', async () => {
    const { calls, load } = versioned()
    const ns = node().namespace('test', { load })
    expect(await ns.set('a', 'written')).toEqual({ unreachable: [] })
    expect(await ns.get('a')).toBe('written')
    expect(calls.size).toBe(0)
  })

  it('set replaces a cached value, and keeps bytes as bytes (a copy: the caller may reuse its buffer)', async () => {
    const ns = node().namespace<StoredValue>('test', { load: () => 'loaded' })
    await ns.get('a')
    await ns.set('a', 'second')
    expect(await ns.get('a')).toBe('second')
    const bytes = new Uint8Array([1, 2, 3])
    await ns.set('b', bytes)
    bytes[0] = 9
    const got = await ns.get('b')
    expect(got).toBeInstanceOf(Uint8Array)
    expect([...(got as Uint8Array)]).toEqual([1, 2, 3])
  })

  it('set takes the namespace ttl by default and its own ttl when given; ttl 0 never expires', async () => {
    const clock = manualClock()
    const ns = node({ clock }).namespace('test', { ttl: 1000, load: () => 'loaded' })
    await ns.set('default', 'v')
    await ns.set('own', 'v', { ttl: 5000 })
    await ns.set('forever', 'v', { ttl: 0 })
    clock.t += 1000
    expect(ns.peek('default')).toBeUndefined()
    expect(ns.peek('own')).toBe('v')
    clock.t += 4000
    expect(ns.peek('own')).toBeUndefined()
    expect(ns.peek('forever')).toBe('v')
  })

  it('delete removes the key: the next get loads it again', async () => {
    const { calls, load } = versioned()
    const ns = node().namespace('test', { load })
    await ns.get('a')
    await ns.delete('a')
    expect(ns.peek('a')).toBeUndefined()
    expect(await ns.get('a')).toBe('a@2')
    expect(calls.get('a')).toBe(2)
  })

  it('with a codec, set encodes the value and every get decodes its own copy', async () => {
    const ns = node().namespace<{ n: number }>('test', { codec: 'json', load: () => ({ n: 0 }) })
    await ns.set('a', { n: 7 })
    const first = await ns.get('a')
    expect(first).toEqual({ n: 7 })
    expect(await ns.get('a')).not.toBe(first)
  })

  it('bad input gets coded errors: a value of the wrong kind, a bad ttl, a bad key', async () => {
    const ns = node().namespace('test', { load: () => 'v' })
    for (const value of [42, undefined, null, { a: 1 }]) {
      await expect(ns.set('a', value as unknown as string)).rejects.toMatchObject({
        code: 'BURROW_ERR_BAD_VALUE',
        namespace: 'test',
      })
    }
    for (const ttl of [-1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      await expect(ns.set('a', 'v', { ttl })).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_TTL' })
    }
    for (const key of ['', 42, 'x'.repeat(2000), '\ud800']) {
      await expect(ns.set(key as string, 'v')).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_KEY' })
      await expect(ns.delete(key as string)).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_KEY' })
    }
    expect(ns.peek('a')).toBeUndefined()
  })

  it('a closed node takes no writes', async () => {
    const n = node()
    const ns = n.namespace('test', { load: () => 'v' })
    await n.close()
    await expect(ns.set('a', 'v')).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED' })
    await expect(ns.delete('a')).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED' })
  })
})

describe('the write-during-load race', () => {
  it('a load in flight when set arrives answers its own waiters but is not cached; gets after the set see the new value', async () => {
    const gate = deferred<void>()
    const n = node()
    const ns = n.namespace('test', {
      load: async () => {
        await gate.promise
        return 'old'
      },
    })
    const before = ns.get('k')
    await ns.set('k', 'new')
    const after = ns.get('k')
    gate.resolve()
    expect(await before).toBe('old')
    expect(await after).toBe('new')
    expect(ns.peek('k')).toBe('new')
    expect(n.stats().namespaces['test']!.writeRaces).toBe(1)
  })

  it('a load in flight when delete arrives is not cached; a get after the delete loads again', async () => {
    let version = 0
    const gates = [deferred<void>(), deferred<void>()]
    const ns = node().namespace('test', {
      load: async () => {
        const mine = version++
        await gates[mine]!.promise
        return `v${mine}`
      },
    })
    const before = ns.get('k')
    await ns.delete('k')
    const after = ns.get('k') // must not join the detached flight
    gates[0]!.resolve()
    expect(await before).toBe('v0')
    expect(ns.peek('k')).toBeUndefined()
    gates[1]!.resolve()
    expect(await after).toBe('v1')
    expect(ns.peek('k')).toBe('v1')
  })

  it('a peer fetch in flight when a purge arrives does not re-insert the old value as a hot copy', async () => {
    const gate = deferred<void>()
    let version = 0
    const { nodes, namespaces } = await cluster(2, {
      node: { random: () => 0 },
      namespace: { hot: { probability: 1 } },
      load: async (key) => {
        const mine = ++version
        if (mine === 1) await gate.promise
        return `${key}#${mine}`
      },
    })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    const before = namespaces[0]!.get(key) // asks the owner, whose load waits at the gate
    await namespaces[0]!.delete(key)
    gate.resolve()
    expect(await before).toBe(`${key}#1`)
    expect(namespaces[0]!.peek(key)).toBeUndefined()
    expect(namespaces[1]!.peek(key)).toBeUndefined()
    expect(await namespaces[0]!.get(key)).toBe(`${key}#2`)
  })
})

describe('set and delete across nodes', () => {
  it('after await set on any node, every node returns the new value, hot copies included, with no load', async () => {
    const { nodes, namespaces, loads } = await cluster(3, {
      node: { random: () => 0 },
      namespace: { hot: { probability: 1 } },
    })
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`)
    for (const key of keys) for (const ns of namespaces) await ns.get(key) // hot copies everywhere
    const loaded = loads.length
    for (const [i, key] of keys.entries()) {
      expect(await namespaces[i % 3]!.set(key, `new ${key}`)).toEqual({ unreachable: [] })
      for (const ns of namespaces) expect(await ns.get(key)).toBe(`new ${key}`)
    }
    expect(loads).toHaveLength(loaded)
    for (const key of keys) {
      const owner = nodes.findIndex((n) => n.self === nodes[0]!.ownerOf(key))
      expect(namespaces[owner]!.peek(key)).toBe(`new ${key}`)
    }
  })

  it('after await delete on any node, no node has a copy left and the next gets load once, on the owner', async () => {
    const { nodes, namespaces, loads } = await cluster(3, {
      node: { random: () => 0 },
      namespace: { hot: { probability: 1 } },
    })
    const key = 'shared'
    for (const ns of namespaces) await ns.get(key)
    await namespaces[2]!.delete(key)
    for (const ns of namespaces) expect(ns.peek(key)).toBeUndefined()
    loads.length = 0
    for (const ns of namespaces) expect(await ns.get(key)).toBe(`value of ${key}`)
    expect(loads).toEqual([{ self: nodes[0]!.ownerOf(key), key }])
  })

  it('a peer that cannot be reached is named in the result; the write still holds on the others', async () => {
    const { nodes, namespaces } = await cluster(3, { node: { peerTimeoutMs: 500 } })
    // A key owned by node 1, written from node 0, while node 2 is gone.
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    const gone = nodes[2]!.self
    await nodes[2]!.close()
    expect(await namespaces[0]!.set(key, 'new')).toEqual({ unreachable: [gone] })
    expect(await namespaces[0]!.get(key)).toBe('new')
    expect(await namespaces[0]!.delete(key)).toEqual({ unreachable: [gone] })
    expect(nodes[0]!.stats().namespaces['test']!.unreachablePeers).toBe(2)
  })

  it('a set whose owner cannot be reached fails with the peer’s error, after purging the other nodes', async () => {
    const { nodes, namespaces } = await cluster(3, {
      node: { peerTimeoutMs: 500, random: () => 0 },
      namespace: { hot: { probability: 1 } },
    })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await namespaces[2]!.set(key, 'before')
    await namespaces[2]!.get(key)
    expect(namespaces[2]!.peek(key)).toBe('before') // a hot copy
    // Closed at once, without leaving: the others still name it the owner.
    await nodes[1]!.close({ timeoutMs: 0 })
    await expect(namespaces[0]!.set(key, 'new')).rejects.toMatchObject({
      code: 'BURROW_ERR_PEER_UNAVAILABLE',
    })
    expect(namespaces[2]!.peek(key)).toBeUndefined()
  })
})

describe('writes, edge cases', () => {
  it('a peer fetch that times out after a purge falls back to a load that answers its waiters but is not cached', async () => {
    const gate = deferred<void>()
    let version = 0
    const { nodes, namespaces } = await cluster(2, {
      node: { peerTimeoutMs: 200 },
      load: async (key) => {
        const mine = ++version
        if (mine === 1) await gate.promise // the owner's load outlives the asker's deadline
        return `${key}#${mine}`
      },
    })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    const before = namespaces[0]!.get(key)
    await namespaces[0]!.delete(key)
    expect(await before).toBe(`${key}#2`) // the fallback load, here
    expect(namespaces[0]!.peek(key)).toBeUndefined()
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ fallbackLoads: 1, writeRaces: 1 })
    gate.resolve()
  })

  it('a set with a fractional ttl rounds it up, from any node; one over 100 years is BURROW_ERR_BAD_TTL', async () => {
    const clock = manualClock()
    const { nodes, namespaces } = await cluster(2, { node: { clock } })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await namespaces[0]!.set(key, 'v', { ttl: 1500.5 })
    clock.t += 1500
    expect(namespaces[1]!.peek(key)).toBe('v')
    clock.t += 1
    expect(namespaces[1]!.peek(key)).toBeUndefined()
    await expect(namespaces[0]!.set(key, 'v', { ttl: 101 * 365 * 24 * 3600_000 })).rejects.toMatchObject({
      code: 'BURROW_ERR_BAD_TTL',
    })
  })

  it('a set of a value too large to keep acts as a delete: no node keeps the old value', async () => {
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { random: () => 0 },
      namespace: { maxBytes: 4096, hot: { probability: 1, fraction: 0.5 } },
    })
    const key = 'big'
    for (const ns of namespaces) await ns.get(key)
    expect(await namespaces[0]!.set(key, 'x'.repeat(4096))).toEqual({ unreachable: [] })
    for (const ns of namespaces) expect(ns.peek(key)).toBeUndefined()
    loads.length = 0
    expect(await namespaces[1]!.get(key)).toBe(`value of ${key}`)
    expect(loads).toEqual([{ self: nodes[0]!.ownerOf(key), key }])
  })

  it('a set too large for a frame fails with BURROW_ERR_FRAME_TOO_LARGE and leaves the connection to the owner up', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { maxFrameBytes: 1024, connectionsPerPeer: 1 } })
    const [key, other] = Array.from({ length: 400 }, (_, i) => `k${i}`).filter(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )
    expect(await namespaces[0]!.get(key!)).toBe(`value of ${key}`)
    await expect(namespaces[0]!.set(key!, 'x'.repeat(2000))).rejects.toMatchObject({
      code: 'BURROW_ERR_FRAME_TOO_LARGE',
    })
    expect(await namespaces[0]!.get(other!)).toBe(`value of ${other}`)
    // One connection, never dropped: a second would have been opened for the last get.
    expect(nodes[0]!.stats().peerClient).toMatchObject({
      connectionsOpened: 1,
      connectionsOpen: 1,
      failures: 0,
    })
  })

  it('a write on a node that closes at once meanwhile rejects with BURROW_ERR_CLOSED instead of naming every peer unreachable', async () => {
    const { nodes, namespaces } = await cluster(3)
    const deleting = namespaces[0]!.delete('k')
    const closing = nodes[0]!.close({ timeoutMs: 0 })
    await expect(deleting).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED' })
    await closing
  })
})
