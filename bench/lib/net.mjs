/**
 * Loopback helpers: free ports and waiting for a server to accept connections.
 *
 * @module
 */
import { connect, createServer } from 'node:net'

/** Every server and client of the bench lives here. */
export const HOST = '127.0.0.1'

/**
 * A free TCP port on the loopback address: listen on port 0, read the port, close.
 *
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
      server.close(() => resolve(port))
    })
  })
}

/**
 * Resolves once `port` answers a RESP `PING` with `+PONG`, polling until `timeoutMs`.
 *
 * @param {number} port
 * @param {number} timeoutMs
 * @returns {Promise<void>}
 */
export async function waitForPong(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  let lastError = 'no answer'
  while (Date.now() < deadline) {
    try {
      await pingOnce(port)
      return
    } catch (err) {
      lastError = /** @type {Error} */ (err).message
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  throw new Error(`nothing answered PING on ${HOST}:${port} within ${timeoutMs} ms (${lastError})`)
}

function pingOnce(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port })
    let reply = ''
    const fail = (err) => {
      socket.destroy()
      reject(err)
    }
    socket.setTimeout(1000, () => fail(new Error('timeout')))
    socket.once('error', fail)
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk
      if (!reply.includes('\r\n')) return
      socket.destroy()
      if (reply.startsWith('+PONG')) resolve()
      else reject(new Error(`unexpected reply ${JSON.stringify(reply.slice(0, 40))}`))
    })
  })
}

/**
 * Milliseconds from `started` until `test(node.peers)` holds: at once if it holds now, else at a
 * later `'peers'` event of the node; rejects after `capMs`.
 *
 * @param {import('../../dist/index.js').Burrow} node
 * @param {(peers: readonly string[]) => boolean} test
 * @param {number} capMs
 * @param {number} [started]
 * @returns {Promise<number>}
 */
export function untilPeers(node, test, capMs, started = performance.now()) {
  if (test(node.peers)) return Promise.resolve(performance.now() - started)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.off('peers', listener)
      reject(new Error(`the ring did not change as expected within ${capMs} ms`))
    }, capMs)
    const listener = (peers) => {
      if (!test(peers)) return
      clearTimeout(timer)
      node.off('peers', listener)
      resolve(performance.now() - started)
    }
    node.on('peers', listener)
  })
}
