import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StoredValue } from '../src/codec.ts'
import { BurrowError } from '../src/errors.ts'
import { PeerClient } from '../src/transport/client/peer-client.ts'
import { RespError, type RespValue } from '../src/transport/resp/reader.ts'
import type { Answer, RingView, ServedNamespace, WriteResult, WriteTtl } from '../src/transport/served.ts'
import { NodeServer } from '../src/transport/server/node-server.ts'
import { parseId } from '../src/transport/server/replies.ts'
import { command, type Talk, talk, writeInPieces } from './support/resp-talk.ts'

/**
 * An in-memory namespace that records what the server asks of it. A key with a gate answers
 * only once the gate opens; `boom` fails with a loader error, `bug` with a plain Error, `bad`
 * with a bad-key error.
 */
class FakeNamespace implements ServedNamespace {
  readonly name = 'test'
  readonly entries = new Map<string, { value: StoredValue; ttlMs: number }>()
  readonly calls: unknown[][] = []
  readonly gates = new Map<string, Promise<void>>()
  unreachable: string[] = []

  fetch(key: string): Answer | Promise<Answer> {
    this.calls.push(['fetch', key])
    return this.#answer(key, () => {
      const entry = this.entries.get(key)
      return entry === undefined ? { value: undefined, ttlMs: 0 } : { ...entry }
    })
  }

  peek(key: string): Answer | undefined {
    this.calls.push(['peek', key])
    check(key)
    const entry = this.entries.get(key)
    return entry === undefined ? undefined : { ...entry }
  }

  read(key: string): StoredValue | undefined | Promise<StoredValue | undefined> {
    this.calls.push(['read', key])
    return this.#answer(key, () => this.entries.get(key)?.value)
  }

  store(key: string, value: StoredValue, ttl: WriteTtl): void {
    this.calls.push(['store', key, value, ttl])
    check(key)
    this.entries.set(key, { value, ttlMs: ttl })
  }

  purge(key: string): void {
    this.calls.push(['purge', key])
    check(key)
    this.entries.delete(key)
  }

  flush(): void {
    this.calls.push(['flush'])
    this.entries.clear()
  }

  set(key: string, value: StoredValue, ttl: WriteTtl): Promise<WriteResult> {
    this.calls.push(['set', key, value, ttl])
    return Promise.resolve(
      this.#answer(key, () => {
        this.entries.set(key, { value, ttlMs: ttl })
        return { unreachable: this.unreachable }
      }),
    )
  }

  delete(key: string): Promise<WriteResult> {
    this.calls.push(['delete', key])
    return Promise.resolve(
      this.#answer(key, () => {
        this.entries.delete(key)
        return { unreachable: this.unreachable }
      }),
    )
  }

  /** Answers now (a cached answer) or once the key's gate opens. */
  #answer<T>(key: string, answer: () => T): T | Promise<T> {
    const gate = this.gates.get(key)
    const failing = key === 'boom' || key === 'bug' || key === 'bad'
    if (gate === undefined && !failing) return answer()
    return (gate ?? Promise.resolve()).then(() => {
      check(key)
      return answer()
    })
  }
}

