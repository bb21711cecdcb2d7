import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { Etcd3, type IKeyValue } from 'etcd3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type EtcdPeersOptions, etcdPeers } from '../src/etcd.ts'
import type { Burrow, BurrowError, BurrowOptions } from '../src/index.ts'
import { closeAll, deferred, freePort, node, ringWhere, thrownBy } from './helpers.ts'
import { ChildNode } from './support/cluster.ts'
import { EtcdServer } from './support/etcd.ts'

let etcd: EtcdServer
/** The test's own client, to look at what the nodes registered and to tamper with it. */
let admin: Etcd3

beforeAll(async () => {
  etcd = await EtcdServer.create()
  admin = new Etcd3({ hosts: etcd.url })
}, 60_000)

afterAll(async () => {
  admin?.close()
  await etcd?.destroy()
})

const children: ChildNode[] = []
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()))
  await closeAll()
})

/** A prefix of its own for each test, so tests sharing one etcd never see each other's nodes. */
let prefixes = 0
function freshPrefix(): string {
  prefixes++
  return `/burrow-test/${process.pid}-${prefixes}/`
}

/** A node (closed by closeAll) whose peers come from etcd under `prefix`. */
function etcdNode(
  prefix: string,
  source: Partial<EtcdPeersOptions> = {},
  options: BurrowOptions = {},
  endpoint = etcd.url,
): Burrow {
  return node({ peers: etcdPeers({ endpoints: [endpoint], prefix, debounceMs: 20, ...source }), ...options })
}

/** A ring test: exactly the peers `ids`. */
function exactly(ids: readonly string[]): (peers: readonly string[]) => boolean {
  return (peers) => peers.length === ids.length && ids.every((id) => peers.includes(id))
}

/** The ids registered under `prefix` right now, sorted. */
async function registered(prefix: string, client = admin): Promise<string[]> {
  return Object.values(await client.getAll().prefix(prefix).strings()).sort()
}

/** Resolves with the first 'peerSourceError' of `n` whose message contains `text`. */
function sourceError(n: Burrow, text: string): Promise<BurrowError> {
  const got = deferred<BurrowError>()
  const listener = (err: BurrowError) => {
    if (!err.message.includes(text)) return
    n.off('peerSourceError', listener)
    got.resolve(err)
  }
  n.on('peerSourceError', listener)
  return got.promise
}

/** Resolves with the first put of `key` seen by a watch from `fromRevision` on. */
async function putOf(client: Etcd3, key: string, fromRevision: bigint): Promise<IKeyValue> {
  const watcher = await client.watch().key(key).startRevision(String(fromRevision)).create()
  try {
    const [kv] = (await once(watcher, 'put')) as [IKeyValue]
    return kv
  } finally {
    await watcher.cancel()
  }
}

/** A TCP server on loopback that accepts connections and never says a word. */
async function silentServer(): Promise<{ url: string; connected: Promise<unknown>; close(): void }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    connected: once(server, 'connection'),
    close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

