import { connect, createServer, type Server, type Socket } from 'node:net'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { RespParser, type RespValue } from '../src/transport/resp.ts'
import { closeAll, deferred, node } from './helpers.ts'
import { cluster } from './support/cluster.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await closeAll()
})

/** A raw TCP conversation with a node: write bytes, read parsed replies. */
async function talk(base: string): Promise<{
  socket: Socket
  write: (data: string | Buffer) => void
  received: () => number
  replies: (n: number) => Promise<RespValue[]>
  closed: Promise<void>
}> {
  const { hostname, port } = new URL(base)
  const socket = connect({ host: hostname, port: Number(port) })
  cleanups.push(() => socket.destroy())
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const parser = new RespParser()
  const got: RespValue[] = []
  let wake: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => {
    parser.feed(chunk, (v) => got.push(v))
    wake?.()
  })
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  return {
    socket,
    write: (data) => socket.write(data),
    received: () => got.length,
    closed,
    replies: async (n) => {
      const deadline = Date.now() + 5000
      while (got.length < n && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 50)
        })
      }
      return got.splice(0, n)
    },
  }
}

const command = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`

describe('the RESP server', () => {
  it('answers PING, in RESP and as an inline command', async () => {
    const n = node()
    await n.listen()
    const c = await talk(n.self)
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
    cleanups.push(() => redis.disconnect())
    await redis.connect()
    expect(await redis.call('BURROW.GET', 'test', '6.824')).toBe('value of 6.824')
    expect(await redis.call('BURROW.GET', 'test', 'ü 😀')).toBe('value of ü 😀')
    expect(await redis.call('BURROW.GET', 'test', 'missing')).toBeNull()
    await expect(redis.call('BURROW.GET', 'nope', 'k')).rejects.toThrow(/BURROW_ERR_UNKNOWN_NAMESPACE/)
    await expect(redis.call('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/)
    expect(await redis.ping()).toBe('PONG')
  })

  it('a command split into 1-byte writes is still understood', async () => {
    const { nodes } = await cluster(1)
    const c = await talk(nodes[0]!.self)
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
    const c = await talk(nodes[0]!.self)
    c.write(command('BURROW.GET', 'test', 'slow') + command('BURROW.GET', 'test', 'fast'))
    c.write(command('BURROW.FETCH', '7', 'test', 'slow') + command('BURROW.FETCH', '8', 'test', 'quick'))
    const first = await c.replies(1)
    expect(first).toEqual([[8, 's', Buffer.from('quick')]]) // the tagged fast one, first of all
    slow.resolve()
    const rest = await c.replies(3)
    expect(rest.filter((r) => !Array.isArray(r))).toEqual([Buffer.from('slow'), Buffer.from('fast')])
    expect(rest.filter(Array.isArray)).toEqual([[7, 's', Buffer.from('slow')]])
  })

  it('a frame larger than maxFrameBytes gets an error reply and the connection is closed', async () => {
    const n = node({ maxFrameBytes: 4096 })
    await n.listen()
    const c = await talk(n.self)
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
          const c = await talk(n.self)
          const stream = Buffer.concat(
            messages.map(([m, inline]) =>
              Buffer.from(inline && /^[!-~]+$/.test(m) ? `PING ${m}\r\n` : command('PING', m)),
            ),
          )
          const points = [...new Set(cuts.map((x) => x % stream.length))].sort((a, b) => a - b)
          let from = 0
          for (const p of [...points, stream.length]) {
            if (p > from) c.write(stream.subarray(from, p))
            from = p
            await new Promise((resolve) => setImmediate(resolve))
          }
          const replies = await c.replies(messages.length)
          expect(replies.map((r) => (r as Buffer).toString())).toEqual(messages.map(([m]) => m))
          c.socket.destroy()
        },
      ),
      { numRuns: 40 },
    )
  })

  it('QUIT answers +OK after the replies owed before it, and closes once every owed reply is written', async () => {
    const slow = deferred<void>()
    const { nodes } = await cluster(1, {
      load: async (key) => {
        await slow.promise
        return key
      },
    })
    const c = await talk(nodes[0]!.self)
    c.write(
      command('BURROW.GET', 'test', 'a') +
        command('BURROW.FETCH', '9', 'test', 'b') +
        command('QUIT') +
        command('PING'),
    )
    setTimeout(() => slow.resolve(), 50)
    const replies = await c.replies(3)
    await c.closed
    // Untagged replies keep their order (a, then OK); the tagged one may come anywhere, but before the close.
    expect(replies.filter((r) => !Array.isArray(r))).toEqual([Buffer.from('a'), 'OK'])
    expect(replies).toContainEqual([9, 's', Buffer.from('b')])
    expect(c.received()).toBe(0) // and nothing after QUIT was run
  })

  it('a first line longer than 8 KiB is refused by closing the connection', async () => {
    const n = node()
    await n.listen()
    const c = await talk(n.self)
    c.write(`PING ${'x'.repeat(20_000)}\r\n`)
    await c.closed
    expect(c.received()).toBe(0)
  })

  it('random garbage never takes the server down: afterwards it still answers and serves peers', async () => {
    const { nodes, namespaces } = await cluster(2)
    const target = nodes[1]!
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (garbage) => {
        const c = await talk(target.self)
        c.write(Buffer.from(garbage))
        c.socket.end()
        await Promise.race([c.closed, new Promise((resolve) => setTimeout(resolve, 100))])
        c.socket.destroy()
      }),
      { numRuns: 60 },
    )
    const c = await talk(target.self)
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
    cleanups.push(() => {
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
          const key = keys[next++ % keys.length]!
          ns.delete(key)
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
