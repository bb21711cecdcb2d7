/**
 * A/B of the remote path between builds: each build (a tree with its own `dist/`, e.g. a
 * `git worktree` of the base commit with `node_modules` linked and `npx tsc -p tsconfig.build.json`
 * run) gets its processes loaded at once, and their rounds are interleaved, so machine noise falls
 * on all of them. Reports, per build, the median ops/s (or req/s), the CPU per request of its
 * processes (utime + stime from /proc) and their read and write system calls per request (syscr +
 * syscw from /proc/PID/io), and each build's per-round ratio to the first.
 *
 *   node bench/ab-remote.mjs get ROUNDS MS label=/tree[@{"connectionsPerPeer":4}] ...
 *     one owner and one reading node per build, 64 `ns.get`s in flight of 10,000 keys of 1 KB
 *     the reader does not own (as remote-get-throughput), rounds of MS milliseconds
 *   node bench/ab-remote.mjs server ROUNDS PIPELINE REQUESTS label=/tree[@json] ...
 *     one node per build, redis-benchmark -c 64 -P PIPELINE -n REQUESTS BURROW.GET (as server-get)
 *
 * Linux only (/proc). Every round is bounded by count and time; children are killed by PID.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runRedisBenchmark } from './lib/redis.mjs'

const [mode, rounds, ...rest] = process.argv.slice(2)
if ((mode !== 'get' && mode !== 'server') || !(Number(rounds) > 0)) {
  console.error('usage: node bench/ab-remote.mjs get ROUNDS MS label=/tree[@json] ...')
  console.error('       node bench/ab-remote.mjs server ROUNDS PIPELINE REQUESTS label=/tree[@json] ...')
  process.exit(2)
}
const CALL_MS = 60_000
const KEYS = 10_000

/** CPU time of a process so far, in ms. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Read and write system calls of a process so far (/proc/PID/io's syscr and syscw). */
function syscalls(pid) {
  const io = Object.fromEntries(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(': ')),
  )
  return Number(io.syscr) + Number(io.syscw)
}

/** The bench's child library of the build in `tree` (a path, relative to the working directory). */
function childLib(tree) {
  return pathToFileURL(resolve(tree, 'bench/lib/child.mjs')).href
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

async function startGetArm(label, tree, nodeOptions) {
  const { startChild } = await import(childLib(tree))
  const owner = startChild('burrow-node.mjs', { name: `${label}-owner` })
  const reader = startChild('burrow-node.mjs', { name: `${label}-reader` })
  const o = await owner.call('start', { valueBytes: 1024, nodeOptions })
  const r = await reader.call('start', { valueBytes: 1024, nodeOptions })
  await owner.call('setPeers', { peers: [o, r] })
  await reader.call('setPeers', { peers: [o, r] })
  const keys = await reader.call('pickRemoteKeys', { count: KEYS, owner: o })
  await owner.call('prewarm', { keys }, CALL_MS)
  return { label, children: [owner, reader], pids: [owner.pid, reader.pid], keys, reader }
}

async function startServerArm(label, tree, nodeOptions) {
  const { startChild } = await import(childLib(tree))
  const node = startChild('burrow-node.mjs', { name: label })
  const self = await node.call('start', { valueBytes: 1024, nodeOptions })
  await node.call('setPeers', { peers: [self] })
  const keys = Array.from({ length: KEYS }, (_, i) => `k${String(i).padStart(12, '0')}`)
  await node.call('prewarm', { keys }, CALL_MS)
  return { label, children: [node], pids: [node.pid], port: Number(new URL(self).port) }
}

function redisBenchmark(port, pipeline, requests) {
  const args = ['-c', '64', '-n', String(requests), '-r', String(KEYS), '-P', String(pipeline)]
  return runRedisBenchmark(port, [...args, 'BURROW.GET', 'test', 'k__rand_int__'], { timeoutMs: CALL_MS }).rps
}

const specs = mode === 'get' ? rest.slice(1) : rest.slice(2)
const arms = []
try {
  for (const spec of specs) {
    const [label, where] = spec.split('=')
    const [tree, options] = where.split('@')
    arms.push(
      mode === 'get'
        ? await startGetArm(label, tree, options ? JSON.parse(options) : {})
        : await startServerArm(label, tree, options ? JSON.parse(options) : {}),
    )
  }
  const ms = Number(rest[0])
  const [pipeline, requests] = [Number(rest[0]), Number(rest[1])]
  /** One round of `arm`: its rate and the CPU per request of each of its processes (µs). */
  const round = async (arm, warmupOps) => {
    const before = arm.pids.map(cpuMs)
    const callsBefore = arm.pids.map(syscalls)
    let ops
    let rate
    if (mode === 'get') {
      const load = {
        keys: arm.keys,
        concurrency: 64,
        valueBytes: 1024,
        warmupOps,
        maxOps: 1_000_000,
        maxMs: ms,
      }
      const t = await arm.reader.call('load', load, CALL_MS)
      ops = t.ops
      rate = t.opsPerSec
    } else {
      ops = requests
      rate = redisBenchmark(arm.port, pipeline, requests)
    }
    const cpu = arm.pids.map((pid, i) => ((cpuMs(pid) - before[i]) * 1000) / ops)
    const calls = arm.pids.map((pid, i) => (syscalls(pid) - callsBefore[i]) / ops)
    return { rate, cpu, calls }
  }
  for (const arm of arms) {
    await round(arm, 50_000) // warm-up, unmeasured
    arm.results = []
  }
  for (let i = 0; i < Number(rounds); i++) {
    for (const arm of i % 2 ? [...arms].reverse() : arms) arm.results.push(await round(arm, 5_000))
  }
  for (const arm of arms) {
    const rates = arm.results.map((r) => Math.round(r.rate))
    const cpu = arm.pids.map((_, p) => median(arm.results.map((r) => r.cpu[p])).toFixed(2))
    const calls = arm.pids.map((_, p) => median(arm.results.map((r) => r.calls[p])).toFixed(3))
    console.log(
      `${arm.label}: median ${median(rates)}/s, rounds ${rates.join(' ')}; CPU µs per request ${cpu.join(' / ')}; ` +
        `reads + writes per request ${calls.join(' / ')}`,
    )
  }
  for (const arm of arms.slice(1)) {
    const ratios = arm.results.map((r, i) => r.rate / arms[0].results[i].rate)
    const range = `${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}`
    console.log(`${arm.label}/${arms[0].label}: per-round median ${median(ratios).toFixed(3)} (${range})`)
  }
} finally {
  for (const arm of arms) for (const child of arm.children) await child.kill()
}
