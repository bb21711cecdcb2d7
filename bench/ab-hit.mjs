#!/usr/bin/env node
/**
 * An A/B of the local hit path: two builds loaded into one process, `peek` rounds alternating
 * between them so that machine noise falls on both, the median of each reported with their ratio.
 *
 *   npm run build && node bench/ab-hit.mjs --a path/to/old/dist [--b dist] [--rounds 30]
 *                                          [--key-chars 7] [--fresh]
 *
 * 20,000 entries of 1 KB in one namespace (one node, hot cache off), looked up along a Zipf(0.99)
 * trace of 2^18 keys. Every round must hit every key. Keys are the benches' 7-byte keys, or with
 * `--key-chars N` the same keys padded in front to N characters; a lookup passes the trace's own
 * string (whose hash V8 has cached), or with `--fresh` a new string of the same text, as a key
 * read from a request or built by a template literal is.
 *
 * @module
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { bufferValue, KEY_BYTES, keyList } from './lib/data.mjs'
import { zipfTrace } from './lib/random.mjs'

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: 'dist' },
    rounds: { type: 'string', default: '30' },
    'key-chars': { type: 'string', default: String(KEY_BYTES) },
    fresh: { type: 'boolean', default: false },
  },
})
if (values.a === undefined)
  throw new Error('usage: node bench/ab-hit.mjs --a path/to/dist [--b dist] [--rounds 30]')
const ENTRIES = 20_000
const VALUE_BYTES = 1024
const WARMUP = 5
const keys = keyList(ENTRIES).map((key) => key.padStart(Number(values['key-chars']), '-'))
const trace = Array.from(zipfTrace({ keys: ENTRIES, length: 1 << 18, seed: 3 }), (rank) => keys[rank])

/** A namespace of the build in `dist` holding every key. */
async function filled(dist) {
  const { Burrow, ENTRY_OVERHEAD_BYTES } = await import(pathToFileURL(resolve(dist, 'index.js')).href)
  const node = new Burrow({ random: () => 0.5 })
  const ns = node.namespace('ab', {
    maxBytes: (keys[0].length + VALUE_BYTES + ENTRY_OVERHEAD_BYTES) * ENTRIES * 2,
    hot: false,
    load: (key) => bufferValue(key.length, VALUE_BYTES),
  })
  for (const key of keys) await ns.get(key)
  return ns
}

function peekRound(ns) {
  const started = performance.now()
  if (values.fresh) {
    for (let i = 0; i < trace.length; i++) {
      if (ns.peek(`${trace[i]} `.trimEnd()) === undefined)
        throw new Error(`a miss in a round of hits: ${trace[i]}`)
    }
  } else {
    for (let i = 0; i < trace.length; i++) {
      if (ns.peek(trace[i]) === undefined) throw new Error(`a miss in a round of hits: ${trace[i]}`)
    }
  }
  return trace.length / (performance.now() - started) / 1000
}

const builds = { a: await filled(values.a), b: await filled(values.b) }
const rates = { a: [], b: [] }
for (let round = 0; round < Number(values.rounds) + WARMUP; round++) {
  for (const name of ['a', 'b']) {
    const rate = peekRound(builds[name])
    if (round >= WARMUP) rates[name].push(rate)
  }
}
const median = (list) => list.toSorted((x, y) => x - y)[list.length >> 1]
console.log(
  `peek: a ${median(rates.a).toFixed(2)} M/s, b ${median(rates.b).toFixed(2)} M/s, b / a ${(median(rates.b) / median(rates.a)).toFixed(3)}`,
)
