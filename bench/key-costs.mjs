#!/usr/bin/env node
/**
 * What finding a key costs, the figures behind the store's `KeyTable` and the ring's crc32:
 *
 * - `hash`: ns per `hashKey` (the store's seeded hash, in JS) and per `Map.get` of the same flat
 *   strings (V8's own hash, cached in the string), at 8, 16, 32 and 100 characters;
 * - `crc32`: ns per crc32 of an ASCII key, the ring's JS loop against `zlib.crc32`, at 7, 16, 32
 *   and 64 characters (both checked equal first);
 * - `probes`: how far from its home the farthest entry lands, inserting random hashes into a
 *   `KeyTable`-shaped table 2/3 and 3/4 full, at 10^4 to 4·10^6 entries (the flood threshold's
 *   margin);
 * - `text`: ns per key made out of the bytes a command brought (Latin-1), Node's `latin1Slice` (a
 *   call into C++) against `latin1Text` (`String.fromCharCode` in JS up to 16 bytes), at 7, 13,
 *   16 and 32 bytes (both checked equal first);
 * - `reader`: ns per command for the server's `CommandReader` to read `BURROW.GET test KEY`
 *   (redis-benchmark's 13-character keys) out of chunks of 16 such commands, as `-P 16` sends
 *   them: name, namespace and key delivered as text, nothing run.
 *
 *   npm run build && node bench/key-costs.mjs [hash|crc32|probes|text|reader]   (default: all five)
 *
 * @module
 */
import zlib from 'node:zlib'
import { latin1Text } from '../dist/buffer-text.js'
import { crc32 } from '../dist/ring.js'
import { homeOf } from '../dist/store/key-table.js'
import { hashKey } from '../dist/store/sketch.js'
import { CommandReader } from '../dist/transport/resp/command-reader.js'
import { lookupCommand } from '../dist/transport/server/command-table.js'
import { seededRandom } from './lib/random.mjs'

const which = process.argv[2] ?? 'all'
if (!['hash', 'crc32', 'probes', 'text', 'reader', 'all'].includes(which))
  throw new Error(`unknown part ${which}: hash, crc32, probes, text or reader`)
const KEYS = 20_000
const ROUNDS = 50

/** `count` distinct flat ASCII keys of `chars` characters (sequential strings, as a socket read gives). */
function keysOf(chars, count = KEYS) {
  const pad = 'x'.repeat(Math.max(0, chars - 8))
  return Array.from({ length: count }, (_, i) =>
    JSON.parse(JSON.stringify(`${pad}${String(i).padStart(8, '0')}`)),
  )
}

/** ns per call of `fn` over `keys`, the best of three timed passes after a warm-up. */
function nsPerCall(keys, fn) {
  let sink = 0
  let best = Number.POSITIVE_INFINITY
  for (let pass = 0; pass < 4; pass++) {
    const started = performance.now()
    for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < keys.length; i++) sink ^= fn(keys[i])
    const ns = ((performance.now() - started) * 1e6) / (ROUNDS * keys.length)
    if (pass > 0) best = Math.min(best, ns)
  }
  if (sink === 0.5) console.log('') // keeps the work observable
  return best
}

if (which === 'hash' || which === 'all') {
  console.log('ns per lookup hash: hashKey (JS) | Map.get (V8, hash cached in the string)')
  for (const chars of [8, 16, 32, 100]) {
    const keys = keysOf(chars)
    const map = new Map(keys.map((k, i) => [k, i]))
    const js = nsPerCall(keys, (k) => hashKey(k, 1))
    const v8 = nsPerCall(keys, (k) => map.get(k))
    console.log(
      `  ${String(chars).padStart(3)} chars  ${js.toFixed(1).padStart(6)}  ${v8.toFixed(1).padStart(6)}`,
    )
  }
}

