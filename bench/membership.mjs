#!/usr/bin/env node
/**
 * Membership changes, default options: `npm run bench:membership` (a build, then this file).
 *
 * 1. Rolling restart under steady reads: four nodes in child processes and a reading node in
 *    this process, one ring, namespace with `hot: false` and a 2 ms loader. Readers get keys
 *    through the reading node without pause while each child in turn is closed gracefully (IPC,
 *    `node.close()`) and started again on the same address, then the same with each child killed
 *    (SIGKILL) instead. Latency and failed gets during the restarts, against a steady phase before.
 * 2. Join and leave: a fourth node joins a warm three-node cluster (every key loaded once, by its
 *    owner), with warm hand-off and without; then a node of a warm four-node cluster leaves
 *    gracefully. Every key is then read through every node, and the loader calls counted.
 *
 * Nodes listen on 127.0.0.1, port 0. Every wait is capped, every loop bounded in count and time,
 * and the whole run is capped; children are killed by their handles at the end (and on exit).
 * Prints one line per measure. Exit code 0 when it ran (figures are reported, not judged), 2 when
 * the harness itself failed.
 *
 * @module
 */
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { Burrow } from '../dist/index.js'
import { killAllChildren, killAllChildrenSync, startChild } from './lib/child.mjs'
import { untilPeers } from './lib/net.mjs'

const ANY_PORT = 'http://127.0.0.1:0'
/** The longest any single wait (a child starting, a ring change, a command) may take. */
const CAP_MS = 10_000
/** The whole run. */
const RUN_CAP_MS = 180_000
const LOAD_DELAY_MS = 2

const ROLLING = {
  children: 4,
  keys: 5_000,
  readers: 8,
  /** Reads before the steady phase, not measured (the JIT, connections, the probes settle). */
  settleMs: 1_000,
  steadyMs: 3_000,
  /** Reads go on this long after a restarted node is back on the reading node's ring. */
  afterBackMs: 1_000,
  /** Per reader: a bound on its gets, whatever happens to the clock. */
  maxGetsPerReader: 2_000_000,
}
const JOIN = { keys: 10_000, concurrency: 64, readMaxMs: 30_000 }

const keyList = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const runCap = setTimeout(() => {
  console.error(`membership bench: ran past its cap of ${RUN_CAP_MS / 1000} s`)
  killAllChildrenSync()
  process.exit(2)
}, RUN_CAP_MS)
runCap.unref()
process.on('exit', killAllChildrenSync)
process.on('SIGINT', () => {
  killAllChildrenSync()
  process.exit(130)
})

/** Starts a node in a child process; resolves with its handle and peer id. */
async function startNode(params, name = 'node') {
  const child = startChild('membership-node.mjs', { name })
  const self = await child.call('start', { loadDelayMs: LOAD_DELAY_MS, ...params }, CAP_MS)
  return { child, self }
}

/** Polls a child's stats (every 20 ms, at most CAP_MS) until `test(stats)` holds. */
async function childWhere(node, test, what) {
  const deadline = performance.now() + CAP_MS
  while (performance.now() < deadline) {
    if (test(await node.child.call('stats', {}, CAP_MS))) return
    await sleep(20)
  }
  throw new Error(`${what}: not within ${CAP_MS} ms`)
}

/** p50, p99 and max of latencies (ms), and their count. */
function summary(latencies) {
  const sorted = Float64Array.from(latencies).sort()
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] }
}

const ms = (t) => (t < 10 ? `${t.toFixed(2)} ms` : `${Math.round(t)} ms`)
const int = (n) => n.toLocaleString('en-US')
const pct = (part, whole) => `${((100 * part) / whole).toFixed(2)} %`

/**
 * Rolling restart of every child under steady reads through the reading node. `crash`: each
 * child is killed (SIGKILL) instead of closed, and started again at once, as a supervisor would.
 */
