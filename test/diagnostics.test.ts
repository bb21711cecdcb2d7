/**
 * The diagnostics channels: what each publishes, when, and for which node. Every test subscribes
 * to all of them and looks at what came (see test/support/channels.ts).
 */
import { hasSubscribers } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { BurrowError, diagnosticsChannels, type PeerSource } from '../src/index.ts'
import { closeAll, deferred, node, onCleanup } from './helpers.ts'
import { recordChannels } from './support/channels.ts'
import { cluster } from './support/cluster.ts'
import { command, talk } from './support/resp-talk.ts'

afterEach(closeAll)

/** The first of `count` keys `k0`, `k1`, … that `owner` owns on `n`'s ring. */
function keyOwnedBy(n: { ownerOf(key: string): string }, owner: string, skip = 0): string {
  const keys = Array.from({ length: 500 }, (_, i) => `k${i}`).filter((k) => n.ownerOf(k) === owner)
  return keys[skip]!
}

describe('channel names', () => {
  it('are all under burrow:, distinct, and nobody listens to them until someone subscribes', () => {
    const names = Object.values(diagnosticsChannels)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) {
      expect(name).toMatch(/^burrow:[a-z-]+(\.[a-z-]+)*$/)
      expect(hasSubscribers(name)).toBe(false)
    }
  })

  it('each has its row in docs/diagnostics.md', () => {
    const doc = readFileSync(new URL('../docs/diagnostics.md', import.meta.url), 'utf8')
    for (const name of Object.values(diagnosticsChannels)) expect(doc).toContain(`| \`${name}\` |`)
  })
})

describe('loads', () => {
  it('a miss publishes load.start then load.end (namespace, key, duration, found); a hit publishes nothing', async () => {
    const n = node()
    const ns = n.namespace('test', { load: (key) => (key === 'gone' ? undefined : `value of ${key}`) })
    const r = recordChannels()
    expect(await ns.get('k')).toBe('value of k')
    expect(r.seen.map((s) => s.name)).toEqual(['burrow:load.start', 'burrow:load.end'])
    expect(r.of('burrow:load.start')).toEqual([{ node: n, namespace: 'test', key: 'k' }])
    const [end] = r.of('burrow:load.end')
    expect(end).toMatchObject({ node: n, namespace: 'test', key: 'k', found: true })
    expect(end!.durationMs).toBeGreaterThanOrEqual(0)
    const before = r.seen.length
    expect(await ns.get('k')).toBe('value of k')
    expect(ns.peek('k')).toBe('value of k')
    expect(r.seen.length).toBe(before)
    await ns.get('gone')
    expect(r.of('burrow:load.end').at(-1)).toMatchObject({ key: 'gone', found: false })
  })

  it('a loader that throws, rejects or returns a bad value publishes load.error with the BurrowError', async () => {
    const n = node()
    const ns = n.namespace('test', {
      load: async (key) => {
        if (key === 'throws') throw new Error('database down')
        if (key === 'bad') return 42 as unknown as string
        return Promise.reject(new Error('rejected'))
      },
    })
    const sync = n.namespace('sync', {
      load: () => {
        throw new Error('sync failure')
      },
    })
    const r = recordChannels()
    for (const key of ['throws', 'bad', 'rejects'])
      await expect(ns.get(key)).rejects.toBeInstanceOf(BurrowError)
    await expect(sync.get('k')).rejects.toBeInstanceOf(BurrowError)
    const errors = r.of('burrow:load.error')
    expect(errors.map((e) => [e.namespace, e.key, (e.error as BurrowError).code])).toEqual([
      ['test', 'throws', 'BURROW_ERR_LOADER'],
      ['test', 'bad', 'BURROW_ERR_BAD_VALUE'],
      ['test', 'rejects', 'BURROW_ERR_LOADER'],
      ['sync', 'k', 'BURROW_ERR_LOADER'],
    ])
    for (const e of errors) expect(e.durationMs).toBeGreaterThanOrEqual(0)
    expect(((errors[0]!.error as BurrowError).cause as Error).message).toBe('database down')
    expect(r.of('burrow:load.end')).toEqual([])
  })

  it('a load that began before anyone subscribed ends with durationMs undefined', async () => {
    const n = node()
    const gate = deferred<string>()
    const ns = n.namespace('test', { load: () => gate.promise })
    const get = ns.get('k')
    const r = recordChannels()
    gate.resolve('v')
    expect(await get).toBe('v')
    expect(r.of('burrow:load.start')).toEqual([])
    expect(r.of('burrow:load.end')).toEqual([
      { node: n, namespace: 'test', key: 'k', durationMs: undefined, found: true },
    ])
  })

  it('a load refused at the node’s bound publishes overload with the gate’s state', async () => {
    const n = node({ maxConcurrentLoads: 1, maxQueuedLoads: 0 })
    const gate = deferred<string>()
    const ns = n.namespace('test', { load: () => gate.promise })
    const r = recordChannels()
    const running = ns.get('a')
    await expect(ns.get('b')).rejects.toMatchObject({ code: 'BURROW_ERR_OVERLOADED' })
    expect(r.of('burrow:overload')).toEqual([{ node: n, running: 1, queued: 0 }])
    gate.resolve('v')
    await running
  })
})

