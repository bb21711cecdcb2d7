/**
 * The groupcache peer client (`protocol: 'groupcache'`) against a fake peer on loopback that
 * answers whatever a test wants: malformed protobuf, redirects, huge bodies, silence, resets.
 * The real Go nodes are in groupcache-interop.test.ts; this mock stands beside them for faults.
 */

import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Burrow,
  BurrowError,
  type BurrowOptions,
  type Namespace,
  type NamespaceOptions,
  type StoredValue,
} from '../src/index.ts'
import { GroupcacheClient, type GroupcacheClientOptions } from '../src/transport/client/groupcache-client.ts'
import { encodeGetResponse } from '../src/transport/groupcache/get-response.ts'
import { closeAll, deferred, node, onCleanup, ringWhere, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A fake peer: an HTTP server on 127.0.0.1 that records what it is asked and answers with `handle`. */
async function fakePeer(handle: Handler): Promise<{
  self: string
  requests: { url: string; headers: IncomingMessage['headers'] }[]
  sockets: Set<Socket>
  maxOpen: number
  setHandler(h: Handler): void
}> {
  let handler = handle
  const sockets = new Set<Socket>()
  const requests: { url: string; headers: IncomingMessage['headers'] }[] = []
  const state = { maxOpen: 0 }
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers })
    handler(req, res)
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    state.maxOpen = Math.max(state.maxOpen, sockets.size)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  const { port } = server.address() as { port: number }
  return {
    self: `http://127.0.0.1:${port}`,
    requests,
    sockets,
    get maxOpen() {
      return state.maxOpen
    },
    setHandler: (h) => {
      handler = h
    },
  }
}

/** Answers as a Go node would: a GetResponse of `value` (a string's UTF-8). */
const goValue =
  (value: (key: string) => Uint8Array | string): Handler =>
  (req, res) => {
    const key = decodeURIComponent((req.url ?? '').split('/').slice(3).join('/'))
    const body = encodeGetResponse({ value: value(key) })
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length })
    res.end(body)
  }

/** A groupcache node beside `peer`, with namespace `test` whose loader answers `local KEY`. */
async function nodeBeside(
  peer: string,
  options: { node?: BurrowOptions; namespace?: Partial<NamespaceOptions> } = {},
): Promise<{ n: Burrow; ns: ReturnType<Burrow['namespace']>; loads: string[]; keyOfPeer: string }> {
  const n = node({ protocol: 'groupcache', liveness: false, peerTimeoutMs: 2000, ...options.node })
  const loads: string[] = []
  const ns = n.namespace('test', {
    groupcacheValues: 'bytes',
    ...options.namespace,
    load: (key) => {
      loads.push(key)
      return `local ${key}`
    },
  })
  await n.listen()
  n.setPeers([n.self, peer])
  const keyOfPeer = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
    (k) => n.ownerOf(k) === peer,
  ) as string
  return { n, ns, loads, keyOfPeer }
}

async function rejection(promise: Promise<unknown>): Promise<BurrowError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(BurrowError)
  return err as BurrowError
}