function check(key: string): void {
  if (key === 'boom') throw new BurrowError('BURROW_ERR_LOADER', 'the loader failed', { key })
  if (key === 'bad') throw new BurrowError('BURROW_ERR_BAD_KEY', 'bad key', { key })
  if (key === 'bug') throw new Error('internal details')
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

let ns: FakeNamespace
let server: NodeServer
/** What the server told its node about membership, and whether the node is leaving. */
const membership = { left: [] as string[], leaving: false }
let port = 0
let ringView: RingView
const cleanups: (() => unknown)[] = []

async function start(maxFrameBytes = 1 << 20): Promise<void> {
  await server?.close()
  server = new NodeServer({
    node: { self: 'http://127.0.0.1:6380' },
    namespace: (name) => (name === 'test' ? ns : undefined),
    http: (_req, res) => res.end('http here'),
    maxFrameBytes,
    stats: () => ({ requests: 3 }),
    ring: () => ringView,
    secrets: undefined,
    maxConnections: 10_000,
    requestTimeoutMs: 10_000,
    maxReplyBufferBytes: 1 << 26,
    membership: {
      left: (peer) => {
        if (peer === 'bad') throw new BurrowError('BURROW_ERR_BAD_OPTION', 'not a peer id')
        membership.left.push(peer)
      },
      leaving: () => membership.leaving,
    },
  })
  port = (await server.listen('127.0.0.1', 0)).port
}

beforeEach(async () => {
  ns = new FakeNamespace()
  membership.left = []
  membership.leaving = false
  const peers = ['http://a:1', 'http://b:2']
  ringView = { ring: 'groupcache', self: 'http://a:1', peers, replicas: 50, hash: 'crc32' }
  await start()
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await server.close()
})

async function open(): Promise<Talk> {
  const c = await talk(`http://127.0.0.1:${port}`)
  cleanups.push(() => c.socket.destroy())
  return c
}

async function ask(...commands: Buffer[]): Promise<RespValue[]> {
  const c = await open()
  c.write(Buffer.concat(commands))
  return c.replies(commands.length)
}

const error = (pattern: RegExp) => expect.objectContaining({ message: expect.stringMatching(pattern) })

describe('BURROW.FETCH', () => {
  it('answers [id, +s|+b, value, ttl] for a value and [id, +n, nil, ttl] for not found', async () => {
    ns.entries.set('str', { value: 'MIT 🦫', ttlMs: -1 })
    ns.entries.set('bytes', { value: new Uint8Array([0, 13, 10, 255]), ttlMs: 5000 })
    ns.entries.set('fraction', { value: 'f', ttlMs: 0.4 })
    expect(
      await ask(
        command('BURROW.FETCH', '1', 'test', 'str'),
        command('BURROW.FETCH', '2', 'test', 'bytes'),
        command('BURROW.FETCH', '3', 'test', 'missing'),
        command('BURROW.FETCH', '4', 'test', 'fraction'),
      ),
    ).toEqual([
      [1, 's', Buffer.from('MIT 🦫'), -1],
      [2, 'b', Buffer.from([0, 13, 10, 255]), 5000],
      [3, 'n', null, 0],
      [4, 's', Buffer.from('f'), 1],
    ])
    expect(ns.calls).toEqual([
      ['fetch', 'str'],
      ['fetch', 'bytes'],
      ['fetch', 'missing'],
      ['fetch', 'fraction'],
    ])
  })

  it('answers tagged replies as they are ready, not in request order', async () => {
    const slow = gate()
    ns.gates.set('slow', slow.promise)
    ns.entries.set('slow', { value: 'S', ttlMs: -1 })
    ns.entries.set('fast', { value: 'F', ttlMs: -1 })
    const c = await open()
    c.write(
      Buffer.concat([
        command('BURROW.FETCH', '7', 'test', 'slow'),
        command('BURROW.FETCH', '8', 'test', 'fast'),
      ]),
    )
    expect(await c.replies(1)).toEqual([[8, 's', Buffer.from('F'), -1]])
    slow.open()
    expect(await c.replies(1)).toEqual([[7, 's', Buffer.from('S'), -1]])
  })

  it("answers a failure with [id, +e, -CODE message], and nothing internal for an error that is not burrow's", async () => {
    expect(
      await ask(
        command('BURROW.FETCH', '1', 'test', 'boom'),
        command('BURROW.FETCH', '2', 'test', 'bug'),
        command('BURROW.FETCH', '3', 'nope', 'k'),
      ),
    ).toEqual(
      expect.arrayContaining([
        [1, 'e', new RespError('BURROW_ERR_LOADER the loader failed')],
        [2, 'e', new RespError('ERR internal error')],
        [3, 'e', new RespError('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace')],
      ]),
    )
  })

  it('answers a bad arity or id with an untagged usage error', async () => {
    const replies = await ask(
      command('BURROW.FETCH', '1', 'test'),
      command('BURROW.FETCH', 'x1', 'test', 'k'),
      command('BURROW.FETCH', '-1', 'test', 'k'),
      command('BURROW.FETCH', '1234567890123456', 'test', 'k'),
    )
    expect(replies).toEqual(Array(4).fill(error(/^ERR usage: BURROW.FETCH id namespace key$/)))
  })
})

describe('BURROW.PEEK', () => {
  it('answers from the cache only: a value as FETCH does, a miss as [id, +m, nil]', async () => {
    ns.entries.set('k', { value: 'v', ttlMs: 700 })
    const replies = await ask(
      command('BURROW.PEEK', '1', 'test', 'k'),
      command('BURROW.PEEK', '2', 'test', 'cold'),
      command('BURROW.PEEK', '3', 'nope', 'k'),
      command('BURROW.PEEK', '4', 'test', 'boom'),
      command('BURROW.PEEK', 'x', 'test', 'k'),
    )
    expect(replies).toEqual([
      [1, 's', Buffer.from('v'), 700],
      [2, 'm', null],
      [3, 'e', error(/^BURROW_ERR_UNKNOWN_NAMESPACE/)],
      [4, 'e', error(/^BURROW_ERR_LOADER/)],
      error(/^ERR usage: BURROW.PEEK id namespace key$/),
    ])
    expect(ns.calls.filter(([op]) => op === 'fetch')).toEqual([])
  })
})

describe('BURROW.LEAVE and BURROW.PING', () => {
  it('LEAVE tells the node which peer leaves; a malformed id is a tagged error', async () => {
    const replies = await ask(
      command('BURROW.LEAVE', '1', 'http://b:2'),
      command('BURROW.LEAVE', '2', 'bad'),
      command('BURROW.LEAVE', '3'),
    )
    expect(replies).toEqual([
      [1, 'k', null],
      [2, 'e', error(/^BURROW_ERR_BAD_OPTION not a peer id/)],
      error(/^ERR usage: BURROW.LEAVE id peer$/),
    ])
    expect(membership.left).toEqual(['http://b:2'])
  })

  it('PING is answered while the node runs, and fails once it is leaving', async () => {
    expect(await ask(command('BURROW.PING', '1'))).toEqual([[1, 'k', null]])
    membership.leaving = true
    expect(await ask(command('BURROW.PING', '2'))).toEqual([[2, 'e', error(/^BURROW_ERR_CLOSED/)]])
  })
})

describe('closing the server', () => {
  it('with a grace period, writes the replies owed before it closes a connection', async () => {
    const slow = gate()
    ns.gates.set('a', slow.promise)
    ns.entries.set('a', { value: 'A', ttlMs: -1 })
    const c = await open()
    c.write(command('BURROW.FETCH', '5', 'test', 'a'))
    // The fetch is read and waits on its gate: a reply is owed (a fixed sleep is not sure of it).
    for (let waited = 0; ns.calls.length === 0 && waited < 5000; waited += 5)
      await new Promise((resolve) => setTimeout(resolve, 5))
    expect(ns.calls.length).toBe(1)
    const closed = server.close(2000)
    setTimeout(() => slow.open(), 20)
    expect(await c.replies(1)).toEqual([[5, 's', Buffer.from('A'), -1]])
    await c.closed
    await closed
  })

  it('with a grace period, closes as soon as idle connections have ended, not at its end', async () => {
    // A peer's pooled connection, used once, then idle.
    const client = new PeerClient({
      timeoutMs: 2000,
      connections: 1,
      maxFrameBytes: 1 << 20,
      signal: new AbortController().signal,
    })
    cleanups.push(() => client.close())
    await client.ping(`http://127.0.0.1:${port}`, 1000)
    expect(client.stats().connectionsOpen).toBe(1)
    // A minute of grace: the test's own timeout fails it if close() waits for the grace to run out.
    const closing = server.close(60_000)
    // A probe that arrives as the connection ends is ignored, and does not keep it open.
    await client.ping(`http://127.0.0.1:${port}`, 500).catch(() => {})
    await closing
    expect(client.stats().connectionsOpen).toBe(0)
  })

  it('without one, drops connections at once, replies owed or not', async () => {
    const slow = gate()
    ns.gates.set('a', slow.promise)
    const c = await open()
    c.write(command('BURROW.FETCH', '5', 'test', 'a'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    await server.close()
    await c.closed
    slow.open()
    expect(c.received()).toBe(0)
  })
})

describe('BURROW.STORE and BURROW.PURGE', () => {
  it('stores kind b as its exact bytes (invalid UTF-8, CR, LF, NUL) and kind s as text, with the TTL', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 13, 10, 0, 0xc3, 0x28, 0x24])
    expect(
      await ask(
        command('BURROW.STORE', '1', 'test', 'b-key', 'b', bytes, '0'),
        command('BURROW.STORE', '2', 'test', 's-key', 's', 'héllo\r\n', '-1'),
        command('BURROW.STORE', '3', 'test', 'e-key', 'b', '', '1500'),
      ),
    ).toEqual([
      [1, 'k', null],
      [2, 'k', null],
      [3, 'k', null],
    ])
    expect(ns.calls).toEqual([
      ['store', 'b-key', bytes, 0],
      ['store', 's-key', 'héllo\r\n', -1],
      ['store', 'e-key', Buffer.alloc(0), 1500],
    ])
    expect(typeof ns.entries.get('s-key')!.value).toBe('string')
    expect(Buffer.isBuffer(ns.entries.get('b-key')!.value)).toBe(true)
  })

  it('purges with BURROW.PURGE, answering [id, +k, nil]', async () => {
    ns.entries.set('k', { value: 'v', ttlMs: -1 })
    expect(await ask(command('BURROW.PURGE', '5', 'test', 'k'))).toEqual([[5, 'k', null]])
    expect(ns.entries.has('k')).toBe(false)
  })

  it('answers a store or purge that throws with [id, +e, -CODE message]', async () => {
    expect(
      await ask(
        command('BURROW.STORE', '1', 'test', 'bad', 's', 'v', '-1'),
        command('BURROW.PURGE', '2', 'test', 'bad'),
        command('BURROW.STORE', '3', 'nope', 'k', 's', 'v', '-1'),
        command('BURROW.PURGE', '4', 'nope', 'k'),
      ),
    ).toEqual([
      [1, 'e', new RespError('BURROW_ERR_BAD_KEY bad key')],
      [2, 'e', new RespError('BURROW_ERR_BAD_KEY bad key')],
      [3, 'e', new RespError('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace')],
      [4, 'e', new RespError('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace')],
    ])
  })

  it('answers a bad kind or TTL with a tagged usage error, a bad arity or id with an untagged one', async () => {
    const replies = await ask(
      command('BURROW.STORE', '1', 'test', 'k', 'x', 'v', '-1'),
      command('BURROW.STORE', '2', 'test', 'k', 's', 'v', '-2'),
      command('BURROW.STORE', '3', 'test', 'k', 's', 'v', '1.5'),
      command('BURROW.STORE', '4', 'test', 'k', 's', 'v'),
      command('BURROW.PURGE', 'x', 'test', 'k'),
    )
    expect(replies.slice(0, 3)).toEqual([1, 2, 3].map((id) => [id, 'e', error(/^ERR usage: BURROW.STORE /)]))
    expect(replies.slice(3)).toEqual([error(/^ERR usage: BURROW.STORE /), error(/^ERR usage: BURROW.PURGE /)])
    expect(ns.calls).toEqual([])
  })
})

