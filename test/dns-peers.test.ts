import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type Burrow, type BurrowError, type DnsPeersOptions, dnsPeers } from '../src/index.ts'
import { closeAll, deferred, node, ringWhere, thrownBy } from './helpers.ts'
import { DnsGate, Dnsmasq, type DnsRecords, DOMAIN } from './support/dnsmasq.ts'

const CACHE = `cache.${DOMAIN}`

/** dnsmasq servers and gates started by a test, stopped after it. */
const running: { stop(): unknown }[] = []

afterEach(async () => {
  await closeAll()
  await Promise.all(running.splice(0).map((r) => r.stop()))
})

async function serve(records: DnsRecords, port?: number): Promise<Dnsmasq> {
  const server = await Dnsmasq.start(records, port)
  running.push(server)
  return server
}

async function gate(target: Dnsmasq): Promise<DnsGate> {
  const g = await DnsGate.start(target.port)
  running.push({ stop: () => g.close() })
  return g
}

/** A TCP port free on every one of `hosts` (127.0.0.x), so nodes there can share it. */
async function sharedPort(hosts: readonly string[]): Promise<number> {
  for (let attempt = 1; attempt <= 20; attempt++) {
    const servers: net.Server[] = []
    let port = 0
    try {
      for (const host of hosts) {
        const server = net.createServer()
        servers.push(server)
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(port, host, () => resolve())
        })
        port = (server.address() as net.AddressInfo).port
      }
      return port
    } catch {
      // Taken on one of the hosts: try another port.
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    }
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`)
}

/**
 * Nodes on `ips`, one shared port, each with a namespace `test` and peers from `dnsPeers` asking
 * `server`; `loads` records `"<self> <key>"` per loader call.
 */
async function dnsCluster(ips: readonly string[], server: string, options: DnsPeersOptions = {}) {
  const port = await sharedPort(ips)
  const loads: string[] = []
  const nodes = ips.map((ip) =>
    node({
      self: `http://${ip}:${port}`,
      peerTimeoutMs: 2000,
      peers: dnsPeers(CACHE, { port, servers: [server], intervalMs: 50, debounceMs: 20, ...options }),
    }),
  )
  const namespaces = nodes.map((n) =>
    n.namespace('test', {
      load: async (key) => {
        loads.push(`${n.self} ${key}`)
        return `value of ${key}`
      },
    }),
  )
  await Promise.all(nodes.map((n) => n.listen()))
  const id = (ip: string): string => `http://${ip}:${port}`
  return { port, nodes, namespaces, loads, id }
}

const hosts = (ips: readonly string[], name = CACHE): [string, string][] => ips.map((ip) => [ip, name])
const same = (expected: readonly string[]) => (peers: readonly string[]) =>
  peers.length === expected.length && [...expected].sort().every((p, i) => p === peers[i])

/** Which of two promises settles first. */
function firstOf(first: Promise<unknown>, second: Promise<unknown>): Promise<'first' | 'second'> {
  return Promise.race([first.then(() => 'first' as const), second.then(() => 'second' as const)])
}

/** A key that `n`'s ring gives to `owner`. */
function keyOwnedBy(n: Burrow, owner: string): string {
  for (let i = 0; i < 10_000; i++) if (n.ownerOf(`key-${i}`) === owner) return `key-${i}`
  throw new Error(`no key owned by ${owner}`)
}

/** The next peerSourceError of `n` whose message contains `text`. */
function sourceError(n: Burrow, text: string): Promise<BurrowError> {
  const got = deferred<BurrowError>()
  const listener = (err: BurrowError): void => {
    if (!err.message.includes(text)) return
    n.off('peerSourceError', listener)
    got.resolve(err)
  }
  n.on('peerSourceError', listener)
  return got.promise
}