describe('a groupcache node asking a peer that misbehaves', () => {
  it('refuses a malformed GetResponse with BURROW_ERR_PROTOCOL, never returning a value from it', async () => {
    const bodies = ['0a0561', '0f', '0a', '3b0801', `0a${'ff'.repeat(10)}`]
    let body = ''
    const peer = await fakePeer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' })
      res.end(Buffer.from(body, 'hex'))
    })
    const { n, ns, loads, keyOfPeer } = await nodeBeside(peer.self, { namespace: { peerFallback: false } })
    for (const b of bodies) {
      body = b
      const err = await rejection(ns.get(keyOfPeer))
      expect(err.code, b).toBe('BURROW_ERR_PROTOCOL')
      expect(err.peer).toBe(peer.self)
    }
    expect(loads).toEqual([])
    expect(n.stats().peerClient.failures).toBe(bodies.length)
  })

  it('with peerFallback (the default), loads a key here when its owner sends garbage', async () => {
    const peer = await fakePeer((_req, res) => res.end(Buffer.from('0a0561', 'hex')))
    const { n, ns, loads, keyOfPeer } = await nodeBeside(peer.self)
    expect(await ns.get(keyOfPeer)).toBe(`local ${keyOfPeer}`)
    expect(loads).toEqual([keyOfPeer])
    expect(n.stats().namespaces.test).toMatchObject({ peerErrors: 1, fallbackLoads: 1 })
  })

  it('never follows a redirect', async () => {
    const peer = await fakePeer((_req, res) => {
      res.writeHead(301, { location: '/_groupcache/test/elsewhere' })
      res.end()
    })
    const { ns, keyOfPeer } = await nodeBeside(peer.self, { namespace: { peerFallback: false } })
    const err = await rejection(ns.get(keyOfPeer))
    expect(err.code).toBe('BURROW_ERR_PROTOCOL')
    expect(err.message).toMatch(/301 \(a redirect: not followed\)/)
    expect(peer.requests.map((r) => r.url)).toEqual([`/_groupcache/test/${keyOfPeer}`])
  })

  it('refuses a body over maxFrameBytes, announced or streamed, and closes that connection', async () => {
    let announce = true
    const peer = await fakePeer((_req, res) => {
      if (announce) {
        res.writeHead(200, { 'content-length': 4096 })
        res.end(Buffer.alloc(4096))
      } else {
        res.writeHead(200)
        for (let i = 0; i < 8; i++) res.write(Buffer.alloc(1024))
        res.end()
      }
    })
    const { ns, keyOfPeer } = await nodeBeside(peer.self, {
      node: { maxFrameBytes: 2048 },
      namespace: { peerFallback: false },
    })
    expect((await rejection(ns.get(keyOfPeer))).code).toBe('BURROW_ERR_FRAME_TOO_LARGE')
    announce = false
    expect((await rejection(ns.get(keyOfPeer))).code).toBe('BURROW_ERR_FRAME_TOO_LARGE')
  })

  it('gives up on a peer that never answers at the deadline (BURROW_ERR_PEER_TIMEOUT), then loads here', async () => {
    const peer = await fakePeer(() => {})
    const { n, ns, loads, keyOfPeer } = await nodeBeside(peer.self, { node: { peerTimeoutMs: 300 } })
    expect(await ns.get(keyOfPeer)).toBe(`local ${keyOfPeer}`)
    expect(loads).toEqual([keyOfPeer])
    expect(n.stats().peerClient.timeouts).toBe(1)
    // The request was sent, and its connection dropped with it.
    expect(peer.requests).toHaveLength(1)
  })

  it("maps the peer's statuses: 500 a loader error (final), 404 an unknown group, 401 auth, 503 unavailable", async () => {
    let status = 500
    const peer = await fakePeer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(status === 500 ? 'no data for it\n' : 'nope\n')
    })
    const { ns, loads, keyOfPeer } = await nodeBeside(peer.self, { namespace: { peerFallback: false } })
    const loader = await rejection(ns.get(keyOfPeer))
    expect(loader.code).toBe('BURROW_ERR_LOADER')
    expect(loader.message).toMatch(/answered 500: no data for it/)
    for (const [s, code] of [
      [404, 'BURROW_ERR_UNKNOWN_NAMESPACE'],
      [401, 'BURROW_ERR_AUTH'],
      [503, 'BURROW_ERR_PEER_UNAVAILABLE'],
      [418, 'BURROW_ERR_PROTOCOL'],
    ] as const) {
      status = s
      expect((await rejection(ns.get(keyOfPeer))).code).toBe(code)
    }
    expect(loads).toEqual([])
  })

  it('takes a loader error on the owner as final even with peerFallback: the loader here is not called', async () => {
    const peer = await fakePeer((_req, res) => {
      res.writeHead(500)
      res.end('boom\n')
    })
    const { ns, loads, keyOfPeer } = await nodeBeside(peer.self)
    expect((await rejection(ns.get(keyOfPeer))).code).toBe('BURROW_ERR_LOADER')
    expect(loads).toEqual([])
  })

  it('presents the secret as a bearer token', async () => {
    const peer = await fakePeer(goValue((key) => `go ${key}`))
    const { ns, keyOfPeer } = await nodeBeside(peer.self, { node: { auth: { secret: 'sesame' } } })
    expect(await ns.get(keyOfPeer)).toEqual(Buffer.from(`go ${keyOfPeer}`))
    expect(peer.requests[0]?.headers.authorization).toBe('Bearer sesame')
  })
})

