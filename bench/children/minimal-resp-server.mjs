/**
 * Child process holding the least a Node RESP server can be, for the `server-get` scenarios'
 * reference rows: plain `node:net`, each `'data'` chunk scanned for whole commands (arrays of bulk
 * strings, as redis-benchmark sends), every command answered with the same 1 KB bulk string from
 * one Buffer, the replies of a chunk in one `write`. No lookup, no decoding of names or keys, no
 * per-command object. What redis-benchmark measures against it is what Node's sockets and event
 * loop cost per request on this machine: a ceiling for any server written in Node.
 *
 * Commands: start ({ valueBytes }) → the port it listens on (loopback, a free port).
 *
 * @module
 */
import { createServer } from 'node:net'
import { serve } from '../lib/child.mjs'
import { HOST } from '../lib/net.mjs'

const STAR = 42
const DOLLAR = 36
const CR = 13

/** Bytes `buf[at..]` as a decimal number up to CR; -1 when the line is not whole. */
function decimalAt(buf, at) {
  let n = 0
  for (let i = at; i < buf.length; i++) {
    const c = buf[i]
    if (c === CR) return i + 1 < buf.length ? n : -1
    n = n * 10 + (c - 48)
  }
  return -1
}

/** Where the line starting at `at` ends (after its LF), or -1. */
function afterLine(buf, at) {
  const cr = buf.indexOf(CR, at)
  return cr === -1 || cr + 1 >= buf.length ? -1 : cr + 2
}

/** Counts the whole commands at the start of `buf`; returns [count, where the rest starts]. */
function wholeCommands(buf) {
  let count = 0
  let pos = 0
  while (pos < buf.length) {
    if (buf[pos] !== STAR) throw new Error('not a RESP array')
    const args = decimalAt(buf, pos + 1)
    let p = afterLine(buf, pos)
    if (args < 0 || p < 0) break
    let whole = true
    for (let i = 0; i < args && whole; i++) {
      if (p >= buf.length || buf[p] !== DOLLAR) {
        whole = false
        break
      }
      const length = decimalAt(buf, p + 1)
      const start = afterLine(buf, p)
      if (length < 0 || start < 0 || start + length + 2 > buf.length) whole = false
      else p = start + length + 2
    }
    if (!whole) break
    count++
    pos = p
  }
  return [count, pos]
}

let server

serve({
  async start(p) {
    const reply = Buffer.from(`$${p.valueBytes}\r\n${'x'.repeat(p.valueBytes)}\r\n`, 'latin1')
    server = createServer((socket) => {
      socket.setNoDelay(true)
      let rest = Buffer.alloc(0)
      socket.on('data', (chunk) => {
        const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk])
        let count
        let pos
        try {
          ;[count, pos] = wholeCommands(buf)
        } catch {
          socket.destroy()
          return
        }
        rest = pos === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos))
        if (count === 1) socket.write(reply)
        else if (count > 1) {
          const out = Buffer.allocUnsafe(reply.length * count)
          for (let i = 0; i < count; i++) reply.copy(out, i * reply.length)
          socket.write(out)
        }
      })
      socket.on('error', () => socket.destroy())
    })
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, HOST, resolve)
    })
    return server.address().port
  },
})
