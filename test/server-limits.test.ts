import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node, sleep } from './helpers.ts'
import { command, talk } from './support/resp-talk.ts'

const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await closeAll()
})

/** A raw connection to `base`; resolves once connected. */
async function raw(base: string): Promise<Socket> {
  const { hostname, port } = new URL(base)
  const socket = connect({ host: hostname, port: Number(port) })
  sockets.push(socket)
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return socket
}

/** Writes `bytes` one at a time, every `ms`, until they run out or the server closes the socket. */
async function drip(socket: Socket, bytes: string, ms: number): Promise<void> {
  for (const byte of bytes) {
    if (socket.destroyed || socket.readableEnded) return
    socket.write(byte)
    await sleep(ms)
  }
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())))

async function servedNode(options: {
  maxConnections?: number
  requestTimeoutMs?: number
  maxReplyBufferBytes?: number
}) {
  const n = node(options)
  n.namespace('test', { load: (key) => (key === 'big' ? 'x'.repeat(256 * 1024) : `value of ${key}`) })
  await n.listen()
  return n
}

describe('maxConnections', () => {
  it('closes connections over the bound on arrival, counts them, and takes new ones once some close', async () => {
    const n = await servedNode({ maxConnections: 2 })
    const first = await talk(n.self)
    const second = await talk(n.self)
    sockets.push(first.socket, second.socket)
    first.write(command('PING'))
    second.write(command('PING'))
    expect([...(await first.replies(1)), ...(await second.replies(1))]).toEqual(['PONG', 'PONG'])
    const third = await raw(n.self)
    await closed(third)
    expect(n.stats().server).toMatchObject({ connections: 2, refused: 1 })
    first.socket.destroy()
    await first.closed
    while (n.stats().server.connections > 1) await sleep(5)
    const fourth = await talk(n.self)
    sockets.push(fourth.socket)
    fourth.write(command('PING'))
    expect(await fourth.replies(1)).toEqual(['PONG'])
  })
})

describe('maxReplyBufferBytes', () => {
  it('cuts off a client that sends and never reads, once its unread replies pass the bound', async () => {
    const n = await servedNode({ maxReplyBufferBytes: 1 << 20, requestTimeoutMs: 200 })
    const socket = await raw(n.self)
    socket.pause() // never reads (so it will not see its own end either: the node's counter tells)
    // 25 MB of replies asked for: more than the kernel's buffers and the node's bound together.
    socket.write(Buffer.concat(Array.from({ length: 100 }, () => command('BURROW.GET', 'test', 'big'))))
    // The count goes up before the socket is destroyed; the connection is gone only at its 'close'.
    const cutOff = () => n.stats().server.overflowed > 0 && n.stats().server.connections === 0
    for (let waited = 0; !cutOff() && waited < 10_000; waited += 20) await sleep(20)
    expect(n.stats().server).toMatchObject({ overflowed: 1, connections: 0 })
  })

  it('lets a client that reads take as many replies as it asks for, however many are waiting', async () => {
    // The client reads in this process's event loop: a loop that stalls past requestTimeoutMs on a
    // loaded machine would look like a client that stopped reading. 2 s keeps clear of that.
    const n = await servedNode({ maxReplyBufferBytes: 1 << 20, requestTimeoutMs: 2000 })
    const c = await talk(n.self)
    sockets.push(c.socket)
    c.write(Buffer.concat(Array.from({ length: 40 }, () => command('BURROW.GET', 'test', 'big'))))
    const replies = await c.replies(40)
    expect(replies.every((r) => Buffer.isBuffer(r) && r.length === 256 * 1024)).toBe(true)
    expect(n.stats().server.overflowed).toBe(0)
  })
})

