import { afterEach, describe, expect, it } from 'vitest'
import { type BurrowError, Ring } from '../src/index.ts'
import { closeAll, deferred, node, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'
import { command, talk } from './support/resp-talk.ts'

afterEach(closeAll)

/** Settles `promise` into its value or its error code, so a test can look at both. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (err: BurrowError) => err.code,
  )
}

describe('the bound on loader calls', () => {
  it('runs at most maxConcurrentLoads at once, queues maxQueuedLoads, and refuses the rest at once', async () => {
    const gate = deferred<void>()
    const started: string[] = []
    const n = node({ maxConcurrentLoads: 2, maxQueuedLoads: 2 })
    const ns = n.namespace('test', {
      load: async (key) => {
        started.push(key)
        await gate.promise
        return `value of ${key}`
      },
    })
    const gets = ['a', 'b', 'c', 'd', 'e'].map((key) => outcome(ns.get(key)))
    // Another get of a running key joins its flight: no second turn is taken.
    const again = outcome(ns.get('a'))
    expect(await gets[4]).toBe('BURROW_ERR_OVERLOADED')
    expect(started).toEqual(['a', 'b'])
    expect(n.stats().loads).toEqual({ running: 2, queued: 2, overloaded: 1 })
    gate.resolve()
    expect(await Promise.all([...gets.slice(0, 4), again])).toEqual(
      ['a', 'b', 'c', 'd', 'a'].map((k) => `value of ${k}`),
    )
    expect(started).toEqual(['a', 'b', 'c', 'd'])
    expect(n.stats().loads).toEqual({ running: 0, queued: 0, overloaded: 1 })
    expect(ns.stats().localLoads).toBe(4)
  })

  it('is shared by the namespaces of a node, and a failed load gives its turn back', async () => {
    const n = node({ maxConcurrentLoads: 1, maxQueuedLoads: 0 })
    const first = deferred<string>()
    const one = n.namespace('one', { load: () => first.promise })
    const two = n.namespace('two', { load: (key) => key })
    const running = outcome(one.get('k'))
    expect(await outcome(two.get('k'))).toBe('BURROW_ERR_OVERLOADED')
    first.reject(new Error('the database is down'))
    expect(await running).toBe('BURROW_ERR_LOADER')
    expect(await two.get('k')).toBe('k')
  })

  it('rejects the loads still waiting when the node closes', async () => {
    const n = node({ maxConcurrentLoads: 1 })
    const ns = n.namespace('test', { load: () => new Promise<string>(() => {}) })
    const running = outcome(ns.get('a'))
    const waiting = outcome(ns.get('b'))
    await n.close({ timeoutMs: 0 })
    expect(await Promise.all([running, waiting])).toEqual(['BURROW_ERR_CLOSED', 'BURROW_ERR_CLOSED'])
    expect(n.stats().loads.queued).toBe(0)
  })

  it('checks its options', () => {
    expect(thrownBy(() => node({ maxConcurrentLoads: 0 })).code).toBe('BURROW_ERR_BAD_OPTION')
    expect(thrownBy(() => node({ maxQueuedLoads: -1 })).code).toBe('BURROW_ERR_BAD_OPTION')
    expect(thrownBy(() => node({ maxConcurrentLoads: 1.5 })).code).toBe('BURROW_ERR_BAD_OPTION')
  })
})

describe('a peer fetch for a key this node does not own', () => {
  it('is refused unless the node holds the key: a client cannot make every node load it', async () => {
    const { nodes, loads } = await cluster(3)
    const key = 'some-key'
    const owner = nodes[0]!.ownerOf(key)
    const replies = await Promise.all(
      nodes.map(async (n, i) => {
        const c = await talk(n.self)
        try {
          c.write(command('BURROW.FETCH', String(i + 1), 'test', key))
          return (await c.replies(1))[0]
        } finally {
          c.socket.destroy()
        }
      }),
    )
    for (const [i, n] of nodes.entries()) {
      if (n.self === owner) expect(replies[i]).toEqual([i + 1, 's', Buffer.from(`value of ${key}`), -1])
      else
        expect(replies[i]).toEqual([
          i + 1,
          'e',
          expect.objectContaining({ message: expect.stringMatching(/^BURROW_ERR_NOT_OWNER /) }),
        ])
    }
    expect(loads).toEqual([{ self: owner, key }])
  })

  it('while two rings disagree, the asking node loads the key itself and the get succeeds', async () => {
    const { nodes, namespaces, loads } = await cluster(3, { node: { liveness: false } })
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    // b has heard of a fourth node that a has not: some keys a sends to b are that node's on b's ring.
    const fourth = 'http://127.0.0.1:1'
    const bRing = new Ring([a.self, b.self, c.self, fourth])
    const key = Array.from({ length: 2000 }, (_, i) => `k${i}`).find(
      (k) => a.ownerOf(k) === b.self && bRing.owner(k) !== b.self,
    )!
    b.setPeers([a.self, b.self, c.self, fourth])
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(loads.map((l) => l.self)).toEqual([a.self])
    expect(a.stats().namespaces['test']).toMatchObject({ peerErrors: 1, fallbackLoads: 1 })
    expect(b.stats().namespaces['test']!.notOwner).toBe(1)
  })
})