describe('BURROW.GET', () => {
  it('answers a bulk string, nil, or -CODE message, in request order', async () => {
    const slow = gate()
    ns.gates.set('slow', slow.promise)
    ns.entries.set('slow', { value: 'S', ttlMs: -1 })
    ns.entries.set('k', { value: new Uint8Array([1, 2]), ttlMs: -1 })
    const c = await open()
    c.write(
      Buffer.concat([
        command('BURROW.GET', 'test', 'slow'),
        command('BURROW.GET', 'test', 'k'),
        command('BURROW.GET', 'test', 'missing'),
        command('BURROW.GET', 'test', 'boom'),
        command('BURROW.GET', 'nope', 'k'),
        command('BURROW.GET', 'test'),
        command('PING'),
      ]),
    )
    setImmediate(() => slow.open())
    expect(await c.replies(7)).toEqual([
      Buffer.from('S'),
      Buffer.from([1, 2]),
      null,
      new RespError('BURROW_ERR_LOADER the loader failed'),
      new RespError('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace'),
      new RespError('ERR usage: BURROW.GET namespace key'),
      'PONG',
    ])
  })
})

describe('BURROW.SET and BURROW.DEL', () => {
  it('sets a UTF-8 string by default, exact bytes with BYTES, with a TTL from PX or EX (any case)', async () => {
    const bytes = Buffer.from([0xff, 0, 13, 10])
    const replies = await ask(
      command('BURROW.SET', 'test', 'a', 'héllo'),
      command('BURROW.SET', 'test', 'b', bytes, 'BYTES'),
      command('BURROW.SET', 'test', 'c', 'v', 'PX', '1500'),
      command('burrow.set', 'test', 'd', 'v', 'ex', '2', 'bytes'),
      command('BURROW.SET', 'test', 'e', 'v', 'Bytes', 'Px', '0'),
      command('BURROW.SET', 'test', 'f', 'v', 'EX', '0'),
    )
    expect(replies).toEqual(Array(6).fill('OK'))
    expect(ns.calls).toEqual([
      ['set', 'a', 'héllo', -1],
      ['set', 'b', bytes, -1],
      ['set', 'c', 'v', 1500],
      ['set', 'd', Buffer.from('v'), 2000],
      ['set', 'e', Buffer.from('v'), 0],
      ['set', 'f', 'v', 0],
    ])
  })

  it('refuses a bad TTL or option with a usage error and writes nothing', async () => {
    const replies = await ask(
      command('BURROW.SET', 'test', 'k', 'v', 'PX', '-1'),
      command('BURROW.SET', 'test', 'k', 'v', 'PX', '1.5'),
      command('BURROW.SET', 'test', 'k', 'v', 'EX', 'ten'),
      command('BURROW.SET', 'test', 'k', 'v', 'PX'),
      command('BURROW.SET', 'test', 'k', 'v', 'PX', '1', 'EX', '1'),
      command('BURROW.SET', 'test', 'k', 'v', 'BYTES', 'BYTES'),
      command('BURROW.SET', 'test', 'k', 'v', 'NX'),
      command('BURROW.SET', 'test', 'k'),
      command('BURROW.SET', 'test', 'k', 'v', 'EX', '9007199254741'),
    )
    expect(replies).toEqual([
      error(/^ERR PX must be a whole number of milliseconds/),
      error(/^ERR PX must be a whole number of milliseconds/),
      error(/^ERR EX must be a whole number of seconds/),
      error(/^ERR usage: BURROW.SET namespace key value \[PX milliseconds \| EX seconds\] \[BYTES\]$/),
      error(/^ERR usage: BURROW.SET/),
      error(/^ERR usage: BURROW.SET/),
      error(/^ERR usage: BURROW.SET/),
      error(/^ERR usage: BURROW.SET/),
      error(/^ERR EX must be a whole number of seconds/),
    ])
    expect(ns.calls).toEqual([])
  })

  it('deletes with BURROW.DEL; both name the peers they could not reach', async () => {
    ns.entries.set('k', { value: 'v', ttlMs: -1 })
    expect(await ask(command('BURROW.DEL', 'test', 'k'))).toEqual(['OK'])
    expect(ns.entries.has('k')).toBe(false)
    ns.unreachable = ['http://10.0.0.2:5001', 'http://10.0.0.3:5001']
    expect(await ask(command('BURROW.SET', 'test', 'k', 'v'), command('BURROW.DEL', 'test', 'k'))).toEqual([
      'OK unreachable http://10.0.0.2:5001 http://10.0.0.3:5001',
      'OK unreachable http://10.0.0.2:5001 http://10.0.0.3:5001',
    ])
  })

  it('answers a failed write with -CODE message, and a bad arity or namespace as GET does', async () => {
    expect(
      await ask(
        command('BURROW.SET', 'test', 'boom', 'v'),
        command('BURROW.DEL', 'test', 'bad'),
        command('BURROW.DEL', 'test'),
        command('BURROW.SET', 'nope', 'k', 'v'),
        command('BURROW.DEL', 'nope', 'k'),
      ),
    ).toEqual([
      new RespError('BURROW_ERR_LOADER the loader failed'),
      new RespError('BURROW_ERR_BAD_KEY bad key'),
      new RespError('ERR usage: BURROW.DEL namespace key'),
      new RespError('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace'),
      new RespError('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace'),
    ])
  })

  it('keeps untagged replies in request order behind a slow write', async () => {
    const slow = gate()
    ns.gates.set('slow', slow.promise)
    const c = await open()
    c.write(Buffer.concat([command('BURROW.SET', 'test', 'slow', 'v'), command('PING', 'after')]))
    setImmediate(() => slow.open())
    expect(await c.replies(2)).toEqual(['OK', Buffer.from('after')])
  })
})

