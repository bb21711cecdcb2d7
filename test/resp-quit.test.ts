import { Buffer } from 'node:buffer'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node } from './helpers.ts'
import { command } from './support/resp-talk.ts'

const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await closeAll()
})

/**
 * A client that never closes its side: `allowHalfOpen` keeps Node from answering the server's
 * FIN with its own, as a careless or hostile client would.
 */
async function stubbornClient(base: string): Promise<{
  socket: Socket
  received: () => string
  ended: Promise<void>
  closed: Promise<void>
}> {
  const { hostname, port } = new URL(base)
  const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true })
  sockets.push(socket)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let text = ''
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
  })
  socket.on('error', () => {})
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, received: () => text, ended, closed }
}

/**
 * Resolves once the server has let go of the connection: after its FIN, a byte written to a
 * socket the server closed is answered with a reset, which closes ours. Bytes keep going (one
 * per 20 ms, at most 500) because the first may arrive before the server let go.
 */
async function untilServerLetGo(client: { socket: Socket; closed: Promise<void> }): Promise<boolean> {
  let open = true
  void client.closed.then(() => {
    open = false
  })
  for (let i = 0; i < 500 && open; i++) {
    client.socket.write('PING\r\n')
    await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, 20))])
  }
  return !open
}

describe('QUIT', () => {
  it('ends the connection although the client sends more in a later packet and never closes', async () => {
    const n = node()
    await n.listen()
    const client = await stubbornClient(n.self)
    client.socket.write(command('QUIT'))
    await client.ended
    expect(client.received()).toBe('+OK\r\n')
    expect(await untilServerLetGo(client)).toBe(true)
    // Nothing after QUIT was answered.
    expect(client.received()).toBe('+OK\r\n')
  })

  it('ends the connection when more commands follow QUIT in the same packet', async () => {
    const n = node()
    await n.listen()
    const client = await stubbornClient(n.self)
    client.socket.write(Buffer.concat([command('PING'), command('QUIT'), command('PING')]))
    await client.ended
    expect(client.received()).toBe('+PONG\r\n+OK\r\n')
    expect(await untilServerLetGo(client)).toBe(true)
  })

  it('a node still serves new clients after many clients quit and never closed', async () => {
    const n = node()
    await n.listen()
    const clients = await Promise.all(Array.from({ length: 50 }, () => stubbornClient(n.self)))
    for (const client of clients) client.socket.write(`QUIT\r\n`)
    await Promise.all(clients.map((client) => client.ended))
    const letGo = await Promise.all(clients.map((client) => untilServerLetGo(client)))
    expect(letGo.every(Boolean)).toBe(true)
    const fresh = await stubbornClient(n.self)
    fresh.socket.write('PING\r\n')
    await new Promise<void>((resolve) => fresh.socket.once('data', () => resolve()))
    expect(fresh.received()).toBe('+PONG\r\n')
  })
})
