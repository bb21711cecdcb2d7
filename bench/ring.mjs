#!/usr/bin/env node
/**
 * The two rings side by side: `npm run bench:ring` (builds first), or `node bench/ring.mjs`
 * on a built tree. `--quick` uses fewer keys and rounds (for a smoke run).
 *
 * For 3, 10, 100 and 1,000 peers named `http://10.0.x.y:5001`, and for golang/groupcache's ring
 * (the default) and the maglev ring (`ring: 'maglev'`), it prints:
 * - the busiest peer's share over the mean share, exactly (from the ring's arcs or slots, over
 *   all 2^32 key hashes) and sampled over 1,000,000 keys `key:0 …` (sampling alone puts a
 *   perfectly even ring at about 1.10 with 1,000 peers: 1,000 keys a peer, ±32);
 * - the build time, the median of several builds (a node rebuilds on every membership change);
 * - the time of one `owner(key)`, the median of rounds of a bounded loop over 65,536 keys, the
 *   rings taking turns; beside it the time of `zlib.crc32(key)` alone, which both rings pay, and
 *   of rendezvous hashing (HRW, not in burrow: one mixed hash per peer per lookup) for scale;
 * - the keys that move to another owner when a peer joins, and when one leaves, as a multiple of
 *   the ideal 1/n.
 * Every loop is bounded in count, and timed loops in time too. Results also go to
 * bench/results/ring.json.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'
import { MaglevRing, Ring } from '../dist/index.js'
import { median } from './lib/measure.mjs'

const quick = process.argv.includes('--quick')
const PEER_COUNTS = [3, 10, 100, 1000]
const KEY_COUNT = quick ? 200_000 : 1_000_000
const BUILDS = quick ? 5 : 15
const ROUNDS = quick ? 3 : 9
const LOOKUPS = quick ? 300_000 : 2_000_000
/** No timed loop runs longer than this, whatever its count. */
const ROUND_CAP_MS = 2000
const RINGS = { groupcache: (peers) => new Ring(peers), maglev: (peers) => new MaglevRing(peers) }

const peersOf = (n) => Array.from({ length: n }, (_, i) => `http://10.0.${(i >> 8) & 255}.${i & 255}:5001`)
const keys = Array.from({ length: KEY_COUNT }, (_, i) => `key:${i}`)
/** A smaller set for the timed loops, so they measure the ring and not cache misses on key strings. */
const timedKeys = keys.slice(0, 65536)

/** Each ring kind gets its own loop, so its call site stays monomorphic, as in a node (one kind). */
const lookupLoops = {
  groupcache(ring, count, deadline) {
    let sink = 0
    let i = 0
    for (; i < count; i++) {
      sink += ring.owner(timedKeys[i & 0xffff]).length
      if ((i & 0xffff) === 0 && performance.now() > deadline) break
    }
    return { done: i, sink }
  },
  maglev(ring, count, deadline) {
    let sink = 0
    let i = 0
    for (; i < count; i++) {
      sink += ring.owner(timedKeys[i & 0xffff]).length
      if ((i & 0xffff) === 0 && performance.now() > deadline) break
    }
    return { done: i, sink }
  },
  crc32(_ring, count, deadline) {
    let sink = 0
    let i = 0
    for (; i < count; i++) {
      sink += zlib.crc32(timedKeys[i & 0xffff]) & 1
      if ((i & 0xffff) === 0 && performance.now() > deadline) break
    }
    return { done: i, sink }
  },
  rendezvous(ring, count, deadline) {
    let sink = 0
    let i = 0
    for (; i < count; i++) {
      sink += ring.owner(timedKeys[i & 0xffff]).length
      if ((i & 0xffff) === 0 && performance.now() > deadline) break
    }
    return { done: i, sink }
  },
}

/** Rendezvous hashing, for scale only: the peer with the highest mix(crc32(key) ^ seed). */
function rendezvous(peers) {
  const seeds = Int32Array.from(peers, (p) => createHash('sha256').update(p).digest().readInt32BE(0))
  return {
    owner(key) {
      const h = zlib.crc32(key)
      let best = -1
      let owner = 0
      for (let p = 0; p < seeds.length; p++) {
        // murmur3's 32-bit finaliser
        let x = h ^ seeds[p]
        x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
        x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
        x = (x ^ (x >>> 16)) >>> 0
        if (x > best) {
          best = x
          owner = p
        }
      }
      return peers[owner]
    },
  }
}