async function rollingRestart({ crash }) {
  const keys = keyList(ROLLING.keys, 'key')
  const children = await Promise.all(
    Array.from({ length: ROLLING.children }, (_, i) => startNode({}, `child-${i}`)),
  )
  const reader = new Burrow({ self: ANY_PORT })
  const ns = reader.namespace('m', {
    hot: false,
    load: async (key) => {
      await sleep(LOAD_DELAY_MS)
      return `value of ${key}`
    },
  })
  const fresh = []
  let reading = true
  try {
    await reader.listen()
    const peers = [reader.self, ...children.map((c) => c.self)]
    reader.setPeers(peers)
    await Promise.all(children.map((c) => c.child.call('setPeers', { peers }, CAP_MS)))

    // Warm: every key loaded once by its owner, so the steady phase reads warm caches.
    const warmDeadline = performance.now() + 30_000
    let next = 0
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < keys.length && performance.now() < warmDeadline) {
          const key = keys[next++]
          if ((await ns.get(key)) !== `value of ${key}`) throw new Error(`warm-up: bad value for ${key}`)
        }
      }),
    )
    if (next < keys.length) throw new Error('warm-up did not finish within 30 s')

    // The readers: each get is timed and filed under the phase it started in.
    const phases = { settle: [], steady: [], restarts: [] }
    const failures = { settle: [], steady: [], restarts: [] }
    let phase = 'settle'
    const readDeadline = performance.now() + 120_000
    const readers = Array.from({ length: ROLLING.readers }, async (_, r) => {
      for (let i = 0; reading && i < ROLLING.maxGetsPerReader && performance.now() < readDeadline; i++) {
        const key = keys[(r * 631 + i * 7) % keys.length]
        const started = phase
        const t0 = performance.now()
        try {
          const value = await ns.get(key)
          if (value !== `value of ${key}`) failures[started].push(`${key}: wrong value ${String(value)}`)
        } catch (err) {
          failures[started].push(`${key}: ${err?.code ?? err?.message ?? String(err)}`)
        }
        phases[started].push(performance.now() - t0)
      }
    })

    // How many of the children the reading node's ring dropped while they were away.
    let drops = 0
    const onPeers = (ring) => {
      for (const c of children) if (!ring.includes(c.self) && !c.dropped) c.dropped = ++drops
    }
    reader.on('peers', onPeers)

    await sleep(ROLLING.settleMs)
    phase = 'steady'
    await sleep(ROLLING.steadyMs)
    const counters = () => {
      const s = reader.stats().namespaces.m
      return { fallbackLoads: s.fallbackLoads, peerErrors: s.peerErrors }
    }
    const before = counters()
    phase = 'restarts'
    const restartStarted = performance.now()
    const backMs = []
    const leaveMs = []
    for (const old of children) {
      const t0 = performance.now()
      if (crash) {
        old.child.proc.kill('SIGKILL')
        await old.child.exitPromise
      } else {
        leaveMs.push(await old.child.call('close', {}, CAP_MS))
        await old.child.kill()
      }
      const again = await startNode({ self: old.self, peers }, `${old.child.name}-again`)
      fresh.push(again)
      await untilPeers(reader, (ring) => ring.includes(old.self), CAP_MS)
      backMs.push(performance.now() - t0)
      await sleep(ROLLING.afterBackMs)
    }
    const restartSeconds = (performance.now() - restartStarted) / 1000
    reading = false
    await Promise.all(readers)
    reader.off('peers', onPeers)
    const after = counters()

    const freshStats = await Promise.all(fresh.map((n) => n.child.call('stats', {}, CAP_MS)))
    return {
      steady: { ...summary(phases.steady), failed: failures.steady, seconds: ROLLING.steadyMs / 1000 },
      restarts: { ...summary(phases.restarts), failed: failures.restarts, seconds: restartSeconds },
      settleFailed: failures.settle,
      backMs,
      leaveMs,
      drops,
      reader: {
        fallbackLoads: after.fallbackLoads - before.fallbackLoads,
        peerErrors: after.peerErrors - before.peerErrors,
      },
      restarted: {
        handoffHits: freshStats.reduce((sum, s) => sum + s.ns.handoffHits, 0),
        handoffMisses: freshStats.reduce((sum, s) => sum + s.ns.handoffMisses, 0),
        loaderCalls: freshStats.reduce((sum, s) => sum + s.loaderCalls, 0),
      },
    }
  } finally {
    reading = false
    await reader.close({ timeoutMs: 0 })
    await Promise.all([...children, ...fresh].map((n) => n.child.kill()))
  }
}

