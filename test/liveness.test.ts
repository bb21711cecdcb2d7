import { afterEach, describe, expect, it } from 'vitest'
import { Liveness } from '../src/membership/liveness.ts'
import { closeAll, freePort, node, ringWhere } from './helpers.ts'
import { ChildNode, cluster } from './support/cluster.ts'

const children: ChildNode[] = []
afterEach(async () => {
  await closeAll()
  for (const c of children) c.thaw()
  await Promise.all(children.splice(0).map((c) => c.kill()))
})

/** Fast probing, so tests wait for events, not for seconds. */
const fast = { intervalMs: 40, timeoutMs: 150 }

describe('peers listed at construction', () => {
  it('are probed from the start: a node given a fixed list (never calling setPeers) drops a dead peer', async () => {
    const b = node()
    await b.listen()
    // Not listening, and never told setPeers: only the constructor's list.
    const a = node({ peers: [b.self], liveness: fast })
    expect(a.peers).toContain(b.self)
    await b.close({ timeoutMs: 0 })
    expect(await ringWhere(a, (peers) => !peers.includes(b.self))).toEqual([a.self])
  })

  it('take a leaving peer off the ring at once, on a node given a fixed list', async () => {
    const b = node()
    await b.listen()
    const a = node({ self: `http://127.0.0.1:${await freePort()}`, peers: [b.self] })
    await a.listen()
    b.setPeers([a.self, b.self])
    await b.close()
    expect(a.peers).toEqual([a.self])
  })
})

describe('the prober', () => {
  it('one lost probe is not death: a peer is down after two failures in a row, and up after one answer', async () => {
    const answers: boolean[] = [false, true, false, false, true]
    const events: string[][] = []
    const unreachable: string[] = []
    let done!: () => void
    const finished = new Promise<void>((resolve) => (done = resolve))
    const liveness = new Liveness(
      {
        ping: () => {
          const ok = answers.shift()
          if (answers.length === 0) setImmediate(done)
          return ok === undefined
            ? new Promise(() => {})
            : ok
              ? Promise.resolve()
              : Promise.reject(new Error('no'))
        },
        changed: (down) => events.push([...down]),
        unreachable: (peer) => unreachable.push(peer),
      },
      { intervalMs: 10, timeoutMs: 10, maxProbes: 1 },
    )
    liveness.watch(['http://b:1'])
    await finished
    liveness.stop()
    // false,true: retried at once and answered, so never down; false,false: down; true: back.
    expect(events).toEqual([['http://b:1'], []])
    expect(unreachable).toEqual(['http://b:1'])
  })

  it('a peer that says it leaves is down too, but not unreachable: what it was asked, it still answers', () => {
    const unreachable: string[] = []
    const events: string[][] = []
    const liveness = new Liveness(
      {
        ping: () => new Promise(() => {}),
        changed: (down) => events.push([...down]),
        unreachable: (p) => unreachable.push(p),
      },
      { intervalMs: 60_000, timeoutMs: 10, maxProbes: 1 },
    )
    liveness.watch(['http://b:1'])
    liveness.left('http://b:1')
    liveness.stop()
    expect(events).toEqual([['http://b:1']])
    expect(unreachable).toEqual([])
  })

  it('probes at most maxProbes peers an interval, taking turns', async () => {
    const pinged: string[] = []
    const liveness = new Liveness(
      {
        ping: (peer) => {
          pinged.push(peer)
          return Promise.resolve()
        },
        changed: () => {},
        unreachable: () => {},
      },
      { intervalMs: 10, timeoutMs: 10, maxProbes: 2 },
    )
    const peers = ['http://a:1', 'http://b:1', 'http://c:1', 'http://d:1', 'http://e:1']
    liveness.watch(peers)
    while (pinged.length < 10) await new Promise((resolve) => setTimeout(resolve, 5))
    liveness.stop()
    // Two a round, in turn: every peer within three rounds.
    expect(new Set(pinged.slice(0, 6)).size).toBe(5)
    expect(pinged.slice(0, 2)).not.toContain(pinged[2])
  })
})