describe('the admin commands', () => {
  it('answers BURROW.RING with its fields and values in turn', async () => {
    const c = await open()
    c.write(Buffer.concat([command('BURROW.RING'), Buffer.from('burrow.ring\r\n')]))
    const expected = [
      Buffer.from('hash'),
      Buffer.from('crc32'),
      Buffer.from('replicas'),
      50,
      Buffer.from('self'),
      Buffer.from('http://a:1'),
      Buffer.from('peers'),
      [Buffer.from('http://a:1'), Buffer.from('http://b:2')],
      Buffer.from('ring'),
      Buffer.from('groupcache'),
    ]
    expect(await c.replies(2)).toEqual([expected, expected])
  })

  it('answers BURROW.RING for a maglev ring with its table size instead of replicas', async () => {
    ringView = { ring: 'maglev', self: 'http://b:2', peers: ['http://b:2'], table: 65537, hash: 'custom' }
    expect(await ask(command('BURROW.RING'))).toEqual([
      [
        Buffer.from('hash'),
        Buffer.from('custom'),
        Buffer.from('table'),
        65537,
        Buffer.from('self'),
        Buffer.from('http://b:2'),
        Buffer.from('peers'),
        [Buffer.from('http://b:2')],
        Buffer.from('ring'),
        Buffer.from('maglev'),
      ],
    ])
  })

  it('answers PING, BURROW.STATS, COMMAND, CONFIG and unknown commands, names in any case, inline too', async () => {
    const c = await open()
    c.write(
      Buffer.concat([
        command('PING'),
        command('ping', 'hello'),
        Buffer.from('PiNg\r\n'),
        command('BURROW.STATS'),
        command('COMMAND', 'DOCS'),
        command('config', 'get', 'save'),
        command('NOSUCH', 'x'),
        Buffer.from('*1\r\n:1\r\n'),
      ]),
    )
    expect(await c.replies(8)).toEqual([
      'PONG',
      Buffer.from('hello'),
      'PONG',
      Buffer.from('{"requests":3}'),
      [],
      [Buffer.from('save'), Buffer.from('')],
      new RespError("ERR unknown command 'NOSUCH'"),
      new RespError('ERR a command is an array of bulk strings'),
    ])
  })

  it('QUIT answers +OK after the replies owed before it, and closes once every owed reply is written', async () => {
    const slow = gate()
    ns.gates.set('a', slow.promise)
    ns.gates.set('b', slow.promise)
    ns.entries.set('a', { value: 'A', ttlMs: -1 })
    ns.entries.set('b', { value: 'B', ttlMs: -1 })
    const c = await open()
    c.write(
      Buffer.concat([
        command('BURROW.GET', 'test', 'a'),
        command('BURROW.FETCH', '9', 'test', 'b'),
        command('QUIT'),
        command('PING'),
        command('BURROW.SET', 'test', 'k', 'v'),
      ]),
    )
    setImmediate(() => slow.open())
    const replies = await c.replies(3)
    await c.closed
    expect(replies.filter((r) => !Array.isArray(r))).toEqual([Buffer.from('A'), 'OK'])
    expect(replies).toContainEqual([9, 's', Buffer.from('B'), -1])
    expect(c.received()).toBe(0)
    expect(ns.calls.filter(([op]) => op === 'set')).toEqual([]) // nothing after QUIT was run
  })
})