describe('dnsPeers with A records (a headless service)', () => {
  it('lets three nodes find each other, and a key owned by one loads once in the cluster', async () => {
    const ips = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
    const dns = await serve({ hosts: hosts(ips) })
    const { nodes, namespaces, loads, id } = await dnsCluster(ips, dns.server)
    const all = ips.map(id)
    for (const n of nodes) expect(await ringWhere(n, same(all))).toEqual([...all].sort())
    const key = keyOwnedBy(nodes[0]!, nodes[1]!.self)
    const values = await Promise.all(namespaces.map((ns) => ns.get(key)))
    expect(values).toEqual([`value of ${key}`, `value of ${key}`, `value of ${key}`])
    expect(loads).toEqual([`${nodes[1]!.self} ${key}`])
  })

  it('follows the records: a removed address leaves the rings, an added one joins them', async () => {
    const ips = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']
    const dns = await serve({ hosts: hosts(ips.slice(0, 3)) })
    const { nodes, id } = await dnsCluster(ips, dns.server)
    await ringWhere(nodes[0]!, same(ips.slice(0, 3).map(id)))
    await dns.setHosts(hosts(['127.0.0.1', '127.0.0.2', '127.0.0.4']))
    const after = ['127.0.0.1', '127.0.0.2', '127.0.0.4'].map(id)
    for (const i of [0, 1, 3]) await ringWhere(nodes[i]!, same(after))
    // The node no longer in DNS still sees the others, and keeps itself.
    await ringWhere(nodes[2]!, same(ips.map(id)))
  })

  it("applies a change even when it polls more often than the node's debounce", async () => {
    const ips = ['127.0.0.1', '127.0.0.2']
    const dns = await serve({ hosts: hosts(ips) })
    // An unchanged list handed over every 20 ms would restart a 200 ms debounce forever.
    const { nodes, id } = await dnsCluster(ips, dns.server, { intervalMs: 20, debounceMs: 200 })
    await ringWhere(nodes[0]!, same(ips.map(id)))
    await dns.setHosts(hosts(['127.0.0.1']))
    await ringWhere(nodes[0]!, same([id('127.0.0.1')]))
  })

  it('keeps the ring and reports peerSourceError when the name is gone (NXDOMAIN), then recovers', async () => {
    const ips = ['127.0.0.1', '127.0.0.2']
    const dns = await serve({ hosts: hosts(ips) })
    const { nodes, id } = await dnsCluster(ips, dns.server)
    const ring = await ringWhere(nodes[0]!, same(ips.map(id)))
    const gone = sourceError(nodes[0]!, 'ENOTFOUND')
    await dns.setHosts(hosts(['127.0.0.9'], `other.${DOMAIN}`))
    const err = await gone
    expect(err.code).toBe('BURROW_ERR_PEER_SOURCE')
    expect(err.message).toContain(CACHE)
    expect(nodes[0]!.peers).toEqual(ring)
    await dns.setHosts(hosts(['127.0.0.1']))
    await ringWhere(nodes[0]!, same([id('127.0.0.1')]))
  })

  it('treats a name without addresses as an error and keeps the ring', async () => {
    const srvOnly = `_burrow._tcp.${CACHE}`
    const dns = await serve({ hosts: hosts(['127.0.0.2']), srv: [{ name: srvOnly, target: CACHE, port: 1 }] })
    const n = node({
      liveness: false,
      peers: dnsPeers(srvOnly, { port: 5001, servers: [dns.server], intervalMs: 50 }),
    })
    const empty = sourceError(n, 'no A or AAAA records')
    await n.listen()
    expect((await empty).code).toBe('BURROW_ERR_PEER_SOURCE')
    expect(n.peers).toEqual([n.self])
  })

  it('reports a server that does not answer within timeoutMs, keeps the ring, and recovers', async () => {
    const ips = ['127.0.0.1', '127.0.0.2']
    const dns = await serve({ hosts: hosts(ips) })
    const g = await gate(dns)
    const { nodes, id } = await dnsCluster(ips, g.server, { timeoutMs: 300 })
    const ring = await ringWhere(nodes[0]!, same(ips.map(id)))
    const silent = sourceError(nodes[0]!, 'no answer within 300 ms')
    g.open = false
    expect((await silent).code).toBe('BURROW_ERR_PEER_SOURCE')
    expect(nodes[0]!.peers).toEqual(ring)
    await dns.setHosts(hosts(['127.0.0.1']))
    g.open = true
    await ringWhere(nodes[0]!, same([id('127.0.0.1')]))
  })

  it('keeps the ring when the DNS server is down, and follows it once it is back', async () => {
    const ips = ['127.0.0.1', '127.0.0.2']
    const dns = await serve({ hosts: hosts(ips) })
    const { nodes, id } = await dnsCluster(ips, dns.server)
    const ring = await ringWhere(nodes[0]!, same(ips.map(id)))
    const refused = sourceError(nodes[0]!, 'ECONNREFUSED')
    await dns.stop()
    await refused
    expect(nodes[0]!.peers).toEqual(ring)
    await serve({ hosts: hosts(['127.0.0.2']) }, dns.port)
    await ringWhere(nodes[0]!, same(ips.map(id)))
    await ringWhere(nodes[1]!, same([id('127.0.0.2')]))
  })

  it('lets listen() resolve after a first lookup that fails, the node alone until records appear', async () => {
    const dns = await serve({ hosts: [] })
    const n = node({
      liveness: false,
      peers: dnsPeers(CACHE, { port: 5001, servers: [dns.server], intervalMs: 50 }),
    })
    const errors: BurrowError[] = []
    n.on('peerSourceError', (err) => errors.push(err))
    await n.listen()
    expect(errors.map((e) => e.code)).toEqual(['BURROW_ERR_PEER_SOURCE'])
    expect(n.peers).toEqual([n.self])
    await dns.setHosts(hosts(['127.0.0.7']))
    await ringWhere(n, same([n.self, 'http://127.0.0.7:5001']))
  })
})

