import { afterEach, describe, expect, it } from 'vitest'
import { ChildNode, loadsReported } from './support/cluster.ts'

/** Three node processes with certain hot copies and clocks that move only when the test says. */
let children: ChildNode[] = []
const T0 = 1_700_000_000_000

async function start(namespace: Record<string, unknown> = {}): Promise<ChildNode[]> {
  children = await Promise.all(
    [0, 1, 2].map(() =>
      ChildNode.start({ now: T0, certainHot: true, namespace: { hot: { probability: 1 }, ...namespace } }),
    ),
  )
  const peers = children.map((c) => c.self)
  await Promise.all(children.map((c) => c.setPeers(peers)))
  return children
}

async function setClocks(now: number): Promise<void> {
  await Promise.all(children.map((c) => c.setClock(now)))
}

afterEach(async () => {
  await Promise.all(children.map((c) => c.kill()))
  children = []
})

describe('writes across node processes', () => {
  it('after await set or delete on any node, gets on every node see the write, hot copies included', async () => {
    const nodes = await start()
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`)
    for (const key of keys) for (const n of nodes) expect((await n.get(key)).value).toBe(`value of ${key}`)

    for (const [i, key] of keys.entries()) {
      expect((await nodes[i % 3]!.set(key, `new ${key}`)).value).toBe('{"unreachable":[]}')
      for (const n of nodes) expect((await n.get(key)).value).toBe(`new ${key}`)
    }
    for (const [i, key] of keys.entries()) {
      expect((await nodes[(i + 1) % 3]!.delete(key)).value).toBe('{"unreachable":[]}')
      for (const n of nodes) expect((await n.peek(key)).value).toBeNull()
      for (const n of nodes) expect((await n.get(key)).value).toBe(`value of ${key}`)
    }
    // Each key: loaded once at first, once more after its delete, and never by a non-owner.
    const loads = await loadsReported(() => nodes.flatMap((n) => n.loads), keys.length * 2)
    expect(loads).toHaveLength(keys.length * 2)
  })

  it('a hot copy expires with its owner’s copy: it carries the time the owner’s copy has left', async () => {
    const nodes = await start({ ttl: 10_000 })
    const key = 'expiring'
    // The first get loads on the owner at T0; find the owner from where the load happened.
    await nodes[0]!.get(key)
    const ownerId = (await loadsReported(() => nodes.flatMap((n) => n.loads), 1))[0]!.self
    const reader = nodes.find((n) => n.self !== ownerId)!
    await setClocks(T0 + 4000)
    expect((await reader.get(key)).value).toBe(`value of ${key}`)
    expect((await reader.peek(key)).value).toBe(`value of ${key}`) // a hot copy, 6000 ms left
    await setClocks(T0 + 9999)
    expect((await reader.peek(key)).value).toBe(`value of ${key}`)
    await setClocks(T0 + 10_000)
    expect((await reader.peek(key)).value).toBeNull()
  })
})