describe("what a Go peer's value becomes", () => {
  it("is bytes with groupcacheValues: 'bytes', a string with 'string', and what a codec decodes", async () => {
    const peer = await fakePeer(goValue((key) => `{"key":${JSON.stringify(key)}}`))
    const n = node({ protocol: 'groupcache', liveness: false })
    const bytes = n.namespace('test', { groupcacheValues: 'bytes', load: () => new Uint8Array(0) })
    const text = n.namespace('text', { groupcacheValues: 'string', load: () => 'x' })
    const json = n.namespace<{ key: string }>('json', { codec: 'json', load: () => ({ key: 'x' }) })
    await n.listen()
    n.setPeers([n.self, peer.self])
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => n.ownerOf(k) === peer.self,
    ) as string
    const fromBytes = await bytes.get(key)
    expect(fromBytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(fromBytes ?? []).toString()).toBe(`{"key":"${key}"}`)
    expect(await text.get(key)).toBe(`{"key":"${key}"}`)
    expect(await json.get(key)).toEqual({ key })
  })

  it("fails a value that is not UTF-8 in a 'string' namespace with BURROW_ERR_BAD_VALUE, never U+FFFD", async () => {
    const peer = await fakePeer(goValue(() => new Uint8Array([0x61, 0xff, 0x62])))
    const { ns, loads, keyOfPeer } = await nodeBeside(peer.self, {
      namespace: { groupcacheValues: 'string' },
    })
    expect((await rejection(ns.get(keyOfPeer))).code).toBe('BURROW_ERR_BAD_VALUE')
    expect(loads).toEqual([])
  })

  it('keeps a value of its own kind from a burrow peer (x-burrow-kind), and reads its not-found', async () => {
    const peer = await fakePeer((req, res) => {
      if ((req.url ?? '').endsWith('missing')) {
        res.writeHead(404, { 'x-burrow-status': 'not-found', 'x-burrow-ttl': '0' })
        return res.end('not found\n')
      }
      const body = encodeGetResponse({ value: 'a string' })
      res.writeHead(200, { 'x-burrow-kind': 'string', 'x-burrow-ttl': '5000' })
      res.end(body)
    })
    const { n, ns, loads, keyOfPeer } = await nodeBeside(peer.self)
    expect(await ns.get(keyOfPeer)).toBe('a string')
    const missing = Array.from({ length: 200 }, (_, i) => `${i}missing`).find(
      (k) => n.ownerOf(k) === peer.self,
    )
    expect(await ns.get(missing as string)).toBeUndefined()
    expect(loads).toEqual([])
  })
})