describe('dnsPeers and address families', () => {
  const start = async (name: string, options: DnsPeersOptions) => {
    const dns = await serve({
      hosts: [
        ['::1', `six.${DOMAIN}`],
        ['127.0.0.5', `dual.${DOMAIN}`],
        ['::1', `dual.${DOMAIN}`],
      ],
    })
    const n = node({
      liveness: false,
      peers: dnsPeers(name, { port: 7001, servers: [dns.server], ...options }),
    })
    const errors: BurrowError[] = []
    n.on('peerSourceError', (err) => errors.push(err))
    await n.listen()
    return { n, errors }
  }

  it('writes IPv6 addresses in brackets (family 6)', async () => {
    const { n } = await start(`dual.${DOMAIN}`, { family: 6 })
    expect(n.peers).toEqual(['http://[::1]:7001', n.self].sort())
  })

  it("puts a dual-stack name on the ring once, by its IPv4 address ('auto')", async () => {
    const { n } = await start(`dual.${DOMAIN}`, {})
    expect(n.peers).toEqual(['http://127.0.0.5:7001', n.self].sort())
  })

  it("falls back to IPv6 for a name without IPv4 addresses ('auto')", async () => {
    const { n } = await start(`six.${DOMAIN}`, { family: 'auto' })
    expect(n.peers).toEqual(['http://[::1]:7001', n.self].sort())
  })

  it('reports an IPv6-only name asked for IPv4 (family 4)', async () => {
    const { n, errors } = await start(`six.${DOMAIN}`, { family: 4 })
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('ENODATA')])
    expect(n.peers).toEqual([n.self])
  })
})