describe('etcdPeers: nodes find each other through etcd', () => {
  it('three nodes register under the prefix, each ring holds the three, and a key loads once', async () => {
    const prefix = freshPrefix()
    const loads: string[] = []
    const nodes = [0, 1, 2].map(() => etcdNode(prefix))
    const namespaces = nodes.map((n) =>
      n.namespace('test', {
        load: async (key) => {
          loads.push(n.self)
          return `value of ${key}`
        },
      }),
    )
    await Promise.all(nodes.map((n) => n.listen()))
    const ids = nodes.map((n) => n.self)
    await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))
    expect(await registered(prefix)).toEqual([...ids].sort())
    expect(Object.keys(await admin.getAll().prefix(prefix).strings()).sort()).toEqual(
      ids.map((id) => prefix + id).sort(),
    )

    const first = nodes[0]!
    const key = Array.from({ length: 100 }, (_, i) => `key-${i}`).find(
      (k) => first.ownerOf(k) !== first.self,
    )!
    const owner = first.ownerOf(key)
    const values = await Promise.all(namespaces.map((ns) => ns.get(key)))
    expect(values).toEqual([`value of ${key}`, `value of ${key}`, `value of ${key}`])
    expect(loads).toEqual([owner])
  })

  it('a fourth node joins and every ring follows', async () => {
    const prefix = freshPrefix()
    const nodes = [0, 1, 2].map(() => etcdNode(prefix))
    await Promise.all(nodes.map((n) => n.listen()))
    await Promise.all(nodes.map((n) => ringWhere(n, exactly(nodes.map((m) => m.self)))))
    const fourth = etcdNode(prefix)
    await fourth.listen()
    nodes.push(fourth)
    const ids = nodes.map((n) => n.self)
    await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))
    expect(await registered(prefix)).toEqual([...ids].sort())
  })

  it('reports an id under the prefix that is not a peer id, and keeps the others', async () => {
    const prefix = freshPrefix()
    await admin.put(`${prefix}junk`).value('not a peer id')
    const n = etcdNode(prefix, {}, { liveness: false })
    const error = sourceError(n, 'not a peer id')
    await n.listen()
    expect((await error).code).toBe('BURROW_ERR_PEER_SOURCE')
    expect(n.peers).toEqual([n.self])
  })
})

describe('etcdPeers: leaving', () => {
  it('close() revokes the lease: the others drop the node at once, long before the lease could expire', async () => {
    const prefix = freshPrefix()
    // A 60 s lease and no liveness probes: only the deregistration can take the node off the
    // rings within this test's 30 s.
    const nodes = [0, 1, 2].map(() => etcdNode(prefix, { leaseTtlSeconds: 60 }, { liveness: false }))
    await Promise.all(nodes.map((n) => n.listen()))
    const ids = nodes.map((n) => n.self)
    await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))
    const [a, b, leaving] = nodes as [Burrow, Burrow, Burrow]
    await leaving.close()
    expect(await registered(prefix)).toEqual([a.self, b.self].sort())
    await Promise.all([a, b].map((n) => ringWhere(n, exactly([a.self, b.self]))))
  }, 30_000)

  it('a node killed without close() leaves every ring when its lease expires', async () => {
    const prefix = freshPrefix()
    // Liveness off: nothing but the lease running out can take the killed node off the rings.
    const nodes = [0, 1].map(() => etcdNode(prefix, {}, { liveness: false }))
    await Promise.all(nodes.map((n) => n.listen()))
    const child = await ChildNode.start({
      etcd: { endpoints: [etcd.url], prefix, leaseTtlSeconds: 3, debounceMs: 20 },
    })
    children.push(child)
    const ids = [...nodes.map((n) => n.self), child.self]
    await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))
    await child.kill()
    // Killed: nothing deregistered it; its key waits for the lease.
    expect(await registered(prefix)).toContain(child.self)
    const survivors = nodes.map((n) => n.self)
    await Promise.all(nodes.map((n) => ringWhere(n, exactly(survivors))))
    expect(await registered(prefix)).toEqual([...survivors].sort())
  }, 60_000)
})