describe('requestTimeoutMs', () => {
  it('cuts off a RESP command whose bytes come too slowly, however steadily they come', async () => {
    const n = await servedNode({ requestTimeoutMs: 200 })
    const socket = await raw(n.self)
    const ended = closed(socket)
    socket.write('*3\r\n$10\r\nBURROW.GET\r\n')
    await drip(socket, '$4\r\ntest\r\n$1\r\nk\r\n'.repeat(20), 40) // ~15 s at this pace: bounded
    await ended
    expect(n.stats().server.timedOut).toBe(1)
  })

  it('times each command from its own first byte: a client streaming commands that no read ends between stays', async () => {
    const n = await servedNode({ requestTimeoutMs: 150 })
    const c = await talk(n.self)
    sockets.push(c.socket)
    const commands = Array.from({ length: 11 }, (_, i) => command('BURROW.GET', 'test', `k${i}`))
    const half = (i: number) => commands[i]!.subarray(0, 12)
    const rest = (i: number) => commands[i]!.subarray(12)
    // Each write ends halfway through a command, so the node never sees a read end between two:
    // ~400 ms of traffic with a command half-read all along, each one whole within 40 ms.
    c.write(half(0))
    for (let i = 0; i < 10; i++) {
      await sleep(40)
      c.write(Buffer.concat([rest(i), half(i + 1)]))
    }
    c.write(rest(10))
    expect(await c.replies(11)).toEqual(commands.map((_, i) => Buffer.from(`value of k${i}`)))
    expect(n.stats().server.timedOut).toBe(0)
  })

  it('judges a deadline after reading what came during a stall: a command whose rest arrived in time is served', async () => {
    const n = await servedNode({ requestTimeoutMs: 100 })
    const c = await talk(n.self)
    sockets.push(c.socket)
    const get = command('BURROW.GET', 'test', 'k')
    c.write(get.subarray(0, 12))
    await sleep(30) // the node has read the first half: its deadline is set
    c.write(get.subarray(12)) // in the node's socket before the stall
    // The event loop stalls past the deadline (a long GC pause, a starved process): the timer
    // then fires before the loop reads the rest.
    const until = performance.now() + 250
    while (performance.now() < until) {
      // a stall: nothing runs
    }
    expect(await c.replies(1)).toEqual([Buffer.from('value of k')])
    expect(n.stats().server.timedOut).toBe(0)
  })

  it('does not hold a command against its client while the node itself stopped reading (replies owed)', async () => {
    const n = node({ requestTimeoutMs: 100 })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    n.namespace('test', { load: (key) => gate.then(() => `value of ${key}`) })
    await n.listen()
    // 5,000 gets of one slow key: past the 4,096 replies a connection may owe, the node stops
    // reading, with the next command half-read. Its rest comes at once, but stays in the kernel.
    // (Made before connecting: a connection must send its first line within the deadline too.)
    const last = command('BURROW.GET', 'test', 'other')
    const gets = Buffer.concat(Array.from({ length: 5000 }, () => command('BURROW.GET', 'test', 'k')))
    const c = await talk(n.self)
    sockets.push(c.socket)
    c.write(Buffer.concat([gets, last.subarray(0, 12)]))
    await sleep(20)
    c.write(last.subarray(12))
    await sleep(300) // three deadlines pass while the node is not reading
    release()
    const replies = await c.replies(5001)
    expect(replies).toHaveLength(5001)
    expect(replies[0]).toEqual(Buffer.from('value of k'))
    expect(replies[5000]).toEqual(Buffer.from('value of other'))
    expect(n.stats().server.timedOut).toBe(0)
  })

  it('judges the first-line deadline after reading too: a first command sent in time, read after a stall, is served', async () => {
    const n = await servedNode({ requestTimeoutMs: 100 })
    const c = await talk(n.self)
    sockets.push(c.socket)
    for (let waited = 0; n.stats().server.connections === 0 && waited < 2000; waited += 5) await sleep(5)
    expect(n.stats().server.connections).toBe(1) // accepted: its first-line deadline runs
    c.write(command('PING')) // in the node's socket before the stall
    const until = performance.now() + 250
    while (performance.now() < until) {
      // a stall: nothing runs
    }
    expect(await c.replies(1)).toEqual(['PONG'])
    expect(n.stats().server.timedOut).toBe(0)
  })

  it('lets a connection that sends whole commands, slowly, stay as long as it likes', async () => {
    const n = await servedNode({ requestTimeoutMs: 150 })
    const c = await talk(n.self)
    sockets.push(c.socket)
    for (let i = 0; i < 3; i++) {
      c.write(command('BURROW.GET', 'test', `k${i}`))
      expect(await c.replies(1)).toEqual([Buffer.from(`value of k${i}`)])
      await sleep(200)
    }
    expect(n.stats().server.timedOut).toBe(0)
  })

  it('cuts off a connection whose first line does not come whole in time (silent, or dripped)', async () => {
    const n = await servedNode({ requestTimeoutMs: 150 })
    const silent = await raw(n.self)
    const dripped = await raw(n.self)
    const both = Promise.all([closed(silent), closed(dripped)])
    await drip(dripped, 'GET /burrow/test/k HTTP/1.1', 30)
    await both
    expect(n.stats().server.timedOut).toBe(2)
  })

  it('cuts off an HTTP request whose head is dripped, and serves keep-alive requests that come whole', async () => {
    // The deadline runs from the end of the response to a: far above the 100 ms idle below, so a
    // stalled event loop on a loaded machine does not make the idle time pass it.
    const n = await servedNode({ requestTimeoutMs: 1000 })
    const socket = await raw(n.self)
    let received = ''
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1')
    })
    socket.write('GET /burrow/test/a HTTP/1.1\r\nHost: x\r\n\r\n')
    while (!received.includes('value of a')) await sleep(5)
    await sleep(100) // idle between requests, within the deadline
    socket.write('GET /burrow/test/b HTTP/1.1\r\nHost: x\r\n\r\n')
    while (!received.includes('value of b')) await sleep(5)
    const ended = closed(socket)
    socket.write('GET /burrow/test/c HTTP/1.1\r\n')
    await drip(socket, 'X-Slow: '.padEnd(400, 'z'), 30)
    await ended
    expect(received).not.toContain('value of c')
    expect(n.stats().server.timedOut).toBe(1)
  })

  it('checks its options', () => {
    expect(() => node({ maxConnections: 0 })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_BAD_OPTION' }),
    )
    expect(() => node({ requestTimeoutMs: 1 })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_BAD_OPTION' }),
    )
  })
})
