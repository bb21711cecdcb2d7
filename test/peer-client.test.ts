import { createServer, type Server, type Socket } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PeerClient } from '../src/transport/client.ts'
import { RespParser } from '../src/transport/resp.ts'

/** A fake owner that parses every command with the general RESP parser and answers it with its key. */
let server: Server
let peer = ''
let received: string[][] = []
const sockets = new Set<Socket>()

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket)
    const parser = new RespParser({ strings: true })
    socket.on('data', (chunk: Buffer) => {
      let out = ''
      parser.feed(chunk, (command) => {
        const args = command as string[]
        received.push(args)
        out += `*3\r\n:${args[1]}\r\n+s\r\n$${Buffer.byteLength(args[3]!)}\r\n${args[3]}\r\n`
      })
      socket.write(out)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})

afterAll(() => {
  for (const s of sockets) s.destroy()
  server.close()
})

describe('the peer client', () => {
  it('encodes every request exactly, whatever the batch size and key lengths (property)', async () => {
    const signal = new AbortController().signal
    const client = new PeerClient({ timeoutMs: 2000, connections: 2, maxFrameBytes: 1 << 20, signal })
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
              fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
            ),
            { minLength: 1, maxLength: 1500 },
          ),
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }),
          async (keys, namespace) => {
            received = []
            const values = await Promise.all(keys.map((key) => client.get(peer, namespace, key)))
            expect(values).toEqual(keys)
            expect(received.map((c) => [c[0], c[2], c[3]])).toEqual(
              expect.arrayContaining(keys.map((k) => ['BURROW.FETCH', namespace, k])),
            )
            expect(received).toHaveLength(keys.length)
          },
        ),
        { numRuns: 60 },
      )
      expect(client.stats()).toMatchObject({ timeouts: 0, failures: 0 })
    } finally {
      client.close()
    }
  })
})

describe('the peer client in steady state', () => {
  it('rounds of thousands of short keys, with ids of every width, are all encoded exactly', async () => {
    const signal = new AbortController().signal
    const client = new PeerClient({ timeoutMs: 5000, connections: 2, maxFrameBytes: 1 << 20, signal })
    try {
      for (let round = 0; round < 6; round++) {
        const keys = Array.from({ length: 3000 }, (_, i) => `key-${i + round}-ü`)
        received = []
        expect(await Promise.all(keys.map((key) => client.get(peer, 'test', key)))).toEqual(keys)
        expect(received).toHaveLength(keys.length)
      }
      expect(client.stats()).toMatchObject({ timeouts: 0, failures: 0 })
    } finally {
      client.close()
    }
  })
})