describe('peer fetches and fallbacks', () => {
  it('a get of another node’s key publishes peer.fetch.start and peer.fetch.end on the asking node', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: false }, namespace: { hot: false } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const key = keyOwnedBy(a, b.self)
    const r = recordChannels()
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(r.of('burrow:peer.fetch.start', a)).toEqual([{ node: a, peer: b.self, namespace: 'test', key }])
    const [end] = r.of('burrow:peer.fetch.end', a)
    expect(end).toMatchObject({ node: a, peer: b.self, namespace: 'test', key, found: true })
    expect(end!.durationMs).toBeGreaterThanOrEqual(0)
    // The owner loaded it: the load is published by the owner, not by the node that asked.
    expect(r.of('burrow:load.start', b)).toEqual([{ node: b, namespace: 'test', key }])
    expect(r.of('burrow:load.start', a)).toEqual([])
  })

  it('an owner that cannot be reached publishes peer.fetch.error, then fallback, then the local load', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: false }, namespace: { hot: false } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const key = keyOwnedBy(a, b.self)
    const owner = b.self
    await b.close({ timeoutMs: 0 })
    const r = recordChannels()
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    const [error] = r.of('burrow:peer.fetch.error', a)
    expect(error).toMatchObject({ node: a, peer: owner, namespace: 'test', key })
    expect((error!.error as BurrowError).code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    expect(r.of('burrow:fallback', a)).toEqual([
      { node: a, peer: owner, namespace: 'test', key, error: error!.error },
    ])
    const order = r.seen.filter((s) => s.message.node === a).map((s) => s.name)
    expect(order).toEqual([
      'burrow:peer.fetch.start',
      'burrow:peer.fetch.error',
      'burrow:fallback',
      'burrow:load.start',
      'burrow:load.end',
    ])
  })
})

describe('evictions', () => {
  it('each entry evicted to make room publishes evict with its key and cache', async () => {
    const n = node()
    const ns = n.namespace('test', {
      maxBytes: 4096,
      maxEntryBytes: 512,
      load: (key) => `${key}:${'x'.repeat(300)}`,
    })
    const r = recordChannels()
    for (let i = 0; i < 40; i++) await ns.get(`k${i}`)
    const evicted = r.of('burrow:evict', n)
    expect(evicted.length).toBe(ns.stats().main.evictions)
    expect(evicted.length).toBeGreaterThan(0)
    expect(evicted[0]).toMatchObject({ node: n, namespace: 'test', cache: 'main' })
    expect(new Set(evicted.map((e) => e.key)).size).toBe(evicted.length)
    for (const e of evicted) {
      expect(e.key).toMatch(/^k\d+$/)
      expect(ns.peek(e.key)).toBeUndefined()
    }
  })
})