if (which === 'crc32' || which === 'all') {
  console.log('ns per crc32 of an ASCII key: JS loop (ring.crc32) | zlib.crc32')
  for (const chars of [7, 16, 32, 64]) {
    const keys = keysOf(chars).map((k) => k.slice(k.length - chars))
    for (const k of keys.slice(0, 1000))
      if (crc32(k) !== zlib.crc32(k)) throw new Error(`crc32 differs for ${k}`)
    const js = nsPerCall(keys, crc32)
    const native = nsPerCall(keys, (k) => zlib.crc32(k))
    console.log(
      `  ${String(chars).padStart(3)} chars  ${js.toFixed(1).padStart(6)}  ${native.toFixed(1).padStart(6)}`,
    )
  }
}

if (which === 'probes' || which === 'all') {
  console.log('farthest entry from its home, random hashes, linear probing (KeyTable.add)')
  const random = seededRandom(7)
  for (const entries of [10_000, 100_000, 1_000_000, 4_000_000]) {
    const cells = []
    for (const load of [2 / 3, 3 / 4]) {
      const length = Math.ceil(entries / load)
      const taken = new Uint8Array(length)
      let farthest = 0
      for (let i = 0; i < entries; i++) {
        let bucket = homeOf((random() * 4294967296) >>> 0, length)
        let probes = 0
        while (taken[bucket] !== 0) {
          if (++bucket === length) bucket = 0
          probes++
        }
        taken[bucket] = 1
        if (probes > farthest) farthest = probes
      }
      cells.push(`${Math.round(load * 100)} % full: ${farthest}`)
    }
    console.log(`  ${String(entries).padStart(9)} entries  ${cells.join('   ')}`)
  }
}

if (which === 'text' || which === 'all') {
  console.log('ns per key made from its bytes: latin1Slice (C++) | latin1Text (JS up to 16 bytes)')
  for (const chars of [7, 13, 16, 32]) {
    const keys = keysOf(chars).map((k) => k.slice(k.length - chars))
    const bytes = Buffer.from(keys.join(''), 'latin1')
    const starts = keys.map((_, i) => i * chars)
    for (const at of starts.slice(0, 1000))
      if (latin1Text(bytes, at, at + chars) !== bytes.latin1Slice(at, at + chars))
        throw new Error(`latin1Text differs at ${at}`)
    const native = nsPerCall(starts, (at) => bytes.latin1Slice(at, at + chars).length)
    const js = nsPerCall(starts, (at) => latin1Text(bytes, at, at + chars).length)
    console.log(
      `  ${String(chars).padStart(3)} bytes  ${native.toFixed(1).padStart(6)}  ${js.toFixed(1).padStart(6)}`,
    )
  }
}

if (which === 'reader' || which === 'all') {
  let commands = 0
  let keyChars = 0
  const reader = new CommandReader({
    maxFrameBytes: 1 << 20,
    lookup: lookupCommand,
    onCommand: (_command, args) => {
      commands++
      keyChars += args[2].length
    },
    onInvalid: () => {
      throw new Error('an invalid command')
    },
  })
  const chunks = Array.from({ length: 64 }, (_, c) => {
    let text = ''
    for (let i = 0; i < 16; i++) {
      const key = `k${String(((c * 16 + i) * 7) % 10_000).padStart(12, '0')}`
      text += `*3\r\n$10\r\nBURROW.GET\r\n$4\r\ntest\r\n$13\r\n${key}\r\n`
    }
    return Buffer.from(text, 'latin1')
  })
  const perRound = []
  for (let round = 0; round < 7; round++) {
    const from = commands
    const start = process.hrtime.bigint()
    for (let r = 0; r < 1000; r++) for (const chunk of chunks) reader.feed(chunk)
    perRound.push(Number(process.hrtime.bigint() - start) / (commands - from))
  }
  if (keyChars !== commands * 13) throw new Error('a key was not read whole')
  const sorted = perRound.slice(2).sort((a, b) => a - b)
  console.log(
    `ns per BURROW.GET read by the CommandReader (16 per chunk): median ${sorted[2].toFixed(1)} of 5 rounds`,
  )
}
