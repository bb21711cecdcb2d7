/**
 * A connection writes over its writer's slab again once a `write` handed every byte to the kernel
 * (`RespWriter.reuse`). These tests make writes wait in the stream — a client or an owner that
 * stops reading until its socket buffers fill — and check that no byte of a reply or request that
 * waited was written over.
 */
import { Buffer } from 'node:buffer'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PeerClient } from '../src/transport/client/peer-client.ts'
import { type CommandArgs, CommandReader } from '../src/transport/resp/command-reader.ts'
import { closeAll, node, onCleanup, sleep } from './helpers.ts'
import { command } from './support/resp-talk.ts'

afterEach(closeAll)

/** A 1 KB value of its own for each key: a reply written over by another shows. */
function valueFor(key: string): string {
  return `${key}|`.repeat(Math.ceil(1024 / (key.length + 1))).slice(0, 1024)
}

describe('reply slabs', () => {
  it('a client that stops reading gets every reply byte-exact once it reads again', async () => {
    const n = node({ self: 'http://127.0.0.1:0', liveness: false })
    n.namespace('test', { load: (key) => valueFor(key), hot: false })
    await n.listen()
    const port = Number(new URL(n.self).port)
    // 12 MB of replies: more than the kernel's socket buffers hold, so later writes wait in the stream.
    const keys = Array.from({ length: 12_000 }, (_, i) => `key-${i}`)
    const expected = Buffer.concat(keys.map((k) => Buffer.from(`$1024\r\n${valueFor(k)}\r\n`)))
    const socket: Socket = connect(port, '127.0.0.1')
    onCleanup(() => socket.destroy())
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    socket.pause()
    const received: Buffer[] = []
    let bytes = 0
    const done = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk)
        bytes += chunk.length
        if (bytes >= expected.length) resolve()
      })
    })
    // Eight at a time, each round read on its own: the node's writes are small (under the
    // stream's high-water mark, so it goes on reading) and, once the buffers are full, wait in
    // the stream while the next rounds are answered.
    for (let i = 0; i < keys.length; i += 8) {
      socket.write(Buffer.concat(keys.slice(i, i + 8).map((k) => command('BURROW.GET', 'test', k))))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await sleep(200)
    expect(bytes).toBe(0) // nothing read yet: the replies wait in the kernel or in the node
    socket.resume()
    await done
    const all = Buffer.concat(received)
    expect(all.length).toBe(expected.length)
    // Compared per reply, so a failure names the first one written over.
    let at = 0
    for (const key of keys) {
      const want = `$1024\r\n${valueFor(key)}\r\n`
      expect(all.toString('latin1', at, at + want.length), key).toBe(want)
      at += want.length
    }
  })

  it('requests written while the owner does not read arrive byte-exact', async () => {
    let paused = true
    const waiting: Socket[] = []
    const sockets = new Set<Socket>()
    const server: Server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      const reader = new CommandReader<{ binaryFrom: number }>({
        maxFrameBytes: 1 << 24,
        lookup: () => ({ binaryFrom: Number.POSITIVE_INFINITY }),
        onCommand: (_, args: CommandArgs) => {
          const [, id, , key] = args as string[]
          socket.write(`*4\r\n:${id}\r\n+s\r\n$${Buffer.byteLength(key!)}\r\n${key}\r\n:-1\r\n`)
        },
        onInvalid: () => socket.destroy(),
      })
      socket.on('data', (chunk: Buffer) => reader.feed(chunk))
      if (paused) {
        socket.pause()
        waiting.push(socket)
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onCleanup(() => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    })
    const peer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    const client = new PeerClient({
      timeoutMs: 10_000,
      connections: 1,
      maxFrameBytes: 1 << 24,
      signal: new AbortController().signal,
    })
    onCleanup(() => client.close())
    // Keys of 1 KB and more, each its own, eight a tick: 8 MB in small writes, more than the
    // kernel's socket buffers hold, so later writes wait in the stream.
    const keys = Array.from({ length: 8000 }, (_, i) => `${i}:${'k'.repeat(1000 + (i % 50))}`)
    const answers: Promise<unknown>[] = []
    for (let i = 0; i < keys.length; i += 8) {
      for (const key of keys.slice(i, i + 8)) answers.push(client.fetch(peer, 'ns', key))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await sleep(100)
    paused = false
    for (const socket of waiting) socket.resume()
    const values = (await Promise.all(answers)).map((a) => (a as { value: string }).value)
    expect(values).toEqual(keys)
  })
})