describe('membership', () => {
  it('setPeers publishes ring with the peers added and removed', async () => {
    const n = node({ self: 'http://127.0.0.1:7001', liveness: false })
    const r = recordChannels()
    n.setPeers(['http://127.0.0.1:7001', 'http://127.0.0.1:7002', 'http://127.0.0.1:7003'])
    n.setPeers(['http://127.0.0.1:7001', 'http://127.0.0.1:7003'])
    n.setPeers(['http://127.0.0.1:7001', 'http://127.0.0.1:7003'])
    expect(r.of('burrow:ring')).toEqual([
      {
        node: n,
        peers: ['http://127.0.0.1:7001', 'http://127.0.0.1:7002', 'http://127.0.0.1:7003'],
        added: ['http://127.0.0.1:7002', 'http://127.0.0.1:7003'],
        removed: [],
      },
      {
        node: n,
        peers: ['http://127.0.0.1:7001', 'http://127.0.0.1:7003'],
        added: [],
        removed: ['http://127.0.0.1:7002'],
      },
    ])
    expect(n.stats().ringChanges).toBe(2)
  })

  it('a peer that leaves gracefully is published as peer.down with reason left', async () => {
    const { nodes } = await cluster(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const r = recordChannels()
    const leaving = b.self
    await b.close()
    expect(await r.when('burrow:peer.down', (m) => m.node === a)).toEqual({
      node: a,
      peer: leaving,
      reason: 'left',
    })
    expect(await r.when('burrow:ring', (m) => m.node === a)).toMatchObject({ removed: [leaving], added: [] })
  })

  it('a peer that stops answering is published as peer.down (unreachable), and peer.up when it answers again', async () => {
    const fast = { intervalMs: 50, timeoutMs: 200 }
    const { nodes } = await cluster(2, { node: { liveness: fast } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const gone = b.self
    const r = recordChannels()
    await b.close({ timeoutMs: 0 })
    expect(await r.when('burrow:peer.down', (m) => m.node === a)).toEqual({
      node: a,
      peer: gone,
      reason: 'unreachable',
    })
    const back = node({ self: gone, peers: [a.self, gone], liveness: fast })
    back.namespace('test', { load: (key) => key })
    await back.listen()
    expect(await r.when('burrow:peer.up', (m) => m.node === a)).toEqual({ node: a, peer: gone })
    expect(r.of('burrow:ring', a).map((m) => [m.added, m.removed])).toEqual([
      [[], [gone]],
      [[gone], []],
    ])
  })

  it('a peer source’s recoverable failure is published as peer-source.error', async () => {
    const source: PeerSource = {
      name: 'flaky',
      start: async (ctx) => {
        ctx.update([ctx.self])
        setImmediate(() => ctx.error(new Error('lookup failed')))
        return { stop: async () => {} }
      },
    }
    const n = node({ peers: source })
    const r = recordChannels()
    await n.listen()
    const message = await r.when('burrow:peer-source.error')
    expect(message).toMatchObject({ node: n, source: 'flaky' })
    expect((message.error as BurrowError).code).toBe('BURROW_ERR_PEER_SOURCE')
  })
})

describe('purges', () => {
  it('a write publishes purge.sent per peer; an unreachable peer is owed the purge, delivered when it is back', async () => {
    const { nodes, namespaces } = await cluster(2, { node: { liveness: false } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const r = recordChannels()
    await namespaces[0]!.delete('k1')
    expect(r.of('burrow:purge.sent', a)).toEqual([
      { node: a, peer: b.self, namespace: 'test', key: 'k1', error: undefined },
    ])

    const gone = b.self
    await b.close({ timeoutMs: 0 })
    expect(await namespaces[0]!.delete('k2')).toEqual({ unreachable: [gone] })
    const failed = r.of('burrow:purge.sent', a).at(-1)!
    expect(failed).toMatchObject({ peer: gone, key: 'k2' })
    expect((failed.error as BurrowError).code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    expect(r.of('burrow:purge.owed', a)).toEqual([{ node: a, peer: gone, namespace: 'test', key: 'k2' }])

    const back = node({ self: gone, peers: [a.self, gone], liveness: false })
    back.namespace('test', { load: (key) => key })
    await back.listen()
    expect(await r.when('burrow:purge.delivered', (m) => m.node === a && m.failed === 0)).toEqual({
      node: a,
      peer: gone,
      purges: 1,
      flushes: 0,
      failed: 0,
    })
    expect(a.stats().owedPurges).toBe(0)
  })
})

describe('the port’s limits', () => {
  it('a connection refused over maxConnections publishes server.limit maxConnections with its address', async () => {
    const n = node({ maxConnections: 1 })
    await n.listen()
    const first = await talk(n.self)
    onCleanup(() => first.socket.destroy())
    first.write(command('PING'))
    expect(await first.replies(1)).toEqual(['PONG'])
    const r = recordChannels()
    const { port } = new URL(n.self)
    const second = connect({ host: '127.0.0.1', port: Number(port) })
    second.on('error', () => {})
    onCleanup(() => second.destroy())
    expect(await r.when('burrow:server.limit')).toEqual({
      node: n,
      limit: 'maxConnections',
      remoteAddress: '127.0.0.1',
    })
  })

  it('a request too slow to arrive publishes server.limit requestTimeoutMs', async () => {
    const n = node({ requestTimeoutMs: 50 })
    await n.listen()
    const r = recordChannels()
    const { port } = new URL(n.self)
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    socket.on('error', () => {})
    onCleanup(() => socket.destroy())
    socket.write('*2\r\n$4\r\nPI')
    expect(await r.when('burrow:server.limit')).toEqual({
      node: n,
      limit: 'requestTimeoutMs',
      remoteAddress: '127.0.0.1',
    })
    expect(n.stats().server.timedOut).toBe(1)
  })
})

describe('the port’s reply buffer', () => {
  it('a client that never reads its replies publishes server.limit maxReplyBufferBytes', async () => {
    const n = node({ maxReplyBufferBytes: 1 << 20, requestTimeoutMs: 200 })
    n.namespace('test', { load: () => 'x'.repeat(256 * 1024) })
    await n.listen()
    const r = recordChannels()
    const { port } = new URL(n.self)
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    socket.on('error', () => {})
    onCleanup(() => socket.destroy())
    socket.pause()
    socket.write(Buffer.concat(Array.from({ length: 100 }, () => command('BURROW.GET', 'test', 'big'))))
    expect(await r.when('burrow:server.limit')).toEqual({
      node: n,
      limit: 'maxReplyBufferBytes',
      remoteAddress: '127.0.0.1',
    })
  })
})

describe('two nodes in one process', () => {
  it('each message names the node that published it', async () => {
    const one = node()
    const two = node()
    const ns1 = one.namespace('test', { load: (key) => key })
    const ns2 = two.namespace('test', { load: (key) => key })
    const r = recordChannels()
    await ns1.get('a')
    await ns2.get('b')
    expect(r.of('burrow:load.start', one).map((m) => m.key)).toEqual(['a'])
    expect(r.of('burrow:load.start', two).map((m) => m.key)).toEqual(['b'])
  })
})
