/**
 * Child process holding the least a Node RESP server can be, for the `server-get` scenarios'
 * reference rows: plain `node:net`, each `'data'` chunk scanned for whole commands (arrays of bulk
 * strings, as redis-benchmark sends), every command answered with the same 1 KB bulk string from
 * one Buffer, the replies of a chunk in one `write`. No lookup, no decoding of names or keys, no
 * per-command object. What redis-benchmark measures against it is what Node's sockets and event
 * loop cost per request on this machine: a ceiling for any server written in Node.
 *
 * With `strings: true` it serves the bench's values instead: 10,000 distinct 1 KB strings (the
 * values the scenario stores, flat one-byte strings as a cache keeps them), the one of each command
 * found by the number in its last argument (`k` and 12 digits, redis-benchmark's `k__rand_int__`),
 * written into a reused buffer with `utf8Write` as a Node server must write a string; a command
 * without such a key gets the constant reply. Still no decoding of names, no lookup by key text,
 * no bookkeeping: what serving distinct string values, out of the CPU's caches, adds to Node's
 * floor.
 *
 * `distinct` (default: `keys`) makes that many distinct values, key number `n` getting value
 * `n % distinct`: with a few, every value stays in the CPU's caches (`bench/minimal-values.mjs`).
 *
 * Commands: start ({ valueBytes, strings?, keys?, distinct? }) → the port it listens on (loopback, a free port).
 *
 * @module
 */
import { createServer } from 'node:net'
import { serve } from '../lib/child.mjs'
import { stringValue } from '../lib/data.mjs'
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

/**
 * Counts the whole commands at the start of `buf`; returns [count, where the rest starts]. When
 * `lasts` is given, each command's last argument's start and length are pushed onto it.
 */
function wholeCommands(buf, lasts) {
  let count = 0
  let pos = 0
  let lastStart = 0
  let lastLength = 0
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
      else {
        p = start + length + 2
        lastStart = start
        lastLength = length
      }
    }
    if (!whole) break
    lasts?.push(lastStart, lastLength)
    count++
    pos = p
  }
  return [count, pos]
}

/** `k` and 12 digits, redis-benchmark's key for `-r`: its number, or -1 for anything else. */
function keyNumber(buf, start, length) {
  if (length !== 13 || buf[start] !== 107) return -1
  let n = 0
  for (let i = start + 1; i < start + 13; i++) {
    const digit = buf[i] - 48
    if (digit < 0 || digit > 9) return -1
    n = n * 10 + digit
  }
  return n
}

let server
/** Where replies of distinct values are written; replaced when a write leaves it in the stream. */
let scratch = Buffer.allocUnsafe(64 * 1024)

/** Writes the replies of `count` commands whose last arguments are in `lasts`, one value each. */
function writeValues(socket, buf, lasts, values, keys, reply) {
  const count = lasts.length / 2
  const need = count * (reply.length * 3 + 16)
  if (scratch.length < need) scratch = Buffer.allocUnsafe(need)
  let at = 0
  for (let i = 0; i < lasts.length; i += 2) {
    const n = keyNumber(buf, lasts[i], lasts[i + 1])
    if (n < 0 || n >= keys) {
      at += reply.copy(scratch, at)
      continue
    }
    const value = values[n % values.length]
    at += scratch.latin1Write(`$${Buffer.byteLength(value)}\r\n`, at)
    at += scratch.utf8Write(value, at)
    scratch[at++] = 13
    scratch[at++] = 10
  }
  socket.write(scratch.subarray(0, at))
  // A write that left bytes in the stream still reads them from this buffer.
  if (socket.writableLength !== 0) scratch = Buffer.allocUnsafe(scratch.length)
}

serve({
  async start(p) {
    const reply = Buffer.from(`$${p.valueBytes}\r\n${'x'.repeat(p.valueBytes)}\r\n`, 'latin1')
    // Flat strings of their own, as the cache keeps a value (a slice would be read through its parent).
    const values = p.strings
      ? Array.from({ length: p.distinct ?? p.keys }, (_, i) =>
          Buffer.from(stringValue(`k${String(i).padStart(12, '0')}`, p.valueBytes)).toString('latin1'),
        )
      : undefined
    const lasts = []
    server = createServer((socket) => {
      socket.setNoDelay(true)
      let rest = Buffer.alloc(0)
      socket.on('data', (chunk) => {
        const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk])
        let count
        let pos
        lasts.length = 0
        try {
          ;[count, pos] = wholeCommands(buf, values === undefined ? undefined : lasts)
        } catch {
          socket.destroy()
          return
        }
        rest = pos === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos))
        if (values !== undefined) {
          if (count > 0) writeValues(socket, buf, lasts, values, p.keys, reply)
        } else if (count === 1) socket.write(reply)
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
