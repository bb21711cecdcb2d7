import { Buffer } from 'node:buffer'
import { createServer, type Server, type Socket } from 'node:net'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import { PeerClient, type PeerClientOptions } from '../src/transport/client/peer-client.ts'
import { type CommandArgs, CommandReader } from '../src/transport/resp/command-reader.ts'

/** How the fake owner answers one command: the raw bytes to write back, or nothing (yet). */
type Handler = (args: CommandArgs, socket: Socket) => string | Buffer | undefined

/** The fake owner's default: a fetch answers its key with ttl 1000, a store or purge is done. */
const echo: Handler = (args) => {
  const id = args[1] as string
  if (args[0] === 'BURROW.FETCH') {
    const key = args[3] as string
    return `*4\r\n:${id}\r\n+s\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n:1000\r\n`
  }
  return `*3\r\n:${id}\r\n+k\r\n$-1\r\n`
}

/** A fake owner that reads every command with burrow's own command reader and answers through `handler`. */
let server: Server
let peer = ''
let handler: Handler = echo
let received: CommandArgs[] = []
/** Called with each command the fake owner receives. */
let onReceive: (() => void) | undefined
const sockets = new Set<Socket>()
const clients: PeerClient[] = []

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    const out: (string | Buffer)[] = []
    const reader = new CommandReader<{ binaryFrom: number }>({
      maxFrameBytes: 1 << 24,
      lookup: (name) => ({ binaryFrom: name === 'BURROW.STORE' ? 5 : Number.POSITIVE_INFINITY }),
      onCommand: (_, args) => {
        received.push(args)
        onReceive?.()
        const reply = handler(args, socket)
        if (reply !== undefined) out.push(reply)
      },
      onInvalid: () => socket.destroy(),
    })
    socket.on('data', (chunk: Buffer) => {
      reader.feed(chunk)
      if (out.length > 0) socket.write(Buffer.concat(out.splice(0).map((r) => Buffer.from(r))))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})

/** Resolves once the fake owner has received its next command. */
function arrival(): Promise<void> {
  return new Promise((resolve) => {
    onReceive = resolve
  })
}

afterEach(() => {
  onReceive = undefined
  handler = echo
  received = []
  for (const client of clients.splice(0)) client.close()
})

afterAll(() => {
  for (const s of sockets) s.destroy()
  server.close()
})

function client(options: Partial<PeerClientOptions> = {}): PeerClient {
  const c = new PeerClient({
    timeoutMs: 2000,
    connections: 2,
    maxFrameBytes: 1 << 20,
    signal: new AbortController().signal,
    ...options,
  })
  clients.push(c)
  return c
}