describe('dnsPeers with SRV records', () => {
  const SRV = `_burrow._tcp.${CACHE}`
  const LOCAL = `local.${DOMAIN}`

  /** Three ports free on 127.0.0.1 together. */
  async function ports(): Promise<number[]> {
    const servers = [0, 1, 2].map(() => net.createServer())
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))))
    const found = servers.map((s) => (s.address() as net.AddressInfo).port)
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    return found
  }

  it('finds nodes on one address by their ports, resolving targets so ids match self', async () => {
    const [p1, p2, p3] = await ports()
    const srv = [p1!, p2!, p3!].map((port) => ({ name: SRV, target: LOCAL, port }))
    const dns = await serve({ hosts: [['127.0.0.1', LOCAL]], srv })
    const nodes = [p1, p2, p3].map((port) =>
      node({
        self: `http://127.0.0.1:${port}`,
        peers: dnsPeers(SRV, { srv: true, servers: [dns.server], intervalMs: 50, debounceMs: 20 }),
      }),
    )
    const loads: string[] = []
    const namespaces = nodes.map((n) =>
      n.namespace('test', {
        load: (key) => {
          loads.push(n.self)
          return key
        },
      }),
    )
    await Promise.all(nodes.map((n) => n.listen()))
    const all = nodes.map((n) => n.self)
    for (const n of nodes) await ringWhere(n, same(all))
    const key = keyOwnedBy(nodes[0]!, nodes[2]!.self)
    await Promise.all(namespaces.map((ns) => ns.get(key)))
    expect(loads).toEqual([nodes[2]!.self])

    // SRV records change only by restarting dnsmasq: the rings keep their peers meanwhile.
    await dns.stop()
    await serve({ hosts: [['127.0.0.1', LOCAL]], srv: srv.slice(0, 2) }, dns.port)
    await ringWhere(nodes[0]!, same(all.slice(0, 2)))
    await ringWhere(nodes[1]!, same(all.slice(0, 2)))
  })

  it('uses the target names as they are with resolveTargets: false', async () => {
    const srv = [
      { name: SRV, target: `a.${DOMAIN}`, port: 7001 },
      { name: SRV, target: `b.${DOMAIN}`, port: 7002 },
    ]
    const dns = await serve({ srv })
    const n = node({
      liveness: false,
      peers: dnsPeers(SRV, { srv: true, resolveTargets: false, servers: [dns.server] }),
    })
    await n.listen()
    expect(n.peers).toEqual([`http://a.${DOMAIN}:7001`, `http://b.${DOMAIN}:7002`, n.self].sort())
  })

  it('leaves out a target that does not resolve, reports it, and keeps the others', async () => {
    const srv = [
      { name: SRV, target: LOCAL, port: 7001 },
      { name: SRV, target: `gone.${DOMAIN}`, port: 7002 },
    ]
    const dns = await serve({ hosts: [['127.0.0.1', LOCAL]], srv })
    const n = node({ liveness: false, peers: dnsPeers(SRV, { srv: true, servers: [dns.server] }) })
    const errors: BurrowError[] = []
    n.on('peerSourceError', (err) => errors.push(err))
    await n.listen()
    expect(n.peers).toEqual(['http://127.0.0.1:7001', n.self].sort())
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining(`target gone.${DOMAIN} left out`)])
  })
})

describe('dnsPeers stopping', () => {
  it('makes no lookups after close()', async () => {
    const [a, b] = [`a.${DOMAIN}`, `b.${DOMAIN}`]
    const dns = await serve({ hosts: [...hosts(['127.0.0.1'], a), ...hosts(['127.0.0.1'], b)] })
    const polling = (name: string) =>
      node({ liveness: false, peers: dnsPeers(name, { port: 5001, servers: [dns.server], intervalMs: 20 }) })
    const first = polling(a)
    await first.listen()
    await dns.waitForQueries(a, 3)
    await first.close()
    // dnsmasq answers in order: once b's lookups show, any query of a sent before close() has shown too.
    const second = polling(b)
    await second.listen()
    await dns.waitForQueries(b, 2)
    const seen = dns.queries(a)
    await dns.waitForQueries(b, 15)
    expect(dns.queries(a)).toBe(seen)
  })

  it('cancels a lookup in flight on close(), however long its deadline', async () => {
    const dns = await serve({ hosts: hosts(['127.0.0.1']) })
    const g = await gate(dns)
    const n = node({
      liveness: false,
      peers: dnsPeers(CACHE, { port: 5001, servers: [g.server], intervalMs: 20, timeoutMs: 60_000 }),
    })
    const errors: BurrowError[] = []
    n.on('peerSourceError', (err) => errors.push(err))
    await n.listen()
    g.open = false
    await g.waitForSwallowed(1)
    // Left to run, the lookup would send its second try (c-ares retries within the deadline) before giving up.
    expect(await firstOf(n.close(), g.waitForSwallowed(2))).toBe('first')
    expect(errors).toEqual([])
  })

  it('lets close() end a listen() still waiting on its first lookup', async () => {
    const dns = await serve({ hosts: hosts(['127.0.0.1']) })
    const g = await gate(dns)
    g.open = false
    const n = node({
      liveness: false,
      peers: dnsPeers(CACHE, { port: 5001, servers: [g.server], timeoutMs: 60_000 }),
    })
    const listening = n.listen().catch((err: BurrowError) => err)
    await g.waitForSwallowed(1)
    expect(await firstOf(Promise.all([n.close(), listening]), g.waitForSwallowed(2))).toBe('first')
    expect(((await listening) as BurrowError).code).toBe('BURROW_ERR_CLOSED')
  })
})

