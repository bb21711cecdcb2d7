/** A raw RESP conversation with a server, for tests that write bytes and read parsed replies. */
import { Buffer } from 'node:buffer'
import { connect, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import { RespParser, type RespValue } from '../../src/transport/resp/reader.ts'
import { onCleanup } from '../helpers.ts'

export interface Talk {
  socket: Socket
  write: (data: string | Buffer) => void
  /** The next `n` replies, waiting up to 5 s (or until the server closes) for them. */
  replies: (n: number) => Promise<RespValue[]>
  /** Replies received and not yet taken. */
  received: () => number
  closed: Promise<void>
}

/** Opens a connection to `base` (a peer id or `host:port` as a URL). Destroy `socket` when done. */
export async function talk(base: string): Promise<Talk> {
  const { hostname, port } = new URL(base)
  const socket = connect({ host: hostname, port: Number(port) })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const parser = new RespParser()
  const got: RespValue[] = []
  let wake: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => {
    parser.feed(chunk, (v) => got.push(v))
    wake?.()
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return {
    socket,
    write: (data) => socket.write(data),
    received: () => got.length,
    closed,
    replies: async (n) => {
      const deadline = Date.now() + 5000
      while (got.length < n && Date.now() < deadline) {
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, deadline - Date.now()))
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), closed, timeout])
        if (socket.destroyed) break
      }
      return got.splice(0, n)
    },
  }
}

/** A command as RESP: an array of bulk strings. */
export function command(...args: (string | Uint8Array)[]): Buffer {
  const parts = args.flatMap((arg) => {
    const bytes = Buffer.from(arg)
    return [Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]
  })
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...parts])
}

/** Writes `stream` cut at `cuts` (taken modulo its length), one piece per turn of the event loop. */
export async function writeInPieces(c: Talk, stream: Buffer, cuts: number[]): Promise<void> {
  const points = [...new Set(cuts.map((x) => x % stream.length))].sort((a, b) => a - b)
  let from = 0
  for (const p of [...points, stream.length]) {
    if (p > from) c.write(stream.subarray(from, p))
    from = p
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** A {@link talk} whose socket is destroyed at the next `closeAll()`. */
export async function openTalk(base: string): Promise<Talk> {
  const c = await talk(base)
  onCleanup(() => c.socket.destroy())
  return c
}

/** An ioredis client of `base` (no retries, no ready check), disconnected at the next `closeAll()`. */
export function redisTo(base: string): Redis {
  const { hostname, port } = new URL(base)
  const redis = new Redis({
    host: hostname,
    port: Number(port),
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
  })
  onCleanup(() => redis.disconnect())
  return redis
}