/** The BurrowError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<BurrowError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(BurrowError)
  return err as BurrowError
}

describe('the peer client: fetch', () => {
  it('encodes every request exactly, whatever the batch size and key lengths (property)', async () => {
    const c = client()
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
            fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
          ),
          { minLength: 1, maxLength: 1500 },
        ),
        // One to three namespaces, taken in turn (the connection encodes the last one once).
        fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (keys, namespaces) => {
          received = []
          const nsOf = (i: number) => namespaces[i % namespaces.length]!
          const answers = await Promise.all(keys.map((key, i) => c.fetch(peer, nsOf(i), key)))
          expect(answers).toEqual(keys.map((key) => ({ value: key, ttlMs: 1000 })))
          expect(received.map((args) => [args[0], args[2], args[3]])).toEqual(
            expect.arrayContaining(keys.map((k, i) => ['BURROW.FETCH', nsOf(i), k])),
          )
          expect(received).toHaveLength(keys.length)
        },
      ),
      { numRuns: 60 },
    )
    expect(c.stats()).toMatchObject({ timeouts: 0, failures: 0 })
  })

  it('encodes rounds of thousands of short keys exactly, with ids of every width', async () => {
    const c = client({ timeoutMs: 5000 })
    for (let round = 0; round < 6; round++) {
      const keys = Array.from({ length: 3000 }, (_, i) => `key-${i + round}-ü`)
      received = []
      const answers = await Promise.all(keys.map((key) => c.fetch(peer, 'test', key)))
      expect(answers.map((a) => a.value)).toEqual(keys)
      expect(received).toHaveLength(keys.length)
    }
    expect(c.stats()).toMatchObject({ timeouts: 0, failures: 0 })
  })

  it('resolves a string for +s, a Buffer for +b, undefined for +n, each with its ttl, -1 when the reply has none', async () => {
    handler = (args) => {
      const id = args[1] as string
      const key = args[3] as string
      if (key === 'str') return `*4\r\n:${id}\r\n+s\r\n$5\r\nhé!!\r\n:0\r\n`
      if (key === 'bytes') return `*4\r\n:${id}\r\n+b\r\n$3\r\n\x00\r\n\r\n:60000\r\n`
      if (key === 'missing') return `*4\r\n:${id}\r\n+n\r\n$-1\r\n:5000\r\n`
      if (key === 'old') return `*3\r\n:${id}\r\n+s\r\n$3\r\nold\r\n`
      return `*6\r\n:${id}\r\n+s\r\n$5\r\nlater\r\n:7\r\n+a field from a later version\r\n*1\r\n:1\r\n`
    }
    const c = client()
    expect(await c.fetch(peer, 'ns', 'str')).toEqual({ value: 'hé!!', ttlMs: 0 })
    expect(await c.fetch(peer, 'ns', 'bytes')).toEqual({ value: Buffer.from([0, 13, 10]), ttlMs: 60000 })
    expect(await c.fetch(peer, 'ns', 'missing')).toEqual({ value: undefined, ttlMs: 5000 })
    expect(await c.fetch(peer, 'ns', 'old')).toEqual({ value: 'old', ttlMs: -1 })
    expect(await c.fetch(peer, 'ns', 'later')).toEqual({ value: 'later', ttlMs: 7 })
  })

  it('matches replies that come in any order to their own requests', async () => {
    const held: { id: string; key: string; socket: Socket }[] = []
    handler = (args, socket) => {
      held.push({ id: args[1] as string, key: args[3] as string, socket })
      if (held.length < 20) return undefined
      // Answer all twenty at once, last first.
      for (const { id, key, socket: s } of held.reverse()) {
        s.write(`*4\r\n:${id}\r\n+s\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n:-1\r\n`)
      }
      return undefined
    }
    const c = client({ connections: 1 })
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
    const answers = await Promise.all(keys.map((key) => c.fetch(peer, 'ns', key)))
    expect(answers.map((a) => a.value)).toEqual(keys)
  })

  it('sends the requests of one tick on the connection with the fewest in flight, as one batch', async () => {
    const held: { id: string; key: string; socket: Socket }[] = []
    handler = (args, socket) => {
      const key = args[3] as string
      if (key.startsWith('warm')) return echo(args, socket)
      held.push({ id: args[1] as string, key, socket })
      return undefined
    }
    const answer = (h: { id: string; key: string; socket: Socket }) =>
      h.socket.write(`*4\r\n:${h.id}\r\n+s\r\n$${Buffer.byteLength(h.key)}\r\n${h.key}\r\n:-1\r\n`)
    const c = client({ connections: 2 })
    // Two at once open both connections; six more, held, go three to each.
    await Promise.all([c.fetch(peer, 'ns', 'warm-1'), c.fetch(peer, 'ns', 'warm-2')])
    const first = Array.from({ length: 6 }, (_, i) => c.fetch(peer, 'ns', `a${i}`))
    await vi.waitFor(() => expect(held).toHaveLength(6))
    const sockets = [...new Set(held.map((h) => h.socket))]
    expect(sockets).toHaveLength(2)
    expect(held.filter((h) => h.socket === sockets[0])).toHaveLength(3)
    // One connection's three are answered: the next three, sent together, all go to it.
    const emptied = sockets[1]!
    const answered = held.splice(0).filter((h) => h.socket === emptied)
    for (const h of answered) answer(h)
    await Promise.all(first.filter((_, i) => answered.some((h) => h.key === `a${i}`)))
    const next = Array.from({ length: 3 }, (_, i) => c.fetch(peer, 'ns', `b${i}`))
    await vi.waitFor(() => expect(held).toHaveLength(3))
    expect(held.map((h) => h.socket === emptied)).toEqual([true, true, true])
    c.close()
    await Promise.allSettled([...first, ...next])
  })

  it('uses every connection under a light load: among equals, the pick moves on', async () => {
    const sockets: Socket[] = []
    handler = (args, socket) => {
      sockets.push(socket)
      return echo(args, socket)
    }
    const c = client({ connections: 2 })
    for (let i = 0; i < 10; i++) await c.fetch(peer, 'ns', `one-at-a-time-${i}`)
    const last = sockets.slice(2)
    const counts = [...new Set(last)].map((s) => last.filter((x) => x === s).length)
    expect(counts.sort()).toEqual([4, 4])
  })

  it("rejects with the owner's error code, or BURROW_ERR_PROTOCOL for a code it does not know", async () => {
    handler = (args) => {
      const text = args[3] === 'loader' ? 'BURROW_ERR_LOADER the loader failed' : 'WHATEVER no idea'
      return `*3\r\n:${args[1]}\r\n+e\r\n-${text}\r\n`
    }
    const c = client()
    const loader = await failure(c.fetch(peer, 'ns', 'loader'))
    expect(loader).toMatchObject({ code: 'BURROW_ERR_LOADER', peer, namespace: 'ns', key: 'loader' })
    expect(loader.message).toContain('the loader failed')
    expect((await failure(c.fetch(peer, 'ns', 'other'))).code).toBe('BURROW_ERR_PROTOCOL')
  })

  it('fails only the request whose value is over maxFrameBytes; the connection goes on', async () => {
    handler = (args) => {
      const value = args[3] === 'big' ? 'x'.repeat(5000) : 'small'
      return `*4\r\n:${args[1]}\r\n+s\r\n$${value.length}\r\n${value}\r\n:-1\r\n`
    }
    const c = client({ connections: 1, maxFrameBytes: 1000 })
    const [big, small] = await Promise.allSettled([c.fetch(peer, 'ns', 'big'), c.fetch(peer, 'ns', 'small')])
    expect(big).toMatchObject({ status: 'rejected', reason: { code: 'BURROW_ERR_FRAME_TOO_LARGE' } })
    expect(small).toEqual({ status: 'fulfilled', value: { value: 'small', ttlMs: -1 } })
    expect(await c.fetch(peer, 'ns', 'after')).toEqual({ value: 'small', ttlMs: -1 })
    expect(c.stats()).toMatchObject({ failures: 0, connectionsOpened: 1 })
  })

  it('fails every request of a connection that sends a malformed reply, with BURROW_ERR_PROTOCOL', async () => {
    handler = (args) => (args[3] === 'bad' ? '+OK\r\n' : undefined)
    const c = client({ connections: 1 })
    const results = await Promise.allSettled([c.fetch(peer, 'ns', 'waiting'), c.fetch(peer, 'ns', 'bad')])
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'BURROW_ERR_PROTOCOL' } })
    }
    expect(c.stats().failures).toBe(2)
  })

  it('rejects a reply whose status does not answer its command with BURROW_ERR_PROTOCOL', async () => {
    handler = (args) =>
      args[0] === 'BURROW.FETCH'
        ? `*3\r\n:${args[1]}\r\n+k\r\n$-1\r\n`
        : `*4\r\n:${args[1]}\r\n+s\r\n$1\r\nv\r\n:-1\r\n`
    const c = client()
    expect((await failure(c.fetch(peer, 'ns', 'k'))).code).toBe('BURROW_ERR_PROTOCOL')
    expect((await failure(c.purge(peer, 'ns', 'k'))).code).toBe('BURROW_ERR_PROTOCOL')
  })
})

describe('the peer client: store and purge', () => {
  it('stores bytes exactly (invalid UTF-8, CR, LF, NUL) and strings as text, with their TTL', async () => {
    const c = client({ connections: 1 })
    const bytes = new Uint8Array([0xff, 0xfe, 13, 10, 0, 0xc3, 0x28])
    await expect(c.store(peer, 'ns', 'b-key', bytes, 0)).resolves.toBeUndefined()
    await expect(c.store(peer, 'ns', 's-key', 'héllo\r\n', 60_000)).resolves.toBeUndefined()
    await expect(c.store(peer, 'ns', 'd-key', '', -1)).resolves.toBeUndefined()
    expect(received).toEqual([
      ['BURROW.STORE', '1', 'ns', 'b-key', 'b', Buffer.from(bytes), Buffer.from('0')],
      ['BURROW.STORE', '2', 'ns', 's-key', 's', Buffer.from('héllo\r\n'), Buffer.from('60000')],
      ['BURROW.STORE', '3', 'ns', 'd-key', 's', Buffer.alloc(0), Buffer.from('-1')],
    ])
  })

  it('purges with BURROW.PURGE id namespace key, and resolves once done', async () => {
    const c = client()
    await expect(c.purge(peer, 'ns', 'ключ')).resolves.toBeUndefined()
    expect(received).toEqual([['BURROW.PURGE', '1', 'ns', 'ключ']])
  })

  it("rejects a store or purge with the owner's error code", async () => {
    handler = (args) => `*3\r\n:${args[1]}\r\n+e\r\n-BURROW_ERR_BAD_KEY the key is too long\r\n`
    const c = client()
    expect((await failure(c.store(peer, 'ns', 'k', 'v', -1))).code).toBe('BURROW_ERR_BAD_KEY')
    expect((await failure(c.purge(peer, 'ns', 'k'))).code).toBe('BURROW_ERR_BAD_KEY')
  })

  it('refuses a value or TTL it cannot send, before anything is written', async () => {
    const c = client()
    expect((await failure(c.store(peer, 'ns', 'k', 42 as unknown as string, -1))).code).toBe(
      'BURROW_ERR_BAD_VALUE',
    )
    for (const ttl of [-2, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect((await failure(c.store(peer, 'ns', 'k', 'v', ttl))).code).toBe('BURROW_ERR_BAD_TTL')
    }
    await c.store(peer, 'ns', 'k', 'v', -1)
    expect(received).toHaveLength(1)
  })
})

describe('the peer client: deadlines, aborts, failures', () => {
  it('rejects a request the owner never answers with BURROW_ERR_PEER_TIMEOUT, and counts it', async () => {
    handler = () => undefined
    const c = client({ timeoutMs: 100 })
    for (const request of [
      c.fetch(peer, 'ns', 'k'),
      c.store(peer, 'ns', 'k', 'v', -1),
      c.purge(peer, 'ns', 'k'),
    ]) {
      expect(await failure(request)).toMatchObject({ code: 'BURROW_ERR_PEER_TIMEOUT', peer, key: 'k' })
    }
    expect(c.stats().timeouts).toBe(3)
  })

  it("rejects a peek the owner never answers by its own short deadline, not the client's", async () => {
    handler = (args) => (args[0] === 'BURROW.PEEK' ? undefined : echo(args, undefined as never))
    const c = client({ timeoutMs: 60_000 })
    // The connection is up first: the peek is written at once, not after its 50 ms ran out on a
    // connect that a busy machine was slow to finish.
    expect(await c.fetch(peer, 'test', 'before')).toEqual({ value: 'before', ttlMs: 1000 })
    received = []
    const arrived = arrival()
    const err = await failure(c.peek(peer, 'test', 'k', new AbortController().signal, 50))
    expect(err.code).toBe('BURROW_ERR_PEER_TIMEOUT')
    // The owner may read it only after the deadline ran out; it must not read it in the next test.
    let bound: NodeJS.Timeout | undefined
    await Promise.race([arrived, new Promise<void>((resolve) => (bound = setTimeout(resolve, 5000)))])
    clearTimeout(bound)
    expect(received.map((args) => args.slice(0, 1).concat(args.slice(2)))).toEqual([
      ['BURROW.PEEK', 'test', 'k'],
    ])
    // The connection goes on: a fetch after it is answered.
    expect(await c.fetch(peer, 'test', 'after')).toEqual({ value: 'after', ttlMs: 1000 })
  })

  it("rejects one request with its signal's reason when it aborts; the others go on", async () => {
    let release: (() => void) | undefined
    handler = (args, socket) => {
      release = () => socket.write(echo(args, socket) as string)
      return undefined
    }
    const c = client({ connections: 1 })
    const controller = new AbortController()
    const aborted = c.fetch(peer, 'ns', 'a', controller.signal)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(aborted).rejects.toBe(reason)
    await expect(c.fetch(peer, 'ns', 'b', AbortSignal.abort(reason))).rejects.toBe(reason)
    const arrived = arrival()
    const other = c.fetch(peer, 'ns', 'c')
    await arrived
    release!()
    expect(await other).toEqual({ value: 'c', ttlMs: 1000 })
  })

  it('fails fast with BURROW_ERR_PEER_UNAVAILABLE when the peer refuses, and does not redial for 250 ms', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const down = `http://127.0.0.1:${(closed.address() as { port: number }).port}`
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const c = client()
    expect((await failure(c.fetch(down, 'ns', 'k'))).code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    const again = await failure(c.store(down, 'ns', 'k', 'v', -1))
    expect(again.code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    expect(again.message).toContain('recently refused')
    expect(c.stats().connectionsOpened).toBe(0)
  })

  it('rejects pending and later requests with BURROW_ERR_CLOSED once the node closes', async () => {
    handler = () => undefined
    const controller = new AbortController()
    const c = client({ signal: controller.signal })
    const arrived = arrival()
    const pending = c.fetch(peer, 'ns', 'k')
    await arrived
    controller.abort()
    c.close()
    expect((await failure(pending)).code).toBe('BURROW_ERR_CLOSED')
    expect((await failure(c.purge(peer, 'ns', 'k'))).code).toBe('BURROW_ERR_CLOSED')
  })

  it('closes the connections of peers it no longer retains; their requests fail', async () => {
    handler = () => undefined
    const c = client()
    const arrived = arrival()
    const pending = c.fetch(peer, 'ns', 'k')
    await arrived
    c.retain(new Set())
    expect((await failure(pending)).code).toBe('BURROW_ERR_PEER_UNAVAILABLE')
    expect(c.stats().connectionsOpen).toBe(0)
  })
})

describe('the peer client: fetchTo (the outcome told to a receiver)', () => {
  /** A receiver that records every call, and whether it came before `fetchTo` returned. */
  function recorder() {
    const calls: { kind: 'answered' | 'failed'; value: unknown; synchronous: boolean }[] = []
    let sending = false
    let settled: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      settled = resolve
    })
    const to = {
      answered: (answer: unknown) => {
        calls.push({ kind: 'answered', value: answer, synchronous: sending })
        settled()
      },
      failed: (reason: unknown) => {
        calls.push({ kind: 'failed', value: reason, synchronous: sending })
        settled()
      },
    }
    const send = (fn: (receiver: typeof to) => void): void => {
      sending = true
      try {
        fn(to)
      } finally {
        sending = false
      }
    }
    return { calls, done, send }
  }

  it('tells the answer once, after the call returned', async () => {
    const c = client()
    const r = recorder()
    r.send((to) => c.fetchTo(peer, 'ns', 'key-1', undefined, to))
    await r.done
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(r.calls).toEqual([
      { kind: 'answered', value: { value: 'key-1', ttlMs: 1000 }, synchronous: false },
    ])
  })

  it('tells a failure that needs no round trip (an aborted signal, a closed client) after the call returned', async () => {
    const reason = new Error('caller gave up')
    const aborted = recorder()
    aborted.send((to) => client().fetchTo(peer, 'ns', 'k', AbortSignal.abort(reason), to))
    expect(aborted.calls).toEqual([])
    await aborted.done
    expect(aborted.calls).toEqual([{ kind: 'failed', value: reason, synchronous: false }])

    const controller = new AbortController()
    const c = client({ signal: controller.signal })
    controller.abort()
    c.close()
    const closed = recorder()
    closed.send((to) => c.fetchTo(peer, 'ns', 'k', undefined, to))
    expect(closed.calls).toEqual([])
    await closed.done
    expect(closed.calls).toHaveLength(1)
    expect(closed.calls[0]!.synchronous).toBe(false)
    expect((closed.calls[0]!.value as BurrowError).code).toBe('BURROW_ERR_CLOSED')
  })

  it('tells a request that cannot even be sent (a port out of range) as a failure, after the call returned', async () => {
    const bad = recorder()
    bad.send((to) => client().fetchTo('http://127.0.0.1:99999', 'ns', 'k', undefined, to))
    expect(bad.calls).toEqual([])
    await bad.done
    expect(bad.calls).toHaveLength(1)
    expect(bad.calls[0]!.kind).toBe('failed')
  })

  it("tells the owner's error, or a timeout, as a failure, once", async () => {
    const c = client({ timeoutMs: 40 })
    /** What `fetchTo` of `key` told its receiver, once past the deadline (so a second call would show). */
    const told = async (key: string) => {
      const to = recorder()
      to.send((receiver) => c.fetchTo(peer, 'ns', key, undefined, receiver))
      await to.done
      await new Promise((resolve) => setTimeout(resolve, 60))
      return to.calls
    }
    handler = (args) => `*3\r\n:${args[1]}\r\n+e\r\n-BURROW_ERR_LOADER the loader failed\r\n`
    const failed = await told('k')
    expect(failed).toHaveLength(1)
    expect((failed[0]!.value as BurrowError).code).toBe('BURROW_ERR_LOADER')

    handler = () => undefined
    const late = await told('k2')
    expect(late).toHaveLength(1)
    expect((late[0]!.value as BurrowError).code).toBe('BURROW_ERR_PEER_TIMEOUT')
  })
})