/** Loader calls made so far, summed over `nodes`, and their hand-off counters. */
async function clusterCounts(nodes) {
  const stats = await Promise.all(nodes.map((n) => n.child.call('stats', {}, CAP_MS)))
  return {
    loaderCalls: stats.reduce((sum, s) => sum + s.loaderCalls, 0),
    handoffHits: stats.reduce((sum, s) => sum + s.ns.handoffHits, 0),
    handoffMisses: stats.reduce((sum, s) => sum + s.ns.handoffMisses, 0),
    stats,
  }
}

/** Every key read through each of `nodes`, one node after the other; throws on a failed get. */
async function readEverywhere(nodes, keys) {
  for (const n of nodes) {
    const r = await n.child.call(
      'readAll',
      { keys, concurrency: JOIN.concurrency, maxMs: JOIN.readMaxMs },
      JOIN.readMaxMs + CAP_MS,
    )
    if (r.gets !== keys.length || r.failed !== 0 || r.wrong !== 0)
      throw new Error(`reading through ${n.self}: ${JSON.stringify(r)}`)
  }
}

/** A warm cluster of `count` nodes: every key loaded once, by its owner (read through node 0). */
async function warmCluster(count, params, keys) {
  const nodes = await Promise.all(Array.from({ length: count }, (_, i) => startNode(params, `node-${i}`)))
  const peers = nodes.map((n) => n.self)
  await Promise.all(nodes.map((n) => n.child.call('setPeers', { peers }, CAP_MS)))
  await readEverywhere(nodes.slice(0, 1), keys)
  const { loaderCalls } = await clusterCounts(nodes)
  if (loaderCalls !== keys.length)
    throw new Error(`warming ${keys.length} keys made ${loaderCalls} loader calls`)
  return nodes
}

/** A fourth node joins a warm cluster of three; every key is then read through every node. */
async function join({ handoff }) {
  const keys = keyList(JOIN.keys, 'item')
  const params = handoff ? {} : { handoff: false }
  const nodes = await warmCluster(3, params, keys)
  try {
    const before = await clusterCounts(nodes)
    const joiner = await startNode(params, 'joiner')
    nodes.push(joiner)
    const peers = nodes.map((n) => n.self)
    await Promise.all(nodes.map((n) => n.child.call('setPeers', { peers }, CAP_MS)))
    await readEverywhere(nodes, keys)
    const after = await clusterCounts(nodes)
    return {
      moved: after.stats[3].ns.main.items,
      reloaded: after.loaderCalls - before.loaderCalls,
      handoffHits: after.handoffHits - before.handoffHits,
      handoffMisses: after.handoffMisses - before.handoffMisses,
    }
  } finally {
    await Promise.all(nodes.map((n) => n.child.kill()))
  }
}

/** A node of a warm cluster of four leaves gracefully; every key is read through the three left. */
async function leave() {
  const keys = keyList(JOIN.keys, 'item')
  const nodes = await warmCluster(4, {}, keys)
  try {
    const before = await clusterCounts(nodes)
    const leaver = nodes[3]
    const held = before.stats[3].ns.main.items
    const closeMs = await leaver.child.call('close', {}, CAP_MS)
    await leaver.child.kill()
    const rest = nodes.slice(0, 3)
    // close() waited for the peers to take BURROW.LEAVE: each ring should be three already.
    for (const n of rest) await childWhere(n, (s) => !s.peers.includes(leaver.self), 'the leaver off a ring')
    await readEverywhere(rest, keys)
    const after = await clusterCounts(rest)
    const restBefore = before.stats.slice(0, 3)
    const sum = (list, f) => list.reduce((total, s) => total + f(s), 0)
    return {
      held,
      closeMs,
      reloaded: after.loaderCalls - sum(restBefore, (s) => s.loaderCalls),
      handoffHits: after.handoffHits - sum(restBefore, (s) => s.ns.handoffHits),
    }
  } finally {
    await Promise.all(nodes.map((n) => n.child.kill()))
  }
}

