import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, deferred, node } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

describe('the read path across nodes', () => {
  it('every key read through every node is loaded exactly once, on its owner', async () => {
    const { nodes, namespaces, loads } = await cluster(3, { namespace: { hot: false } })
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`)
    for (const key of keys) {
      for (const ns of namespaces) expect(await ns.get(key)).toBe(`value of ${key}`)
    }
    expect(loads).toHaveLength(keys.length)
    for (const { self, key } of loads) expect(self).toBe(nodes[0]!.ownerOf(key))
    // Every node's view of the ring agrees, and each one owns a share of the keys.
    for (const n of nodes)
      expect(keys.map((k) => n.ownerOf(k))).toEqual(keys.map((k) => nodes[0]!.ownerOf(k)))
    expect(new Set(loads.map((l) => l.self)).size).toBe(3)
  })

  it('1,000 concurrent gets of one cold key spread over 3 nodes make exactly 1 loader call', async () => {
    const gate = deferred<void>()
    const { namespaces, loads } = await cluster(3, {
      load: async (key) => {
        await gate.promise
        return `value of ${key}`
      },
    })
    const gets = Array.from({ length: 1000 }, (_, i) => namespaces[i % 3]!.get('cold'))
    setTimeout(() => gate.resolve(), 50)
    const values = await Promise.all(gets)
    expect(loads).toHaveLength(1)
    expect(values.every((v) => v === 'value of cold')).toBe(true)
  })

  it('not-found from the owner is final: no local load on the asking node', async () => {
    const { nodes, namespaces, loads } = await cluster(2, { load: () => undefined })
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    expect(await namespaces[0]!.get(key)).toBeUndefined()
    expect(loads).toEqual([{ self: nodes[1]!.self, key }])
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ peerLoads: 1, peerErrors: 0, localLoads: 0 })
  })

  it('a loader error on the owner reaches the caller as BURROW_ERR_LOADER and is not retried locally', async () => {
    const { nodes, namespaces, loads } = await cluster(2, {
      load: () => {
        throw new Error('db down')
      },
    })
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await expect(namespaces[0]!.get(key)).rejects.toMatchObject({
      code: 'BURROW_ERR_LOADER',
      peer: nodes[1]!.self,
    })
    expect(loads).toHaveLength(1)
    expect(nodes[0]!.stats().namespaces['test']!.localLoads).toBe(0)
  })

  it('values keep their kind across the wire: strings stay strings, bytes stay bytes', async () => {
    const bytes = new Uint8Array([0, 13, 10, 255, 36, 42])
    const { nodes, namespaces } = await cluster(2, {
      load: (key) => (key.startsWith('b') ? bytes : `s:${key}`),
    })
    const remote = (prefix: string) =>
      Array.from({ length: 100 }, (_, i) => `${prefix}${i}`).find(
        (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
      )!
    const b = await namespaces[0]!.get(remote('b'))
    expect(b).toBeInstanceOf(Uint8Array)
    expect([...(b as Uint8Array)]).toEqual([...bytes])
    const s = remote('s')
    expect(await namespaces[0]!.get(s)).toBe(`s:${s}`)
  })

  it('a value fetched from its owner is promoted to the hot cache when the policy draws it', async () => {
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { random: () => 0 },
      namespace: { hot: { probability: 0.5 }, policy: 'lru' },
    })
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await namespaces[0]!.get(key)
    expect(namespaces[0]!.peek(key)).toBe(`value of ${key}`)
    expect(nodes[0]!.stats().namespaces['test']!.hot.items).toBe(1)
    expect(nodes[0]!.stats().namespaces['test']!.main.items).toBe(0)
    await namespaces[0]!.get(key)
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ peerLoads: 1, hits: 1 })
    expect(loads).toHaveLength(1)
  })

  it('with a policy that never draws, nothing is mirrored and every read asks the owner', async () => {
    const { nodes, namespaces } = await cluster(2, {
      node: { random: () => 0.99 },
      namespace: { hot: { probability: 0.5 }, policy: 'lru' },
    })
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    await namespaces[0]!.get(key)
    await namespaces[0]!.get(key)
    expect(namespaces[0]!.peek(key)).toBeUndefined()
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ peerLoads: 2, hits: 0 })
    expect(nodes[1]!.stats().namespaces['test']).toMatchObject({ serverRequests: 2, localLoads: 1 })
  })

  it('a single node owns everything and never dials anyone', async () => {
    const n = node()
    const ns = n.namespace('test', { load: (k) => k })
    await n.listen()
    expect(await ns.get('x')).toBe('x')
    expect(n.stats().peerClient.requests).toBe(0)
  })
})

describe('the peer protocol under load', () => {
  it('thousands of gets in flight at once all reach the owner, with no peer error and no fallback', async () => {
    // A generous deadline: on a busy 2-core machine, ~3,000 gets queued at once can take over
    // the default 1 s of the cluster helper, and a timeout is not what this test is about.
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { peerTimeoutMs: 10_000 },
      namespace: { hot: false },
      load: (key) => `${key}:`.repeat(20),
    })
    const keys = Array.from({ length: 6000 }, (_, i) => `key-${i}-ü`).filter(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )
    const values = await Promise.all(keys.map((k) => namespaces[0]!.get(k)))
    expect(values).toEqual(keys.map((k) => `${k}:`.repeat(20)))
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({
      peerLoads: keys.length,
      peerErrors: 0,
      localLoads: 0,
    })
    expect(loads.every((l) => l.self === nodes[1]!.self)).toBe(true)
  })
})

describe('values larger than the asking node accepts', () => {
  it('fail alone, by fallback: the other requests on the connection are answered by the owner', async () => {
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { maxFrameBytes: 4096 },
      namespace: { hot: false },
      load: (key) => (key.startsWith('big') ? 'x'.repeat(5000) : `small ${key}`),
    })
    const remote = (prefix: string, count: number) =>
      Array.from({ length: 400 }, (_, i) => `${prefix}${i}`)
        .filter((k) => nodes[0]!.ownerOf(k) === nodes[1]!.self)
        .slice(0, count)
    const [big] = remote('big', 1)
    const small = remote('s', 6)
    const values = await Promise.all([namespaces[0]!.get(big!), ...small.map((k) => namespaces[0]!.get(k))])
    expect(values).toEqual(['x'.repeat(5000), ...small.map((k) => `small ${k}`)])
    // The big one was loaded by the owner, refused by the asker, then loaded by the asker itself.
    expect(loads.filter((l) => l.key === big)).toHaveLength(2)
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({
      peerErrors: 1,
      fallbackLoads: 1,
      peerLoads: 6,
    })
    expect(nodes[0]!.stats().peerClient.failures).toBe(0)
  })
})
