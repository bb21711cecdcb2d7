/**
 * A TCP relay on loopback that records the RESP going through it: the commands a client sends
 * and the replies it gets. Tests put it between a real Redis client and a node to see the
 * client's handshake (which commands, whether it sent AUTH, whether any reply was an error).
 */
import type { Buffer } from 'node:buffer'
import { connect, createServer, type Socket } from 'node:net'
import { RespError, RespParser, type RespValue } from '../../src/transport/resp/reader.ts'

export interface RecordingProxy {
  /** The port clients connect to, on 127.0.0.1. */
  port: number
  /** Every command seen so far, each as its arguments (name upper-cased), in order, all connections together. */
  commands: string[][]
  /** Every error reply seen so far, as its text. */
  errors: string[]
  /** Closes the relay and every connection through it. */
  close(): Promise<void>
}

/** Starts a relay to `target` (a node's `host:port`, as a peer id or URL). */
export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const commands: string[][] = []
  const errors: string[] = []
  const server = createServer((client) => {
    const upstream = connect({ host: hostname, port: Number(port) })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    // Inline commands too: redis-benchmark sends some (PING_INLINE).
    const requests = new RespParser({ inline: true })
    const replies = new RespParser()
    client.on('data', (chunk: Buffer) => {
      const failure = parse(requests, chunk, (value) => commands.push(asCommand(value)))
      if (failure !== undefined) commands.push(['(unparsable)', failure])
    })
    upstream.on('data', (chunk: Buffer) => {
      const failure = parse(replies, chunk, (value) => {
        if (value instanceof RespError) errors.push(value.message)
      })
      if (failure !== undefined) errors.push(`(unparsable) ${failure}`)
    })
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port')
  return {
    port: address.port,
    commands,
    errors,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Parses `chunk`; the parser's complaint when it cannot (it stays poisoned after). */
function parse(parser: RespParser, chunk: Buffer, onValue: (value: RespValue) => void): string | undefined {
  try {
    parser.feed(chunk, onValue)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

function asCommand(value: RespValue): string[] {
  if (!Array.isArray(value)) return [String(value)]
  return value.map((arg, i) => (i === 0 ? String(arg).toUpperCase() : String(arg)))
}