describe('dnsPeers options', () => {
  it('names itself after the name and port, and passes debounceMs through to the node', () => {
    expect(dnsPeers(CACHE, { port: 5001 })).toMatchObject({
      name: `dns ${CACHE}:5001`,
      debounceMs: undefined,
    })
    expect(dnsPeers(`_x._tcp.${CACHE}.`, { srv: true, debounceMs: 250 })).toMatchObject({
      name: `dns srv _x._tcp.${CACHE}`,
      debounceMs: 250,
    })
  })

  const cases: [string, unknown, unknown, string][] = [
    ['no port', CACHE, {}, 'option port must be given'],
    ['a port of 0', CACHE, { port: 0 }, 'option port must be an integer in [1, 65535], received number 0'],
    ['a port as a string', CACHE, { port: '5001' }, 'option port must be an integer'],
    ['a port with srv', CACHE, { srv: true, port: 5001 }, 'option port must be left out with srv'],
    ['resolveTargets without srv', CACHE, { port: 1, resolveTargets: false }, 'option resolveTargets'],
    ['an empty name', '', { port: 1 }, 'option name must be a DNS name'],
    ['a name with a space', 'a b.test', { port: 1 }, 'received "a b.test"'],
    ['a name that is not a string', 42, { port: 1 }, 'option name must be a DNS name'],
    ['family 5', CACHE, { port: 1, family: 5 }, "option family must be 4, 6 or 'auto', received number 5"],
    [
      'intervalMs 1',
      CACHE,
      { port: 1, intervalMs: 1 },
      'option intervalMs must be an integer in [10, 3600000]',
    ],
    ['a negative timeoutMs', CACHE, { port: 1, timeoutMs: -1 }, 'option timeoutMs'],
    [
      'servers as a string',
      CACHE,
      { port: 1, servers: '127.0.0.1' },
      'option servers must be a non-empty array',
    ],
    ['a server that is a name', CACHE, { port: 1, servers: ['dns.local'] }, 'option servers[0]'],
    ['a server on port 0', CACHE, { port: 1, servers: ['127.0.0.1:0'] }, 'received "127.0.0.1:0"'],
    ['a server on port 99999', CACHE, { port: 1, servers: ['[::1]:99999'] }, 'option servers[0]'],
    ['a negative debounceMs', CACHE, { port: 1, debounceMs: -1 }, 'option debounceMs'],
    ['an unknown option', CACHE, { port: 1, interval: 5 }, 'unknown option dnsPeers.interval'],
    ['options that are not an object', CACHE, 5001, 'option dnsPeers options must be an object'],
  ]
  it.each(cases)('refuses %s with BURROW_ERR_BAD_OPTION', (_, name, options, message) => {
    const err = thrownBy(() => dnsPeers(name as string, options as DnsPeersOptions))
    expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
    expect(err.message).toContain(message)
  })

  it('accepts servers as IPv4 or IPv6 addresses, with or without a port', () => {
    const servers = ['10.96.0.10', '127.0.0.1:5353', '::1', '[::1]:53', '[2001:db8::1]']
    expect(dnsPeers(CACHE, { port: 5001, servers }).name).toBe(`dns ${CACHE}:5001`)
  })
})
