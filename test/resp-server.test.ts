import { createHash } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, deferred, node, onCleanup } from './helpers.ts'
import { cluster } from './support/cluster.ts'
import { command, openTalk, redisTo, writeInPieces } from './support/resp-talk.ts'

afterEach(closeAll)

describe('the RESP server', () => {
  it('answers PING, in RESP and as an inline command', async () => {
    const n = node()
    await n.listen()
    const c = await openTalk(n.self)
    c.write(command('PING'))
    c.write('PING\r\n')
    c.write(command('PING', 'hello'))
    expect(await c.replies(3)).toEqual(['PONG', 'PONG', Buffer.from('hello')])
  })

  it('any Redis client (ioredis here) reads values through BURROW.GET, with nil for not found', async () => {
    const { nodes } = await cluster(2, { load: (key) => (key === 'missing' ? undefined : `value of ${key}`) })
    const { hostname, port } = new URL(nodes[0]!.self)
    const redis = new Redis({
      host: hostname,
      port: Number(port),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
    })
    onCleanup(() => redis.disconnect())
    await redis.connect()
    expect(await redis.call('BURROW.GET', 'test', '6.824')).toBe('value of 6.824')
    expect(await redis.call('BURROW.GET', 'test', 'ü 😀')).toBe('value of ü 😀')
    expect(await redis.call('BURROW.GET', 'test', 'missing')).toBeNull()
    await expect(redis.call('BURROW.GET', 'nope', 'k')).rejects.toThrow(/BURROW_ERR_UNKNOWN_NAMESPACE/)
    await expect(redis.call('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/)
    expect(await redis.ping()).toBe('PONG')
  })

  it('any Redis client sets and deletes through any node, and every node sees the write', async () => {
    const { nodes, namespaces } = await cluster(3, {
      node: { random: () => 0 },
      namespace: { hot: { probability: 1 } },
    })
    const clients = nodes.map((n) => redisTo(n.self))
    for (const ns of namespaces) await ns.get('6.824') // a copy everywhere
    expect(await clients[1]!.call('BURROW.SET', 'test', '6.824', 'Distributed Systems')).toBe('OK')
    for (const redis of clients)
      expect(await redis.call('BURROW.GET', 'test', '6.824')).toBe('Distributed Systems')
    // BYTES keeps the exact bytes (here not valid UTF-8) and the kind.
    const raw = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0xfe])
    expect(await clients[2]!.call('BURROW.SET', 'test', 'raw', raw, 'BYTES')).toBe('OK')
    const got = await namespaces[0]!.get('raw')
    expect(got).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(got as Uint8Array).equals(raw)).toBe(true)
    expect(await clients[0]!.call('BURROW.DEL', 'test', '6.824')).toBe('OK')
    for (const ns of namespaces) expect(ns.peek('6.824')).toBeUndefined()
    expect(await clients[2]!.call('BURROW.GET', 'test', '6.824')).toBe('value of 6.824')
  })

  it('BURROW.SET with PX sets the TTL on the owner', async () => {
    let now = 1_000_000
    const { nodes, namespaces } = await cluster(2, { node: { clock: { now: () => now } } })
    const redis = redisTo(nodes[0]!.self)
    expect(await redis.call('BURROW.SET', 'test', 'k', 'v', 'PX', '1000')).toBe('OK')
    const owner = nodes.findIndex((n) => n.self === nodes[0]!.ownerOf('k'))
    expect(namespaces[owner]!.peek('k')).toBe('v')
    now += 1000
    expect(namespaces[owner]!.peek('k')).toBeUndefined()
    await expect(redis.call('BURROW.SET', 'test', 'k', 'v', 'PX', '-5')).rejects.toThrow(/ERR/)
  })

  it('a client that knows only BURROW.RING routes every key to the owner the nodes agree on', async () => {
    const { nodes } = await cluster(3)
    const reply = (await redisTo(nodes[1]!.self).call('BURROW.RING')) as (string | number | string[])[]
    const view = Object.fromEntries(
      Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i] as string, reply[2 * i + 1]]),
    ) as { ring: string; hash: string; replicas: number; self: string; peers: string[] }
    expect(view).toMatchObject({ ring: 'groupcache', hash: 'crc32', replicas: 50, self: nodes[1]!.self })
    expect(view.peers).toEqual([...nodes.map((n) => n.self)].sort())
    // The algorithm of docs/protocol.md, written again here from its description alone.
    const points = view.peers
      .flatMap((peer) =>
        Array.from({ length: view.replicas }, (_, i) => ({ hash: crc32(Buffer.from(`${i}${peer}`)), peer })),
      )
      .sort((a, b) => a.hash - b.hash)
    const ownerOf = (key: string) => {
      const h = crc32(Buffer.from(key))
      return (points.find((p) => p.hash >= h) ?? points[0]!).peer
    }
    for (let i = 0; i < 500; i++) expect(ownerOf(`key-${i}`)).toBe(nodes[0]!.ownerOf(`key-${i}`))
  })

  it('a client that knows only BURROW.RING routes every key to its owner on a maglev ring too', async () => {
    const { nodes } = await cluster(3, { node: { ring: 'maglev' } })
    const reply = (await redisTo(nodes[2]!.self).call('BURROW.RING')) as (string | number | string[])[]
    const view = Object.fromEntries(
      Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i] as string, reply[2 * i + 1]]),
    ) as { ring: string; hash: string; table: number; self: string; peers: string[] }
    expect(view).toMatchObject({ ring: 'maglev', hash: 'crc32', table: 65537, self: nodes[2]!.self })
    expect(view).not.toHaveProperty('replicas')
    expect(view.peers).toEqual([...nodes.map((n) => n.self)].sort())
    // The algorithm of docs/protocol.md, written again here from its description alone.
    const m = view.table
    const walks = view.peers.map((peer) => {
      const digest = createHash('sha256').update(peer).digest()
      return { offset: digest.readUInt32BE(0) % m, skip: (digest.readUInt32BE(4) % (m - 1)) + 1, taken: 0 }
    })
    const table = new Array<number>(m).fill(-1)
    for (let filled = 0; filled < m; ) {
      for (let i = 0; i < walks.length && filled < m; i++) {
        const walk = walks[i]!
        let slot = (walk.offset + walk.taken * walk.skip) % m
        while (table[slot] !== -1) slot = (walk.offset + ++walk.taken * walk.skip) % m
        table[slot] = i
        walk.taken++
        filled++
      }
    }
    const ownerOf = (key: string) => view.peers[table[crc32(Buffer.from(key)) % m]!]
    for (let i = 0; i < 500; i++) expect(ownerOf(`key-${i}`)).toBe(nodes[0]!.ownerOf(`key-${i}`))
  })

  it('a command split into 1-byte writes is still understood', async () => {
    const { nodes } = await cluster(1)
    const c = await openTalk(nodes[0]!.self)
    c.socket.setNoDelay(true)
    for (const byte of Buffer.from(command('BURROW.GET', 'test', 'k1'))) {
      c.write(Buffer.from([byte]))
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(await c.replies(1)).toEqual([Buffer.from('value of k1')])
  })

  it('BURROW.GET replies come in request order; BURROW.FETCH replies are tagged and do not wait behind a slow load', async () => {
    const slow = deferred<void>()
    const { nodes } = await cluster(1, {
      load: async (key) => {
        if (key === 'slow') await slow.promise
        return key
      },
    })
    const c = await openTalk(nodes[0]!.self)
    c.write(Buffer.concat([command('BURROW.GET', 'test', 'slow'), command('BURROW.GET', 'test', 'fast')]))
    c.write(
      Buffer.concat([
        command('BURROW.FETCH', '7', 'test', 'slow'),
        command('BURROW.FETCH', '8', 'test', 'quick'),
      ]),
    )
    const first = await c.replies(1)
    expect(first).toEqual([[8, 's', Buffer.from('quick'), -1]]) // the tagged fast one, first of all
    slow.resolve()
    const rest = await c.replies(3)
    expect(rest.filter((r) => !Array.isArray(r))).toEqual([Buffer.from('slow'), Buffer.from('fast')])
    expect(rest.filter(Array.isArray)).toEqual([[7, 's', Buffer.from('slow'), -1]])
  })

  it('a frame larger than maxFrameBytes gets an error reply and the connection is closed', async () => {
    const n = node({ maxFrameBytes: 4096 })
    await n.listen()
    const c = await openTalk(n.self)
    c.write('*2\r\n$4\r\nPING\r\n$99999\r\n')
    const [reply] = await c.replies(1)
    expect(String((reply as { message: string }).message)).toMatch(/BURROW_ERR_FRAME_TOO_LARGE/)
    await c.closed
  })

  it('pipelined commands cut at any points, mixed with inline ones, are all answered in order (property)', async () => {
    const n = node()
    await n.listen()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.boolean()), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (messages, cuts) => {
          const c = await openTalk(n.self)
          const stream = Buffer.concat(
            messages.map(([m, inline]) =>
              Buffer.from(inline && /^[!-~]+$/.test(m) ? `PING ${m}\r\n` : command('PING', m)),
            ),
          )
          await writeInPieces(c, stream, cuts)
          const replies = await c.replies(messages.length)
          expect(replies.map((r) => (r as Buffer).toString())).toEqual(messages.map(([m]) => m))
          c.socket.destroy()
        },
      ),
      { numRuns: 40 },
    )
  })

  it('a first line longer than 8 KiB is refused by closing the connection', async () => {
    const n = node()
    await n.listen()
    const c = await openTalk(n.self)
    c.write(`PING ${'x'.repeat(20_000)}\r\n`)
    await c.closed
    expect(c.received()).toBe(0)
  })

  it('random garbage never takes the server down: afterwards it still answers and serves peers', async () => {
    const { nodes, namespaces } = await cluster(2)
    const target = nodes[1]!
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (garbage) => {
        const c = await openTalk(target.self)
        c.write(Buffer.from(garbage))
        c.socket.end()
        await Promise.race([c.closed, new Promise((resolve) => setTimeout(resolve, 100))])
        c.socket.destroy()
      }),
      { numRuns: 60 },
    )
    const c = await openTalk(target.self)
    c.write(command('PING'))
    expect(await c.replies(1)).toEqual(['PONG'])
    const key = Array.from({ length: 100 }, (_, i) => `g${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === target.self,
    )!
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(nodes[0]!.stats().namespaces['test']!.peerErrors).toBe(0)
  })
})

describe('the peer client against a peer that speaks garbage', () => {
  it('random garbage replies never stall the pool: every get completes by fallback, within the deadline', async () => {
    let replies: Uint8Array[] = []
    const sockets = new Set<Socket>()
    const liar: Server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('data', () => {
        const next = replies.shift()
        if (next !== undefined) socket.write(next)
      })
    })
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve))
    onCleanup(() => {
      for (const s of sockets) s.destroy()
      liar.close()
    })
    const liarId = `http://127.0.0.1:${(liar.address() as { port: number }).port}`
    const n = node({ peerTimeoutMs: 200 })
    const ns = n.namespace('test', { hot: false, load: (k) => `local ${k}` })
    await n.listen()
    n.setPeers([n.self, liarId])
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`).filter((k) => n.ownerOf(k) === liarId)
    let next = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 4 }),
        async (chunks) => {
          replies = chunks
          const key = keys[next++]! // a key not asked before, so not cached
          const started = performance.now()
          expect(await ns.get(key)).toMatch(/^(local |value of )/)
          expect(performance.now() - started).toBeLessThan(200 + 1000)
        },
      ),
      { numRuns: 40 },
    )
    expect(n.stats().peerClient.connectionsOpen).toBeLessThanOrEqual(2)
  })
})
