#!/usr/bin/env node
/**
 * What serving distinct 1 KB string values costs the least Node server (the `server-minimal-node-strings`
 * rows' server), split from the rest: the same server holding 10,000 distinct values (as the node
 * does; 10 MB, out of the CPU's caches) and holding 16 (every request still gets a 1 KB string by
 * its key's number, but from values that stay in the caches), driven in turn by the same
 * redis-benchmark run (`-c 64 -r 10000`, `GET k__rand_int__`). Reports each server's median
 * requests per second and the ratio.
 *
 *   node bench/minimal-values.mjs [ROUNDS=6] [PIPELINE=16]
 *
 * Loopback only; each redis-benchmark run is killed past 60 s; the servers are killed by PID.
 *
 * @module
 */
import { startChild } from './lib/child.mjs'
import { median } from './lib/measure.mjs'
import { runRedisBenchmark } from './lib/redis.mjs'

const rounds = Number(process.argv[2] ?? 6)
const pipeline = Number(process.argv[3] ?? 16)
if (!(rounds > 0 && rounds <= 100) || !(pipeline >= 1 && pipeline <= 64)) {
  console.error('usage: node bench/minimal-values.mjs [ROUNDS 1-100] [PIPELINE 1-64]')
  process.exit(2)
}
const KEYS = 10_000
const requests = pipeline > 1 ? 400_000 : 100_000

function redisBenchmark(port, n) {
  const args = ['-c', '64', '-n', String(n), '-r', String(KEYS), '-P', String(pipeline)]
  return runRedisBenchmark(port, [...args, 'GET', 'k__rand_int__']).rps
}

const arms = [
  { label: '10,000 distinct values', distinct: KEYS },
  { label: '16 distinct values', distinct: 16 },
]
try {
  for (const arm of arms) {
    arm.child = startChild('minimal-resp-server.mjs', { name: `minimal-${arm.distinct}` })
    const options = { valueBytes: 1024, strings: true, keys: KEYS, distinct: arm.distinct }
    arm.port = await arm.child.call('start', options, 60_000)
    redisBenchmark(arm.port, requests / 4) // JIT warm-up, unmeasured
    arm.rates = []
  }
  for (let r = 0; r < rounds; r++) for (const arm of arms) arm.rates.push(redisBenchmark(arm.port, requests))
  for (const arm of arms)
    console.log(
      `${arm.label}: median ${Math.round(median(arm.rates))} req/s (${arm.rates.map(Math.round).join(' ')})`,
    )
  const ratios = arms[0].rates.map((rate, i) => rate / arms[1].rates[i])
  console.log(
    `10,000 / 16, per round: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)})`,
  )
} finally {
  await Promise.all(arms.map((arm) => arm.child?.kill()))
}
