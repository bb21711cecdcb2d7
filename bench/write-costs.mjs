#!/usr/bin/env node
/**
 * What writing a 1 KB value into a reply buffer costs, per value, over 10,000 values read in a
 * scattered order (so most are not in the CPU's caches, as on a server): measuring a string's
 * UTF-8 length (`Buffer.byteLength`), encoding it (`utf8Write`), copying it as Latin-1
 * (`latin1Write`, right only for ASCII), and copying a Buffer. Strings both flat and sliced (what
 * `slice` of a longer string makes, as the bench's values are). And what the cache's copy of a
 * string value costs when it is stored (`ownValue`, from the built `dist/`). Five rounds, ns per
 * value.
 *
 *   npm run build && node bench/write-costs.mjs
 *
 * @module
 */
import { ownValue } from '../dist/codec.js'

const VALUES = 10_000
const ROUNDS = 5
const OPS = 500_000

const sliced = Array.from({ length: VALUES }, (_, i) =>
  `k${String(i).padStart(12, '0')}:`.repeat(74).slice(0, 1024),
)
const flat = sliced.map((s) => Buffer.from(s).latin1Slice(0, 1024))
const buffers = sliced.map((s) => Buffer.from(s))
const out = Buffer.allocUnsafe(2 * 1024 * 1024)
const room = 3 * 1024

const cases = [
  ['byteLength, sliced', sliced, (v) => Buffer.byteLength(v)],
  ['byteLength, flat', flat, (v) => Buffer.byteLength(v)],
  ['utf8Write, sliced', sliced, (v, at) => out.utf8Write(v, at, room)],
  ['utf8Write, flat', flat, (v, at) => out.utf8Write(v, at, room)],
  ['latin1Write, sliced', sliced, (v, at) => out.latin1Write(v, at, room)],
  ['latin1Write, flat', flat, (v, at) => out.latin1Write(v, at, room)],
  ['Buffer copy', buffers, (v, at) => v.copy(out, at)],
  ['ownValue, sliced', sliced, (v) => ownValue(v).length],
  ['ownValue, flat', flat, (v) => ownValue(v).length],
]
const results = new Map(cases.map(([label]) => [label, []]))
let sink = 0
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, values, write] of cases) {
    let at = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < OPS; i++) {
      if (at > out.length - 2 * room) at = 0
      const n = write(values[(i * 7919) % VALUES], at)
      at += n
      sink += n
    }
    results.get(label).push(Number(process.hrtime.bigint() - t0) / OPS)
  }
}
console.log(
  `node ${process.version}: ns per 1 KB value, ${ROUNDS} rounds of ${OPS.toLocaleString('en')} (checksum ${sink % 997})`,
)
for (const [label, ns] of results) {
  const sorted = [...ns].sort((a, b) => a - b)
  console.log(
    `${label.padEnd(20)} median ${sorted[ROUNDS >> 1].toFixed(0).padStart(4)}   rounds ${ns.map((x) => x.toFixed(0)).join(' ')}`,
  )
}