describe('writes, liveness and options with protocol groupcache', () => {
  it('acts on this node only: peers are reported unreachable and owed nothing; a set another node owns rejects', async () => {
    const peer = await fakePeer(goValue(() => 'v'))
    const { n, ns, keyOfPeer } = await nodeBeside(peer.self)
    const own = Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => n.ownerOf(k) === n.self) as string
    expect(await ns.set(own, 'new')).toEqual({ unreachable: [peer.self] })
    expect(await ns.get(own)).toBe('new')
    expect(await ns.delete(own)).toEqual({ unreachable: [peer.self] })
    const err = await rejection(ns.set(keyOfPeer, 'new'))
    expect(err.code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    expect(err.message).toMatch(/carries no writes/)
    expect(n.stats().owedPurges).toBe(0)
    expect(peer.requests).toEqual([])
  })

  it('probes peers with GET /_groupcache/: a 400 is alive, a 503 (a burrow node leaving) is down', async () => {
    let leaving = false
    const probed = deferred<void>()
    const peer = await fakePeer((req, res) => {
      res.writeHead(leaving && req.url === '/_groupcache/' ? 503 : 400)
      res.end()
      if (peer.requests.length === 3) probed.resolve()
    })
    const n = node({ protocol: 'groupcache', liveness: { intervalMs: 20, timeoutMs: 2000 } })
    await n.listen()
    n.setPeers([n.self, peer.self])
    // Probed three times and kept.
    await probed.promise
    expect(n.peers).toContain(peer.self)
    expect(peer.requests.every((r) => r.url === '/_groupcache/')).toBe(true)
    leaving = true
    await ringWhere(n, (peers) => !peers.includes(peer.self))
    leaving = false
    await ringWhere(n, (peers) => peers.includes(peer.self))
  })

  it('checks the options', () => {
    expect(thrownBy(() => node({ protocol: 'http' as never })).message).toMatch(
      /option protocol must be 'resp' or 'groupcache', received "http"/,
    )
    expect(thrownBy(() => node({ protocol: 'groupcache', ring: 'maglev' })).message).toMatch(/option ring/)
    expect(thrownBy(() => node({ protocol: 'groupcache', handoff: { windowMs: 1 } })).message).toMatch(
      /option handoff does not apply/,
    )
    const n = node({ protocol: 'groupcache', handoff: false })
    expect(thrownBy(() => n.namespace('plain', { load: () => 'v' })).message).toMatch(
      /option plain.groupcacheValues must be given \('string' or 'bytes'/,
    )
    n.namespace('coded', { codec: 'json', load: () => ({}) })
    expect(
      thrownBy(() => n.namespace('x', { load: () => 'v', groupcacheValues: 'text' as never })).message,
    ).toMatch(/option x.groupcacheValues must be 'bytes' or 'string', received "text"/)
  })
})

describe('the groupcache client itself', () => {
  const base = (
    signal: AbortSignal,
    more: Partial<GroupcacheClientOptions> = {},
  ): GroupcacheClientOptions => ({
    timeoutMs: 5000,
    connections: 2,
    maxResponseBytes: 1 << 20,
    signal,
    valueKind: () => 'string',
    ...more,
  })

  function client(more: Partial<GroupcacheClientOptions> = {}): GroupcacheClient {
    const life = new AbortController()
    const c = new GroupcacheClient(base(life.signal, more))
    onCleanup(() => {
      life.abort()
      c.close()
    })
    return c
  }

  it('keeps connections alive, at most `connections` per peer however many requests are in flight', async () => {
    const peer = await fakePeer(goValue((key) => `v ${key}`))
    const c = client()
    for (let i = 0; i < 5; i++) expect((await c.fetch(peer.self, 'test', `a${i}`)).value).toBe(`v a${i}`)
    expect(c.stats()).toMatchObject({ requests: 5, connectionsOpened: 1, connectionsOpen: 1 })
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => c.fetch(peer.self, 'test', `b${i}`)),
    )
    expect(answers.map((a) => a.value)).toEqual(Array.from({ length: 20 }, (_, i) => `v b${i}`))
    expect(peer.maxOpen).toBeLessThanOrEqual(2)
    expect(c.stats().connectionsOpened).toBeLessThanOrEqual(2)
  })

  it('escapes keys so that a Go server reads them back whole (a space as %20, never +)', async () => {
    const peer = await fakePeer(goValue(() => 'v'))
    const c = client()
    await c.fetch(peer.self, 'test', "a b+c/d%e ü!'()*~")
    expect(peer.requests[0]?.url).toBe('/_groupcache/test/a%20b%2Bc%2Fd%25e%20%C3%BC%21%27%28%29%2A~')
  })

  it('sends a request again, once, when the peer drops a kept-alive connection as it is reused', async () => {
    const served = new Map<Socket, number>()
    const peer = await fakePeer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1
      served.set(req.socket, n)
      // The second request on a connection: dropped unanswered, as a peer closing it idle would.
      if (n === 2) return req.socket.destroy()
      goValue((key) => `v ${key}`)(req, res)
    })
    const c = client()
    expect((await c.fetch(peer.self, 'test', 'one')).value).toBe('v one')
    expect((await c.fetch(peer.self, 'test', 'two')).value).toBe('v two')
    expect(peer.requests.map((r) => r.url)).toEqual([
      '/_groupcache/test/one',
      '/_groupcache/test/two',
      '/_groupcache/test/two',
    ])
  })

  it("honours the caller's AbortSignal: rejects with its reason and drops the request", async () => {
    const asked = deferred<void>()
    const peer = await fakePeer(() => asked.resolve())
    const c = client()
    const controller = new AbortController()
    const pending = c.fetch(peer.self, 'test', 'k', controller.signal)
    await asked.promise
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    // Its connection is closed, not left holding the request.
    await Promise.all([...peer.sockets].map((socket) => once(socket, 'close')))
    // An already aborted signal sends nothing.
    await expect(c.fetch(peer.self, 'test', 'k2', controller.signal)).rejects.toBe(reason)
    expect(peer.requests).toHaveLength(1)
  })

  it('rejects requests in flight with BURROW_ERR_CLOSED on close(), and a peer found down with BURROW_ERR_PEER_UNAVAILABLE', async () => {
    const asked = deferred<void>()
    const peer = await fakePeer(() => asked.resolve())
    const c = client()
    const first = c.fetch(peer.self, 'test', 'k')
    await asked.promise
    c.abandon(peer.self)
    expect((await rejection(first)).code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    const second = c.fetch(peer.self, 'test', 'k2')
    c.close()
    expect((await rejection(second)).code).toBe('BURROW_ERR_CLOSED')
  })

  it('answers a probe on a socket of its own while fetches hold every fetch socket', async () => {
    const peer = await fakePeer((req, res) => {
      if (req.url !== '/_groupcache/') return // fetches hang
      res.writeHead(400)
      res.end('bad request\n')
    })
    const c = client({ connections: 2, timeoutMs: 60_000 })
    const hanging = Array.from({ length: 4 }, (_, i) =>
      c.fetch(peer.self, 'test', `h${i}`).catch((e: unknown) => e),
    )
    await c.ping(peer.self, 5000)
    c.abandon(peer.self)
    for (const err of await Promise.all(hanging))
      expect((err as BurrowError).code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
  })

  it('fails every request to a silent peer at its deadline, queued ones too, then recovers', async () => {
    let silent = true
    const peer = await fakePeer((req, res) => {
      if (!silent) goValue((key) => `v ${key}`)(req, res)
    })
    const c = client({ connections: 2, timeoutMs: 300 })
    const errors = await Promise.all(
      Array.from({ length: 5 }, (_, i) => c.fetch(peer.self, 'test', `q${i}`).catch((e: unknown) => e)),
    )
    expect(errors.map((e) => (e as BurrowError).code)).toEqual(Array(5).fill('BURROW_ERR_PEER_TIMEOUT'))
    expect(c.stats().timeouts).toBe(5)
    silent = false
    expect((await c.fetch(peer.self, 'test', 'after')).value).toBe('v after')
  })

  it('refuses a key with a lone surrogate before sending anything', async () => {
    const peer = await fakePeer(goValue(() => 'v'))
    const c = client()
    expect((await rejection(c.fetch(peer.self, 'test', 'a\ud800'))).code).toBe('BURROW_ERR_BAD_KEY')
    expect(peer.requests).toEqual([])
  })
})

