/**
 * One RESP connection against a stub node: what it writes when a reply cannot be written.
 */
import { Buffer } from 'node:buffer'
import { connect, createServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { StoredValue } from '../src/codec.ts'
import type { ServedNamespace } from '../src/transport/served.ts'
import { type ConnectionHost, RespConnection } from '../src/transport/server/connection.ts'
import { closeAll, onCleanup } from './helpers.ts'
import { command } from './support/resp-talk.ts'

afterEach(closeAll)

/** A node whose namespace `t` answers `read` from `values`. */
function stubHost(values: Record<string, unknown>): ConnectionHost {
  const unused = (): never => {
    throw new Error('not used by this test')
  }
  const ns = {
    name: 't',
    read: (key: string) => values[key] as StoredValue | undefined,
    fetch: unused,
    peek: unused,
    store: unused,
    purge: unused,
    flush: unused,
    set: unused,
    delete: unused,
  } satisfies ServedNamespace
  return {
    namespace: (name) => (name === 't' ? ns : undefined),
    maxFrameBytes: 1 << 20,
    stats: () => ({}),
    ring: unused,
    membership: { left: unused, leaving: () => false },
    secrets: undefined,
    requestTimeoutMs: 10_000,
    timedOut: () => {},
    maxReplyBufferBytes: 1 << 20,
    overflowed: () => {},
    busyPoll: undefined,
  }
}

/** A loopback server whose connections are RespConnections over `host`; a client connected to it. */
async function talk(host: ConnectionHost): Promise<Socket> {
  const server = createServer((socket) => {
    socket.on('error', () => {})
    new RespConnection(socket, host)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = connect((server.address() as { port: number }).port, '127.0.0.1')
  onCleanup(async () => {
    client.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject))
  return client
}

/** `BURROW.GET t key` for each key, in one write (so in one read, on loopback). */
function getAll(client: Socket, keys: string[]): void {
  client.write(Buffer.concat(keys.map((key) => command('BURROW.GET', 't', key))))
}

describe('a RESP connection', () => {
  it('a reply that cannot be written ends the connection with an error, each reply before it written once', async () => {
    // A value no writer can encode, as a bug in a namespace might return: the connection must not
    // write the replies before it twice, nor let the error escape its socket's handler.
    const client = await talk(stubHost({ a: 'first', bad: { not: 'a value' }, c: 'third' }))
    let received = ''
    client.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1')
    })
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    getAll(client, ['a', 'bad', 'c'])
    await closed
    expect(received).toMatch(/^\$5\r\nfirst\r\n-BURROW_ERR_PROTOCOL cannot encode .*\r\n$/)
  })

  it('answers the commands of one read in order: a string, bytes and a not-found', async () => {
    const client = await talk(stubHost({ a: 'first', b: Buffer.from('second'), c: undefined }))
    let received = ''
    const three = new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
        if (received.endsWith('$-1\r\n')) resolve()
      })
    })
    getAll(client, ['a', 'b', 'c'])
    await three
    expect(received).toBe('$5\r\nfirst\r\n$6\r\nsecond\r\n$-1\r\n')
  })
})
