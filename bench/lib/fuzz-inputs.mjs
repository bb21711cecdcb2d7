/**
 * The fuzzer's inputs: seeds (RESP commands of every kind, inline commands, HTTP requests), their
 * mutations, plain random bytes, and the points where a stream is cut. See bench/lib/fuzz.mjs.
 *
 * @module
 */
import { Buffer } from 'node:buffer'

/** A command as RESP: an array of bulk strings. */
export function resp(...args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const bytes = Buffer.from(arg)
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

/**
 * The seeds, each made for a token `t` that the node may echo back (in a PING, a loaded value, an
 * HTTP body): a connection must only ever see its own tokens.
 */
const SEEDS = [
  () => resp('PING'),
  (t) => resp('PING', `tok${t}`),
  (t) => Buffer.from(`PING tok${t}\r\n`),
  (t) => Buffer.from(`ping\t tok${t}  \r\n\r\n`),
  (t) => resp('BURROW.GET', 'test', `key${t}`),
  (t) => Buffer.from(`BURROW.GET test key${t}\r\n`),
  (t) => resp('BURROW.SET', 'test', `set${t}`, `val${t}`, 'PX', '60000'),
  (t) => resp('BURROW.SET', 'test', `set${t}`, Buffer.from([0xff, 0, 13, 10]), 'BYTES', 'EX', '5'),
  (t) => resp('BURROW.DEL', 'test', `set${t}`),
  (t) => resp('BURROW.FETCH', '1', 'test', `key${t}`),
  (t) => resp('BURROW.PEEK', '2', 'test', `key${t}`),
  (t) => resp('BURROW.STORE', '3', 'test', `sto${t}`, 's', `val${t}`, '-1'),
  (t) => resp('BURROW.STORE', '4', 'test', `sto${t}`, 'b', Buffer.alloc(300, 7), '1000'),
  (t) => resp('BURROW.PURGE', '5', 'test', `sto${t}`),
  () => resp('BURROW.PING', '6'),
  () => resp('BURROW.FLUSH', '7', 'test'),
  () => resp('BURROW.LEAVE', '8', 'http://127.0.0.1:1'),
  () => resp('BURROW.RING'),
  () => resp('BURROW.STATS'),
  () => resp('BURROW.GET', 'test', Buffer.from([0x6b, 0xff, 0xfe])),
  (t) => resp('BURROW.GET', 'test', `ключ ${t} 😀`),
  () => resp('BURROW.GET', 'nope', 'k'),
  () => resp('COMMAND', 'DOCS'),
  () => resp('CONFIG', 'GET', 'save'),
  (t) => resp('NOSUCH', `tok${t}`),
  () => resp('QUIT'),
  () => Buffer.from('*0\r\n*-1\r\n:12\r\n+OK\r\n-ERR x\r\n$-1\r\n$3\r\nabc\r\n*2\r\n*1\r\n$1\r\na\r\n:1\r\n'),
  (t) => Buffer.from(`GET /burrow/test/key${t} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
  (t) =>
    Buffer.from(
      `HEAD /burrow/test/key${t} HTTP/1.1\r\nHost: x\r\n\r\nGET /burrow/test/%FF HTTP/1.1\r\nHost: x\r\n\r\n`,
    ),
  () => Buffer.from('GET /nope HTTP/1.0\r\n\r\n'),
  (t) => Buffer.from(`POST /burrow/test/key${t} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`),
  (t) => Buffer.from(`GET /burrow/test/key${t} HTTP/1.1\nHost: x\n\n`),
  (t) => Buffer.from(`GET /_groupcache/test/key${t}+a%2Fb%C3%BC HTTP/1.1\r\nHost: x\r\n\r\n`),
  () =>
    Buffer.from(
      'GET /_groupcache/ HTTP/1.1\r\nHost: x\r\n\r\nGET /_groupcache/nope/k HTTP/1.1\r\nHost: x\r\n\r\n',
    ),
]

/** Bytes that mean something to RESP, HTTP or UTF-8. */
const INTERESTING_BYTES = [
  0x0d, 0x0a, 0x2a, 0x24, 0x3a, 0x2b, 0x2d, 0x20, 0x09, 0x30, 0x31, 0x39, 0x00, 0x25, 0x2f, 0x80, 0xc3, 0xed,
  0xef, 0xfe, 0xff,
]

/** Pieces worth inserting: line ends, headers, limits and the numbers just past them, bad UTF-8. */
const INTERESTING_PIECES = [
  '\r\n',
  '\r',
  '\n',
  '*',
  '$',
  ':',
  '-1',
  '-2',
  '0',
  '000000000000000000000005',
  '99999999999999999999',
  '9007199254740993',
  '$33554432\r\n',
  '$33554433\r\n',
  '*1048577\r\n',
  '*9\r\n',
  '*1\r\n',
  '*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n',
  '$0\r\n\r\n',
  '$-1\r\n',
  '*-1\r\n',
  ' ',
  '\t',
  ' HTTP/1.1\r\n',
  'GET / HTTP/1.1\r\n',
  'Content-Length: 99999\r\n',
  'Transfer-Encoding: chunked\r\n\r\nzz\r\n',
  '%FF',
  '%C3%28',
]
  .map((piece) => Buffer.from(piece))
  .concat(
    [
      [0xff, 0xfe],
      [0xed, 0xa0, 0x80],
      [0xef, 0xbf, 0xbd],
      [0xc0, 0xaf],
      [0xe2, 0x82],
    ].map((b) => Buffer.from(b)),
  )

/** A whole number in [0, n). */
function below(random, n) {
  return Math.floor(random() * n)
}

/** One element of `list`, at random. */
export function pick(random, list) {
  return list[below(random, list.length)]
}

function randomBytes(random, length) {
  const bytes = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) bytes[i] = below(random, 256)
  return bytes
}

/** `bytes` with `piece` in place of `bytes[at, at + remove)`. */
function splice(bytes, at, remove, piece) {
  return Buffer.concat([bytes.subarray(0, at), piece, bytes.subarray(at + remove)])
}

/** One to eight mutations of `bytes`. */
export function mutate(bytes, random, token) {
  let out = bytes
  for (let n = 1 + below(random, 8); n > 0; n--) {
    const at = below(random, out.length + 1)
    const op = below(random, 100)
    if (op < 14 && out.length > 0) {
      const i = Math.min(at, out.length - 1)
      out = splice(out, i, 1, Buffer.from([out[i] ^ (1 << below(random, 8))]))
    } else if (op < 28 && out.length > 0) {
      const i = Math.min(at, out.length - 1)
      out = splice(
        out,
        i,
        1,
        Buffer.from([random() < 0.5 ? below(random, 256) : pick(random, INTERESTING_BYTES)]),
      )
    } else if (op < 46) {
      out = splice(out, at, 0, pick(random, INTERESTING_PIECES))
    } else if (op < 56) {
      out = splice(out, at, 1 + below(random, 16), Buffer.alloc(0))
    } else if (op < 64) {
      const from = below(random, out.length + 1)
      out = splice(out, at, 0, out.subarray(from, from + 1 + below(random, 64)))
    } else if (op < 70) {
      out = out.subarray(0, at)
    } else if (op < 82) {
      // A number (a length, a count, an id) replaced by another.
      const text = out.toString('latin1')
      const numbers = [...text.matchAll(/-?\d+/g)]
      if (numbers.length > 0) {
        const found = pick(random, numbers)
        const value = pick(random, [
          0,
          1,
          -1,
          -2,
          found[0].length,
          Number(found[0]) + 1,
          Number(found[0]) - 1,
          2 ** 31,
          2 ** 53,
          65536,
          8193,
        ])
        out = splice(out, found.index, found[0].length, Buffer.from(String(value)))
      }
    } else if (op < 90) {
      out = splice(out, at, 0, pick(random, SEEDS)(token))
    } else if (op < 97) {
      out = splice(out, at, 0, randomBytes(random, 1 + below(random, 12)))
    } else {
      // A long run: past the 8 KiB sniff limit, the 64 KiB line limit, or a small maxFrameBytes.
      const length = pick(random, [300, 4097, 8193, 65537, 70_000])
      out = splice(out, at, 0, Buffer.alloc(length, pick(random, [0x78, 0x30, 0x20, 0x2a])))
    }
  }
  return out
}

/**
 * One fuzz input: random bytes (15%), seeds as they are (15%), or mutated seeds (70%). `valid`
 * says the stream is seeds alone, which the reader must read without any error.
 */
export function fuzzStream(random, token) {
  const r = random()
  if (r < 0.15) return { bytes: randomBytes(random, below(random, 400)), valid: false }
  const parts = []
  for (let n = 1 + below(random, 4); n > 0; n--) parts.push(pick(random, SEEDS)(token))
  const bytes = Buffer.concat(parts)
  if (r < 0.3) return { bytes, valid: true }
  return { bytes: mutate(bytes, random, token), valid: false }
}

/** `bytes` cut into pieces at up to 12 random points, or (sometimes, when short) byte by byte. */
export function cutStream(bytes, random) {
  if (bytes.length < 3000 && random() < 0.05) return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
  const points = new Set()
  for (let n = below(random, 13); n > 0; n--) points.add(below(random, bytes.length + 1))
  const sorted = [...points].sort((a, b) => a - b)
  const pieces = []
  let from = 0
  for (const point of [...sorted, bytes.length]) {
    if (point > from) pieces.push(bytes.subarray(from, point))
    from = point
  }
  return pieces
}