describe('two burrow nodes speaking groupcache to each other', () => {
  it('keep kinds, not-found and loader errors as over RESP, and fall back on a peer that disowns a key', async () => {
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { protocol: 'groupcache', liveness: false },
      namespace: { groupcacheValues: 'bytes' },
      load: (key) => {
        if (key.startsWith('missing')) return undefined
        if (key.startsWith('fail')) throw new Error('no')
        if (key.startsWith('bytes')) return new Uint8Array([7, 8, key.length])
        return `value of ${key}`
      },
    })
    const [a, b] = nodes as [Burrow, Burrow]
    const ns = namespaces[0] as Namespace<StoredValue>
    const ofB = (prefix: string) =>
      Array.from({ length: 200 }, (_, i) => `${prefix}${i}`).find((k) => a.ownerOf(k) === b.self) as string
    expect(await ns.get(ofB('text'))).toBe(`value of ${ofB('text')}`)
    const bytes = await ns.get(ofB('bytes'))
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect([...(bytes as Uint8Array)]).toEqual([7, 8, ofB('bytes').length])
    expect(await ns.get(ofB('missing'))).toBeUndefined()
    expect((await rejection(ns.get(ofB('fail')))).code).toBe('BURROW_ERR_LOADER')
    // Every one of them was loaded by the owner only.
    expect(loads.every((l) => l.self === b.self)).toBe(true)
    expect(a.stats().namespaces.test).toMatchObject({ peerLoads: 3, fallbackLoads: 0 })
    // B's ring changes (a third node) while A's does not: B disowns some keys A sends it
    // (BURROW_ERR_NOT_OWNER), and A loads those itself.
    b.setPeers([a.self, b.self, 'http://127.0.0.1:1'])
    const key = Array.from({ length: 500 }, (_, i) => `disowned${i}`).find(
      (k) => a.ownerOf(k) === b.self && b.ownerOf(k) !== b.self,
    ) as string
    expect(await ns.get(key)).toBe(`value of ${key}`)
    expect(loads.at(-1)).toEqual({ self: a.self, key })
    expect(a.stats().namespaces.test?.fallbackLoads).toBe(1)
  })

  it("carries the owner's time left, so a copy expires with the owner's", async () => {
    const clock = { t: 1_000_000, now: () => clock.t }
    const { nodes, namespaces } = await cluster(2, {
      node: { protocol: 'groupcache', liveness: false, clock, random: () => 0 },
      namespace: { groupcacheValues: 'string', ttl: 10_000, hot: { probability: 1, maxTtl: 0 } },
    })
    const [a, b] = nodes as [Burrow, Burrow]
    const key = Array.from({ length: 200 }, (_, i) => `t${i}`).find((k) => a.ownerOf(k) === b.self) as string
    await namespaces[1]?.get(key) // loaded on B at t
    clock.t += 4_000
    expect(await namespaces[0]?.get(key)).toBe(`value of ${key}`) // A's hot copy: 6 s left
    expect(namespaces[0]?.peek(key)).toBe(`value of ${key}`)
    clock.t += 6_001
    expect(namespaces[0]?.peek(key)).toBeUndefined()
  })

  it('fetch from each other over verified TLS', async () => {
    const read = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url))
    const tls = { key: read('node.key'), cert: read('node.pem'), ca: read('ca.pem') }
    const { nodes, namespaces, loads } = await cluster(2, {
      node: { protocol: 'groupcache', liveness: false, tls },
      namespace: { groupcacheValues: 'string' },
    })
    const [a, b] = nodes as [Burrow, Burrow]
    const key = Array.from({ length: 200 }, (_, i) => `s${i}`).find((k) => a.ownerOf(k) === b.self) as string
    expect(await namespaces[0]?.get(key)).toBe(`value of ${key}`)
    expect(loads).toEqual([{ self: b.self, key }])
  })
})