describe('etcdPeers: etcd unavailable', () => {
  it('listen() fails with BURROW_ERR_PEER_SOURCE when nothing listens at the endpoint', async () => {
    const port = await freePort()
    const n = etcdNode(freshPrefix(), { timeoutMs: 1000 }, {}, `http://127.0.0.1:${port}`)
    const err = (await n.listen().catch((e: unknown) => e)) as BurrowError
    expect(err.code).toBe('BURROW_ERR_PEER_SOURCE')
    expect(err.message).toContain(`etcd http://127.0.0.1:${port}`)
    expect(n.stats().listening).toBe(false)
  })

  // The test's timeout is the bound: without the deadline the call would wait for gRPC's own.
  it('listen() fails with BURROW_ERR_PEER_SOURCE within timeoutMs when the endpoint never answers', async () => {
    const silent = await silentServer()
    try {
      const n = etcdNode(freshPrefix(), { timeoutMs: 500 }, {}, silent.url)
      const err = (await n.listen().catch((e: unknown) => e)) as BurrowError
      expect(err.code).toBe('BURROW_ERR_PEER_SOURCE')
      expect(n.stats().listening).toBe(false)
    } finally {
      silent.close()
    }
  })

  it('close() during a listen() that waits on etcd ends the wait at once: listen() rejects BURROW_ERR_CLOSED', async () => {
    const silent = await silentServer()
    try {
      // A deadline far beyond this test's timeout: only the abort can end the wait in time.
      const n = etcdNode(freshPrefix(), { timeoutMs: 120_000 }, {}, silent.url)
      const listening = n.listen().catch((e: unknown) => e)
      await silent.connected
      await n.close()
      const err = (await listening) as BurrowError
      expect(err.code).toBe('BURROW_ERR_CLOSED')
      expect(n.stats().listening).toBe(false)
    } finally {
      silent.close()
    }
  })

  it('close() while etcd is down still resolves, and reports that it could not deregister', async () => {
    const own = await EtcdServer.create()
    try {
      const n = etcdNode(freshPrefix(), { timeoutMs: 1000 }, { liveness: false }, own.url)
      await n.listen()
      const notDeregistered = sourceError(n, 'could not deregister')
      await own.stop()
      await n.close()
      expect((await notDeregistered).code).toBe('BURROW_ERR_PEER_SOURCE')
    } finally {
      await own.destroy()
    }
  })

  it('survives an etcd restart: errors reported, rings kept, registration back on a new lease, changes flow again', async () => {
    // An etcd of its own: this test stops it.
    const own = await EtcdServer.create()
    const client = new Etcd3({ hosts: own.url })
    try {
      const prefix = freshPrefix()
      const source = { leaseTtlSeconds: 2, timeoutMs: 1000 }
      const nodes = [0, 1].map(() => etcdNode(prefix, source, { liveness: false }, own.url))
      await Promise.all(nodes.map((n) => n.listen()))
      const ids = nodes.map((n) => n.self)
      await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))
      const before = await client.getAll().prefix(prefix).exec()
      const leasesBefore = new Set(before.kvs.map((kv) => kv.lease))
      const errors: BurrowError[] = []
      for (const n of nodes) n.on('peerSourceError', (err) => errors.push(err))
      const watchLost = nodes.map((n) => sourceError(n, 'lost the etcd watch'))
      // Two lease TTLs without a renewal: the client gives the lease up.
      const leaseLost = nodes.map((n) => sourceError(n, 'lost the etcd lease'))

      await own.stop()
      await Promise.all([...watchLost, ...leaseLost])
      expect(errors.every((err) => err.code === 'BURROW_ERR_PEER_SOURCE')).toBe(true)
      for (const n of nodes) expect(n.peers).toEqual([...ids].sort())

      await own.start()
      // Each node puts its key again, on a lease of its own that is not the old one.
      const puts = await Promise.all(
        ids.map((id) => putOf(client, prefix + id, BigInt(before.header.revision) + 1n)),
      )
      for (const kv of puts) expect(leasesBefore.has(kv.lease)).toBe(false)
      expect(await registered(prefix, client)).toEqual([...ids].sort())
      await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))

      // Changes flow again: a third node sees the two (from etcd alone), and they see it.
      const third = etcdNode(prefix, source, { liveness: false }, own.url)
      await third.listen()
      const all = [...ids, third.self]
      await Promise.all([...nodes, third].map((n) => ringWhere(n, exactly(all))))
      await third.close()
      await Promise.all(nodes.map((n) => ringWhere(n, exactly(ids))))
    } finally {
      await closeAll()
      client.close()
      await own.destroy()
    }
  }, 90_000)
})

describe('etcdPeers: registration', () => {
  it('a node whose key is deleted behind its back puts it back', async () => {
    const prefix = freshPrefix()
    const [a, b] = [0, 1].map(() => etcdNode(prefix, {}, { liveness: false })) as [Burrow, Burrow]
    await Promise.all([a.listen(), b.listen()])
    await Promise.all([a, b].map((n) => ringWhere(n, exactly([a.self, b.self]))))
    const deleted = await admin
      .delete()
      .key(prefix + a.self)
      .exec()
    expect(deleted.deleted).toBe('1')
    const kv = await putOf(admin, prefix + a.self, BigInt(deleted.header.revision) + 1n)
    expect(kv.value.toString()).toBe(a.self)
    await ringWhere(b, exactly([a.self, b.self]))
  })
})