describe('the bound on replies owed', () => {
  it('runs no more than 4,096 commands ahead of their replies, even within one read, and the rest in order after', async () => {
    const slow = gate()
    ns.gates.set('k', slow.promise)
    ns.entries.set('k', { value: 'v', ttlMs: -1 })
    const c = await open()
    const count = 4096 + 50
    c.write(
      Buffer.concat(
        Array.from({ length: count }, (_, i) => command('BURROW.FETCH', String(i + 1), 'test', 'k')),
      ),
    )
    while (ns.calls.length < 4096) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(ns.calls.length).toBe(4096)
    slow.open()
    const replies = await c.replies(count)
    expect(ns.calls.length).toBe(count)
    expect(new Set(replies.map((r) => (r as unknown[])[0])).size).toBe(count)
  })
})

describe('the port', () => {
  it('serves HTTP on the same port', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/anything`)
    expect(await res.text()).toBe('http here')
  })

  it('answers a frame over maxFrameBytes with an error and closes the connection', async () => {
    await start(4096)
    const c = await open()
    c.write(command('BURROW.STORE', '1', 'test', 'k', 'b', Buffer.alloc(5000), '-1'))
    expect(await c.replies(1)).toEqual([error(/^BURROW_ERR_FRAME_TOO_LARGE /)])
    await c.closed
    expect(ns.calls).toEqual([])
  })

  it('answers pipelined commands cut at any points the same as whole (property)', async () => {
    ns.entries.set('k', { value: 'v', ttlMs: 9 })
    const commands = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((m) => ({
        bytes: command('PING', m),
        reply: Buffer.from(m) as RespValue,
      })),
      fc.nat(1000).map((id) => ({
        bytes: command('BURROW.FETCH', String(id), 'test', 'k'),
        reply: [id, 's', Buffer.from('v'), 9],
      })),
      fc.uint8Array({ maxLength: 30 }).map((value) => ({
        bytes: command('BURROW.SET', 'test', 'x', value, 'BYTES'),
        reply: 'OK' as RespValue,
      })),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(commands, { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (list, cuts) => {
          const c = await open()
          const stream = Buffer.concat(list.map((x) => x.bytes))
          await writeInPieces(c, stream, cuts)
          // Untagged replies keep their order; tagged ones go out as soon as they are ready.
          const replies = await c.replies(list.length)
          const untagged = (r: RespValue) => !Array.isArray(r)
          expect(replies.filter(untagged)).toEqual(list.map((x) => x.reply).filter(untagged))
          expect(replies.filter(Array.isArray)).toEqual(list.map((x) => x.reply).filter(Array.isArray))
          c.socket.destroy()
        },
      ),
      { numRuns: 40 },
    )
  })

  it('random garbage never takes the server down: afterwards it still answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (garbage) => {
        const c = await open()
        c.write(Buffer.from(garbage))
        c.socket.end()
        await Promise.race([c.closed, new Promise((resolve) => setTimeout(resolve, 50))])
        c.socket.destroy()
      }),
      { numRuns: 60 },
    )
    ns.entries.set('k', { value: 'v', ttlMs: -1 })
    expect(await ask(command('PING'), command('BURROW.FETCH', '1', 'test', 'k'))).toEqual([
      'PONG',
      [1, 's', Buffer.from('v'), -1],
    ])
  })
})

describe('clients of the server', () => {
  it('ioredis sets, gets and deletes through BURROW.SET, BURROW.GET and BURROW.DEL', async () => {
    const redis = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
    })
    cleanups.push(() => redis.disconnect())
    await redis.connect()
    expect(await redis.call('BURROW.SET', 'test', 'ü 😀', 'value ü', 'PX', '60000')).toBe('OK')
    expect(await redis.call('BURROW.GET', 'test', 'ü 😀')).toBe('value ü')
    const bytes = Buffer.from([0, 255, 13, 10])
    expect(await redis.call('BURROW.SET', 'test', 'bin', bytes, 'BYTES')).toBe('OK')
    expect(await redis.callBuffer('BURROW.GET', 'test', 'bin')).toEqual(bytes)
    ns.unreachable = ['http://10.0.0.9:5001']
    expect(await redis.call('BURROW.DEL', 'test', 'ü 😀')).toBe('OK unreachable http://10.0.0.9:5001')
    expect(await redis.call('BURROW.GET', 'test', 'ü 😀')).toBeNull()
    await expect(redis.call('BURROW.SET', 'test', 'k', 'v', 'PX', '-5')).rejects.toThrow(
      /PX must be a whole number/,
    )
    await expect(redis.call('BURROW.GET', 'nope', 'k')).rejects.toThrow(/BURROW_ERR_UNKNOWN_NAMESPACE/)
    expect(await redis.ping()).toBe('PONG')
    expect(ns.calls[0]).toEqual(['set', 'ü 😀', 'value ü', 60000])
  })

  it('the peer client fetches, stores and purges through the server, bytes and TTLs intact', async () => {
    const client = new PeerClient({
      timeoutMs: 2000,
      connections: 2,
      maxFrameBytes: 1 << 20,
      signal: new AbortController().signal,
    })
    cleanups.push(() => client.close())
    const peer = `http://127.0.0.1:${port}`
    const bytes = new Uint8Array([0xff, 0, 13, 10, 0xc3])
    await client.store(peer, 'test', 'b', bytes, 2500)
    await client.store(peer, 'test', 's', 'text ü', -1)
    expect(await client.fetch(peer, 'test', 'b')).toEqual({ value: Buffer.from(bytes), ttlMs: 2500 })
    expect(await client.fetch(peer, 'test', 's')).toEqual({ value: 'text ü', ttlMs: -1 })
    await client.purge(peer, 'test', 's')
    expect(await client.fetch(peer, 'test', 's')).toEqual({ value: undefined, ttlMs: 0 })
    await expect(client.fetch(peer, 'nope', 'k')).rejects.toMatchObject({
      code: 'BURROW_ERR_UNKNOWN_NAMESPACE',
    })
    await expect(client.store(peer, 'test', 'bad', 'v', -1)).rejects.toMatchObject({
      code: 'BURROW_ERR_BAD_KEY',
    })
    await expect(client.fetch(peer, 'test', 'boom')).rejects.toMatchObject({ code: 'BURROW_ERR_LOADER' })
  })

  it('the peer client peeks (a miss is undefined) and says it leaves', async () => {
    const signal = new AbortController().signal
    const client = new PeerClient({ timeoutMs: 2000, connections: 1, maxFrameBytes: 1 << 20, signal })
    cleanups.push(() => client.close())
    const peer = `http://127.0.0.1:${port}`
    ns.entries.set('k', { value: 'v', ttlMs: 900 })
    expect(await client.peek(peer, 'test', 'k', signal, 1000)).toEqual({ value: 'v', ttlMs: 900 })
    expect(await client.peek(peer, 'test', 'cold', signal, 1000)).toBeUndefined()
    await client.leave(peer, 'http://c:3', 1000)
    expect(membership.left).toEqual(['http://c:3'])
    await expect(client.peek(peer, 'nope', 'k', AbortSignal.abort(new Error('gone')), 1000)).rejects.toThrow(
      'gone',
    )
  })
})

describe('request ids', () => {
  it('are 1 to 15 decimal digits, nothing else', () => {
    expect(['0', '7', '007', '999999999999999'].map(parseId)).toEqual([0, 7, 7, 999_999_999_999_999])
    for (const bad of [
      '',
      ' 7',
      '7 ',
      '+7',
      '-1',
      '0x7',
      '1e3',
      '7.0',
      '1234567890123456',
      '\u0663',
      '/',
      ':',
    ])
      expect(parseId(bad)).toBeUndefined()
    fc.assert(fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), (n) => parseId(String(n)) === n))
  })
})