describe('liveness across nodes', () => {
  it('a node that stops leaves the others’ rings, its keys go to the others, and it comes back when it answers again', async () => {
    const { nodes, namespaces } = await cluster(3, { node: { liveness: fast } })
    const gone = nodes[2]!
    const goneId = gone.self
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`).filter((k) => nodes[0]!.ownerOf(k) === goneId)
    await gone.close()
    const ring = await ringWhere(nodes[0]!, (peers) => !peers.includes(goneId))
    expect(ring).toEqual([nodes[0]!.self, nodes[1]!.self].sort())
    expect(nodes[0]!.stats().down).toEqual([goneId])
    const timeouts = nodes[0]!.stats().peerClient.timeouts
    for (const key of keys.slice(0, 10)) {
      expect(nodes[0]!.ownerOf(key)).not.toBe(goneId)
      expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    }
    expect(nodes[0]!.stats().peerClient.timeouts).toBe(timeouts)
    // The same id comes back (a restart on the same port): it is on the ring again.
    const back = node({ self: goneId, peers: nodes.map((n) => n.self), liveness: fast })
    back.namespace('test', { load: (key) => `value of ${key}` })
    await back.listen()
    expect(await ringWhere(nodes[0]!, (peers) => peers.includes(goneId))).toContain(goneId)
    expect(nodes[0]!.stats().down).toEqual([])
  })

  it('a frozen process (SIGSTOP) leaves the ring, and joins it again on SIGCONT', async () => {
    const started = await Promise.all([ChildNode.start(), ChildNode.start()])
    children.push(...started)
    const observer = node({ liveness: fast, peerTimeoutMs: 3000 })
    const ns = observer.namespace('test', { load: (key) => `here ${key}` })
    await observer.listen()
    const peers = [observer.self, ...started.map((c) => c.self)]
    await Promise.all(started.map((c) => c.setPeers(peers)))
    observer.setPeers(peers)
    const frozen = started[0]!
    await frozen.freeze()
    await ringWhere(observer, (ring) => !ring.includes(frozen.self))
    // Known down: a get of one of its keys goes elsewhere at once instead of waiting out 3 s.
    const key = Array.from({ length: 300 }, (_, i) => `f${i}`).find(
      (k) => observer.ownerOf(k) === observer.self,
    )!
    expect(await ns.get(key)).toBe(`here ${key}`)
    expect(observer.stats().peerClient.timeouts).toBe(0)
    frozen.thaw()
    expect(await ringWhere(observer, (ring) => ring.includes(frozen.self))).toContain(frozen.self)
  })

  it('a get already waiting on an owner that freezes fails over when the owner is found down, not at its deadline', async () => {
    const [owner] = await Promise.all([ChildNode.start()])
    children.push(owner!)
    // A 20 s peer deadline: the test's own timeout fails it if the get waits for it.
    const asker = node({ liveness: fast, peerTimeoutMs: 20_000, handoff: false })
    const ns = asker.namespace('test', { load: (key) => `here ${key}` })
    await asker.listen()
    const peers = [asker.self, owner!.self]
    await owner!.setPeers(peers)
    asker.setPeers(peers)
    const key = Array.from({ length: 300 }, (_, i) => `w${i}`).find((k) => asker.ownerOf(k) === owner!.self)!
    await owner!.freeze()
    const get = ns.get(key)
    expect(await get).toBe(`here ${key}`)
    expect(asker.stats().namespaces['test']).toMatchObject({ fallbackLoads: 1 })
    expect(asker.stats().down).toEqual([owner!.self])
  })

  it('liveness: false keeps every listed peer on the ring', async () => {
    const { nodes } = await cluster(2, { node: { liveness: false } })
    await nodes[1]!.close()
    expect(nodes[0]!.peers).toEqual(nodes.map((n) => n.self).sort())
    expect(nodes[0]!.stats().down).toEqual([])
  })

  it('liveness options are checked eagerly', () => {
    for (const liveness of [{ intervalMs: 0 }, { timeoutMs: -1 }, { maxProbes: 0 }, { every: 5 }, 'fast']) {
      expect(() => node({ liveness } as never)).toThrow(
        expect.objectContaining({ code: 'BURROW_ERR_BAD_OPTION' }),
      )
    }
  })
})