describe('etcdPeers: options', () => {
  const endpoints = ['http://127.0.0.1:2379']
  const cases: [string, unknown, string][] = [
    ['no options', undefined, 'endpoints'],
    ['endpoints missing', {}, 'endpoints'],
    ['endpoints not a list', { endpoints: 'http://127.0.0.1:2379' }, 'endpoints'],
    ['endpoints empty', { endpoints: [] }, 'endpoints'],
    ['an endpoint without a scheme', { endpoints: ['127.0.0.1:2379'] }, 'endpoints[0]'],
    ['an endpoint without a port', { endpoints: ['http://127.0.0.1'] }, 'endpoints[0]'],
    ['an endpoint with a path', { endpoints: ['http://127.0.0.1:2379/v3'] }, 'endpoints[0]'],
    ['http and https mixed', { endpoints: ['http://a:2379', 'https://b:2379'] }, 'endpoints'],
    ['an empty prefix', { endpoints, prefix: '' }, 'prefix'],
    ['a prefix not a string', { endpoints, prefix: 7 }, 'prefix'],
    ['a lease TTL of 0', { endpoints, leaseTtlSeconds: 0 }, 'leaseTtlSeconds'],
    ['a fractional lease TTL', { endpoints, leaseTtlSeconds: 1.5 }, 'leaseTtlSeconds'],
    ['a timeout of 0', { endpoints, timeoutMs: 0 }, 'timeoutMs'],
    ['a negative debounce', { endpoints, debounceMs: -1 }, 'debounceMs'],
    ['an unknown option', { endpoints, ttl: 5 }, 'etcdPeers.ttl'],
    ['auth without a password', { endpoints, auth: { username: 'burrow' } }, 'auth.password'],
    ['auth with an unknown field', { endpoints, auth: { user: 'x', password: 'y' } }, 'auth.user'],
    [
      'credentials as text',
      { endpoints, credentials: { rootCertificate: 'PEM' } },
      'credentials.rootCertificate',
    ],
  ]
  it.each(cases)('%s: BURROW_ERR_BAD_OPTION naming the option', (_, options, name) => {
    const err = thrownBy(() => etcdPeers(options as EtcdPeersOptions))
    expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
    expect(err.message).toContain(name)
  })

  it('never echoes a password in the message', () => {
    const err = thrownBy(() => etcdPeers({ endpoints, auth: { username: 7, password: 'hunter2' } } as never))
    expect(err.message).not.toContain('hunter2')
  })

  it('names the source by its endpoints and prefix, and passes debounceMs to the node', () => {
    const source = etcdPeers({ endpoints: ['http://127.0.0.1:2379/'], prefix: '/cache/', debounceMs: 50 })
    expect(source.name).toBe('etcd http://127.0.0.1:2379 /cache/')
    expect(source.debounceMs).toBe(50)
  })
})

describe('etcdPeers: packaging', () => {
  /** Which of `burrow`, `burrow/etcd` a fresh process imports, and whether etcd3 got loaded. */
  function loadsEtcd3(specifier: string): boolean {
    const script = [
      "import { createRequire } from 'node:module'",
      'const require = createRequire(import.meta.url)',
      `await import(${JSON.stringify(specifier)})`,
      "console.log(Object.keys(require.cache).some((file) => file.includes('/node_modules/etcd3/')))",
    ].join('\n')
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      timeout: 20_000,
    })
    return JSON.parse(out.trim()) as boolean
  }

  it('the core (burrow) never loads etcd3; burrow/etcd, built and exported, does', () => {
    expect(loadsEtcd3('burrow')).toBe(false)
    expect(loadsEtcd3('burrow/etcd')).toBe(true)
  })
})