function rollingLines(name, r) {
  const phase = (label, p) =>
    `${label}: ${int(p.count)} gets in ${p.seconds.toFixed(1)} s, ${p.failed.length} failed, ` +
    `p50 ${ms(p.p50)}, p99 ${ms(p.p99)}, max ${ms(p.max)}`
  console.log(`  ${name}, ${phase('steady before', r.steady)}`)
  console.log(`  ${name}, ${phase('during restarts', r.restarts)}`)
  const back = [...r.backMs].sort((a, b) => a - b)
  const leaving = r.leaveMs.length > 0 ? `; close() took ${r.leaveMs.map((t) => ms(t)).join(', ')}` : ''
  console.log(
    `  ${name}, each node back on the reader's ring after ${back.map((t) => ms(t)).join(', ')}` +
      ` (from ${r.leaveMs.length > 0 ? 'close' : 'kill'}); the reader's ring dropped ${r.drops} of 4${leaving}`,
  )
  console.log(
    `  ${name}, reader: ${int(r.reader.peerErrors)} peer errors, ${int(r.reader.fallbackLoads)} fallback loads; ` +
      `restarted nodes: ${int(r.restarted.handoffHits)} hand-off hits, ${int(r.restarted.handoffMisses)} misses, ` +
      `${int(r.restarted.loaderCalls)} loader calls`,
  )
  for (const f of [...r.settleFailed, ...r.steady.failed, ...r.restarts.failed].slice(0, 5))
    console.log(`    failed: ${f}`)
}

try {
  console.log(
    `membership, default options (liveness every 500 ms, 1000 ms deadline; hand-off window 60 s, ` +
      `250 ms ask; close timeout 5 s), node ${process.version}, ${cpus().length} cpus, ${new Date().toISOString()}`,
  )
  console.log(
    `rolling restart: ${ROLLING.children} child nodes + 1 reading node, ${int(ROLLING.keys)} keys, hot: false, ` +
      `loader ${LOAD_DELAY_MS} ms, ${ROLLING.readers} readers through the reading node; ${ROLLING.settleMs / 1000} s unmeasured, ` +
      `steady ${ROLLING.steadyMs / 1000} s, ` +
      `then each child restarted on its address, reads ${ROLLING.afterBackMs / 1000} s more once it is back`,
  )
  rollingLines('graceful close', await rollingRestart({ crash: false }))
  rollingLines('SIGKILL', await rollingRestart({ crash: true }))

  console.log(
    `join/leave: ${int(JOIN.keys)} keys warm (loaded once each by their owners), hot: false, loader ${LOAD_DELAY_MS} ms; ` +
      `then every key read through every node (${JOIN.concurrency} in flight), loader calls counted`,
  )
  const withHandoff = await join({ handoff: true })
  const without = await join({ handoff: false })
  const joinLine = (name, r) =>
    console.log(
      `  join, ${name}: ${int(r.moved)} keys moved to the 4th node; reloaded ${int(r.reloaded)} ` +
        `(${pct(r.reloaded, JOIN.keys)} of the warm keys, ${pct(r.reloaded, r.moved)} of those moved); ` +
        `hand-off hits ${int(r.handoffHits)}, misses ${int(r.handoffMisses)}`,
    )
  joinLine('hand-off on (default)', withHandoff)
  joinLine('handoff: false', without)
  const left = await leave()
  console.log(
    `  leave (graceful, 3 of 4 remain): the leaving node held ${int(left.held)} keys; reloaded ${int(left.reloaded)} ` +
      `(${pct(left.reloaded, JOIN.keys)} of the warm keys, ${pct(left.reloaded, left.held)} of its keys); hand-off hits ${int(left.handoffHits)}; close() took ${ms(left.closeMs)}`,
  )
  clearTimeout(runCap)
  process.exit(0)
} catch (err) {
  console.error('membership bench failed:', err)
  await killAllChildren()
  process.exit(2)
}