/** ns per call of each loop, the loops taking turns round after round. */
function timeLookups(subjects) {
  const perCall = Object.fromEntries(subjects.map(([name]) => [name, []]))
  for (const [name, ring] of subjects) lookupLoops[name](ring, 100_000, performance.now() + ROUND_CAP_MS)
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, ring] of subjects) {
      const count = name === 'rendezvous' ? Math.max(20_000, LOOKUPS / ring.peerCount) : LOOKUPS
      const t0 = performance.now()
      const { done } = lookupLoops[name](ring, count, t0 + ROUND_CAP_MS)
      perCall[name].push(((performance.now() - t0) * 1e6) / done)
    }
  }
  return Object.fromEntries(Object.entries(perCall).map(([name, ns]) => [name, median(ns)]))
}

function buildMs(make, peers) {
  const times = []
  for (let b = 0; b < BUILDS; b++) {
    const t0 = performance.now()
    make(peers)
    times.push(performance.now() - t0)
  }
  return median(times)
}

function ownersOf(ring) {
  const owners = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) owners[i] = ring.owner(keys[i])
  return owners
}

function movedFraction(before, after) {
  let moved = 0
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++
  return moved / before.length
}

function sampledMaxOverMean(owners, n) {
  const counts = new Map()
  for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1)
  return Math.max(...counts.values()) / (owners.length / n)
}

const rows = []
for (const n of PEER_COUNTS) {
  const peers = peersOf(n)
  const joined = [...peers, 'http://10.0.250.250:5001']
  const left = peers.filter((_, i) => i !== n >> 1)
  const built = {}
  for (const [kind, make] of Object.entries(RINGS)) {
    const ring = make(peers)
    built[kind] = ring
    const owners = ownersOf(ring)
    rows.push({
      ring: kind,
      peers: n,
      exactMaxOverMean: Math.max(...ring.shares().values()) * n,
      sampledMaxOverMean: sampledMaxOverMean(owners, n),
      buildMs: buildMs(make, peers),
      joinMovedTimesN: movedFraction(owners, ownersOf(make(joined))) * (n + 1),
      leaveMovedTimesN: movedFraction(owners, ownersOf(make(left))) * n,
    })
  }
  const hrw = Object.assign(rendezvous(peers), { peerCount: n })
  const ns = timeLookups([
    ['groupcache', built.groupcache],
    ['maglev', built.maglev],
    ['crc32', null],
    ['rendezvous', hrw],
  ])
  for (const row of rows.slice(-2)) {
    row.ownerNs = ns[row.ring]
    row.crc32Ns = ns.crc32
    row.rendezvousNs = ns.rendezvous
  }
}

const f = (x, d) => x.toFixed(d)
const table = [
  `| peers | ring | max/mean, exact | max/mean, ${KEY_COUNT / 1e6}M keys | build (ms) | owner() (ns) | crc32 alone (ns) | moved on join (× 1/n) | moved on leave (× 1/n) |`,
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.peers} | ${r.ring} | ${f(r.exactMaxOverMean, 3)} | ${f(r.sampledMaxOverMean, 3)} | ${f(r.buildMs, 2)} | ${f(r.ownerNs, 0)} | ${f(r.crc32Ns, 0)} | ${f(r.joinMovedTimesN, 2)} | ${f(r.leaveMovedTimesN, 2)} |`,
  ),
]
console.log(
  `rings, ${keys.length.toLocaleString('en')} keys, node ${process.version}${quick ? ' (quick)' : ''}`,
)
console.log(table.join('\n'))
console.log('\nmaglev / groupcache, same run:')
for (const n of PEER_COUNTS) {
  const [g, m] = rows.filter((r) => r.peers === n)
  console.log(
    `  ${String(n).padStart(4)} peers: owner() time ${f(m.ownerNs / g.ownerNs, 2)}×, build time ${f(m.buildMs / g.buildMs, 2)}×, busiest share ${f(m.exactMaxOverMean / g.exactMaxOverMean, 2)}×; rendezvous owner() ${f(g.rendezvousNs, 0)} ns`,
  )
}
const results = fileURLToPath(new URL('./results/', import.meta.url))
mkdirSync(results, { recursive: true })
writeFileSync(`${results}ring.json`, `${JSON.stringify({ node: process.version, quick, rows }, null, 2)}\n`)
