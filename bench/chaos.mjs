#!/usr/bin/env node
/**
 * Faults under load, counted: `npm run chaos` (a build, then this file); `-- --quick` for CI.
 *
 * Three burrow nodes in child processes on 127.0.0.1 (bench/children/chaos-node.mjs: default
 * options, namespace `c` whose loader takes ~1 ms and returns `v:<key>:<sha256 prefix>`), and a
 * load generator in this process: ioredis clients with default options, connected to every node,
 * sending `BURROW.GET c <key>` over 20,000 keys without pause. Phases, one after the other:
 *
 * 1. warm-up and steady: no fault;
 * 2. kill: one node SIGKILLed, then started again on the same address at once;
 * 3. freeze: one node SIGSTOPped for a while, then SIGCONTed;
 * 4. black hole: a TCP server on loopback that accepts connections and never answers is added to
 *    every node's peer list (setPeers over IPC), held, then removed.
 *
 * Every reply is checked against the loader's value for its key. Each get is filed under the
 * phase it started in; per phase: gets, failed gets (with their error codes), wrong values, p50,
 * p99 and the longest get, with the longest get through the faulted node apart from the others
 * (a client connected to a frozen node waits for it, whatever burrow does), and the nodes'
 * counters (fallback loads, peer errors, hand-off, loader calls) over the phase.
 *
 * Every wait is capped, every loop bounded in count and time, and the run is capped; children
 * are killed by their handles (never by name) and the black-hole server closed at the end.
 * Exit code: 0 when it ran (failed gets are reported, not judged), 1 when a wrong value was seen
 * (a correctness bug), 2 when the harness itself failed.
 *
 * @module
 */
import { createServer } from 'node:net'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import Redis from 'ioredis'
import { chaosValue } from './lib/chaos-value.mjs'
import { killAllChildren, killAllChildrenSync, startChild } from './lib/child.mjs'
import { HOST } from './lib/net.mjs'
import { seededRandom } from './lib/random.mjs'

const QUICK = process.argv.includes('--quick')

/** Durations (ms) of the phases; the quick run keeps each fault but shortens every wait. */
const PLAN = QUICK
  ? { warmupMs: 500, steadyMs: 1_000, afterMs: 500, freezeMs: 1_000, holeMs: 1_500, runCapMs: 60_000 }
  : { warmupMs: 3_000, steadyMs: 15_000, afterMs: 8_000, freezeMs: 3_500, holeMs: 8_000, runCapMs: 170_000 }
const NODES = 3
const KEYS = 20_000
const CONNECTIONS_PER_NODE = 2
const IN_FLIGHT_PER_CONNECTION = 8
/** Per load worker: a bound on its gets, whatever happens to the clock. */
const MAX_GETS_PER_WORKER = 5_000_000
/** The longest any single wait (a child starting, a command, a ring settling) may take. */
const CAP_MS = 10_000
/** How often the rings are polled while waiting for them to settle. */
const POLL_MS = 50
/** A get this slow or slower counts as blocked. */
const SLOW_MS = 1_000
/** How many of the slowest gets of each phase are printed. */
const SLOWEST_KEPT = 3
const NAMESPACE = 'c'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const ms = (t) => (t === undefined ? '-' : t < 10 ? `${t.toFixed(2)} ms` : `${Math.round(t)} ms`)
const int = (n) => n.toLocaleString('en-US')

const runCap = setTimeout(() => {
  console.error(`chaos bench: ran past its cap of ${PLAN.runCapMs / 1000} s`)
  killAllChildrenSync()
  process.exit(2)
}, PLAN.runCapMs)
runCap.unref()
process.on('exit', killAllChildrenSync)
process.on('SIGINT', () => {
  killAllChildrenSync()
  process.exit(130)
})

const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)
const expected = keys.map(chaosValue)

/** One phase's counts. `faulted`: the index of the node the fault hits, if one node. */
function newPhase(name, faulted) {
  return {
    name,
    faulted,
    startedAt: performance.now(),
    endedAt: 0,
    gets: 0,
    wrong: 0,
    wrongExamples: [],
    /** @type {Map<string, number>} failed gets by error code */
    failed: new Map(),
    failedThroughFaulted: 0,
    latencies: [],
    maxThroughFaulted: 0,
    maxThroughOthers: 0,
    /** Gets that took SLOW_MS or longer. */
    slow: 0,
    /** The slowest gets: `{ k, node, at, took, code }`, slowest first (SLOWEST_KEPT of them). */
    slowest: [],
    /** When the faulty peer was seen off every ring (performance.now()), if it was. */
    mark: undefined,
    /** The slowest get sent after `mark`: `{ k, node, at, took, code }`. */
    slowestAfterMark: undefined,
    /** Load workers that have started a get in this phase. */
    workersIn: 0,
    events: [],
    counters: undefined,
  }
}

/** The code of a failed get: a burrow error's code (the first word of the reply), else the error's name. */
function errorCode(err) {
  const message = String(err?.message ?? err)
  if (err?.name === 'ReplyError') return message.split(' ', 1)[0]
  return `${err?.name ?? 'Error'}: ${message.slice(0, 60)}`
}

/** Starts a node in a child process; resolves with its handle and peer id. */
async function startNode(params, name) {
  const child = startChild('chaos-node.mjs', { name })
  const self = await child.call('start', params, CAP_MS)
  return { child, self }
}

/** Each node's stats (the nodes must all be running, none frozen). */
function allStats(nodes) {
  return Promise.all(nodes.map((n) => n.child.call('stats', {}, CAP_MS)))
}

/** Sums of the nodes' counters, by child handle, so a restarted node counts from zero. */
async function snapshot(nodes) {
  const stats = await allStats(nodes)
  return new Map(nodes.map((n, i) => [n.child, stats[i]]))
}

/** What the nodes did between two snapshots (a node missing from `before` started in between). */
function countersBetween(before, after) {
  const sum = {
    loaderCalls: 0,
    fallbackLoads: 0,
    peerErrors: 0,
    handoffHits: 0,
    handoffMisses: 0,
    localLoadErrors: 0,
  }
  for (const [child, s] of after) {
    const b = before.get(child)
    sum.loaderCalls += s.loaderCalls - (b?.loaderCalls ?? 0)
    for (const k of ['fallbackLoads', 'peerErrors', 'handoffHits', 'handoffMisses', 'localLoadErrors'])
      sum[k] += s.ns[k] - (b?.ns[k] ?? 0)
  }
  return sum
}

/**
 * Milliseconds from `started` until `test(ring)` holds for every node's ring, polling every
 * POLL_MS; `undefined` when it did not within `capMs` (reported, not fatal).
 */
async function ringsWhere(nodes, test, capMs, started = performance.now()) {
  const deadline = started + capMs
  while (performance.now() < deadline) {
    const stats = await allStats(nodes)
    if (stats.every((s) => test(s.peers))) return performance.now() - started
    await sleep(POLL_MS)
  }
  return undefined
}

/** A TCP server on loopback that accepts every connection and never writes a byte. */
async function startBlackHole() {
  const sockets = new Set()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.resume() // reads and drops whatever comes
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, resolve)
  })
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  let closed = false
  return {
    id: `http://${HOST}:${port}`,
    connections: () => sockets.size,
    /** Closes the server and every connection it accepted; capped. */
    async close() {
      if (closed) return
      closed = true
      const done = new Promise((resolve) => server.close(resolve))
      for (const socket of sockets) socket.destroy()
      await Promise.race([done, sleep(CAP_MS)])
    },
  }
}

/**
 * The load: `CONNECTIONS_PER_NODE` ioredis clients (default options) per node, each with
 * `IN_FLIGHT_PER_CONNECTION` gets in flight, uniform random keys (seeded). Every reply checked.
 */
function startLoad(nodes, state) {
  const clients = []
  const connectionErrors = new Map()
  for (let n = 0; n < nodes.length; n++) {
    const port = Number(new URL(nodes[n].self).port)
    for (let c = 0; c < CONNECTIONS_PER_NODE; c++) {
      const client = new Redis({ host: HOST, port })
      // ioredis reconnects by itself; its errors are counted here, not printed.
      client.on('error', (err) => {
        const code = errorCode(err)
        connectionErrors.set(code, (connectionErrors.get(code) ?? 0) + 1)
      })
      clients.push({ client, node: n })
    }
  }
  const workers = []
  state.workers = clients.length * IN_FLIGHT_PER_CONNECTION
  for (const [c, { client, node }] of clients.entries()) {
    for (let w = 0; w < IN_FLIGHT_PER_CONNECTION; w++) {
      const random = seededRandom(1 + c * IN_FLIGHT_PER_CONNECTION + w)
      workers.push(
        (async () => {
          let last
          for (
            let i = 0;
            state.running && i < MAX_GETS_PER_WORKER && performance.now() < state.deadline;
            i++
          ) {
            const k = Math.floor(random() * KEYS)
            const phase = state.phase
            if (phase !== last) {
              last = phase
              phase.workersIn++
            }
            let code
            const throughFaulted = phase.faulted === node
            const t0 = performance.now()
            try {
              const value = await client.call('BURROW.GET', NAMESPACE, keys[k])
              if (value !== expected[k]) {
                phase.wrong++
                if (phase.wrongExamples.length < 5)
                  phase.wrongExamples.push(
                    `${keys[k]} through node ${node}: ${JSON.stringify(value)?.slice(0, 80)}`,
                  )
              }
            } catch (err) {
              code = errorCode(err)
              phase.failed.set(code, (phase.failed.get(code) ?? 0) + 1)
              if (throughFaulted) phase.failedThroughFaulted++
            }
            recordTime(phase, { k, node, t0, took: performance.now() - t0, code }, throughFaulted)
          }
        })(),
      )
    }
  }
  return {
    connectionErrors,
    /** Stops the load: waits for the gets in flight (capped), then drops the connections. */
    async stop() {
      state.running = false
      await Promise.race([Promise.all(workers), sleep(CAP_MS)])
      for (const { client } of clients) client.disconnect()
    },
  }
}

/** Files one get's time under its phase: percentiles, slow gets, the slowest ones. */
function recordTime(phase, get, throughFaulted) {
  const { t0, took } = get
  const entry = { ...get, at: t0 - phase.startedAt }
  phase.gets++
  phase.latencies.push(took)
  if (took >= SLOW_MS) phase.slow++
  if (throughFaulted) phase.maxThroughFaulted = Math.max(phase.maxThroughFaulted, took)
  else phase.maxThroughOthers = Math.max(phase.maxThroughOthers, took)
  const afterMark = phase.mark !== undefined && t0 >= phase.mark
  if (afterMark && (phase.slowestAfterMark === undefined || took > phase.slowestAfterMark.took))
    phase.slowestAfterMark = entry
  if (phase.slowest.length < SLOWEST_KEPT || took > phase.slowest[SLOWEST_KEPT - 1].took) {
    phase.slowest.push(entry)
    phase.slowest.sort((a, b) => b.took - a.took)
    phase.slowest.length = Math.min(phase.slowest.length, SLOWEST_KEPT)
  }
}

function summary(latencies) {
  const sorted = Float64Array.from(latencies).sort()
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] }
}

/**
 * The lines of one phase. `names` maps a peer id to a name; `owners` gives each key's owner (a
 * peer id) on the ring that phase starts with.
 */
function phaseLines(phase, faultedName, names, owners) {
  const seconds = (phase.endedAt - phase.startedAt) / 1000
  const { p50, p99, max } = summary(phase.latencies)
  let failed = 0
  for (const n of phase.failed.values()) failed += n
  const longest =
    phase.faulted === undefined
      ? `longest ${ms(max)}`
      : `longest ${ms(phase.maxThroughOthers)} through the other nodes, ${ms(phase.maxThroughFaulted)} through the ${faultedName} node`
  const c = phase.counters
  const lines = [
    `${phase.name.padEnd(10)} ${seconds.toFixed(1).padStart(5)} s: ${int(phase.gets)} gets, ` +
      `${int(failed)} failed, ${int(phase.wrong)} wrong; p50 ${ms(p50)}, p99 ${ms(p99)}, ${longest}, ` +
      `${int(phase.slow)} took >= ${SLOW_MS / 1000} s`,
    `             nodes: ${int(c.fallbackLoads)} fallback loads, ${int(c.peerErrors)} peer errors, ` +
      `${int(c.handoffHits)} of ${int(c.handoffHits + c.handoffMisses)} hand-off asks hit, ${int(c.loaderCalls)} loader calls` +
      (c.localLoadErrors > 0 ? `, ${int(c.localLoadErrors)} loader errors` : ''),
  ]
  for (const event of phase.events) lines.push(`             ${event}`)
  if (failed > 0) {
    const codes = [...phase.failed].map(([code, n]) => `${code} x${int(n)}`).join(', ')
    const where =
      phase.faulted === undefined
        ? ''
        : ` (${int(phase.failedThroughFaulted)} through the ${faultedName} node)`
    lines.push(`             failed${where}: ${codes}`)
  }
  const get = (g) =>
    `${keys[g.k]} (owner ${names(owners[g.k])}) through node ${g.node}, sent at +${ms(g.at)}, took ${ms(g.took)}` +
    (g.code === undefined ? '' : `, failed ${g.code}`)
  const slowest = phase.slowest.filter((g) => g.took >= SLOW_MS).map(get)
  if (slowest.length > 0) lines.push(`             slowest: ${slowest.join('; ')}`)
  if (phase.mark !== undefined && phase.slowestAfterMark !== undefined)
    lines.push(
      `             slowest get sent once the faulty peer was off every ring (+${ms(phase.mark - phase.startedAt)}): ` +
        get(phase.slowestAfterMark),
    )
  for (const w of phase.wrongExamples) lines.push(`             WRONG VALUE: ${w}`)
  return lines
}

async function run() {
  const phases = []
  const started = await Promise.all(Array.from({ length: NODES }, (_, i) => startNode({}, `node-${i}`)))
  const nodes = [...started]
  const peers = nodes.map((n) => n.self)
  await Promise.all(nodes.map((n) => n.child.call('setPeers', { peers }, CAP_MS)))
  const hole = await startBlackHole()
  const nameOf = new Map(peers.map((p, i) => [p, `node ${i}`]))
  nameOf.set(hole.id, 'the black hole')
  const names = (peer) => nameOf.get(peer) ?? peer
  /** Each key's owner on the ring each phase starts with. */
  const ownersAtStart = new Map()
  const ringOwners = await nodes[0].child.call('owners', { keys }, CAP_MS)

  const state = { running: true, deadline: performance.now() + PLAN.runCapMs, phase: newPhase('warm-up') }
  const load = startLoad(nodes, state)
  let before = await snapshot(nodes)
  /**
   * Ends the current phase (its counters from the nodes) and starts `next`, if any; then waits
   * until every load worker has sent a get in it (capped), so that the gets a fault catches in
   * flight are filed under the fault's phase.
   */
  const switchTo = async (next) => {
    const after = await snapshot(nodes)
    state.phase.endedAt = performance.now()
    state.phase.counters = countersBetween(before, after)
    phases.push(state.phase)
    before = after
    if (next === undefined) return
    state.phase = next
    ownersAtStart.set(next, ringOwners)
    const deadline = performance.now() + CAP_MS
    while (next.workersIn < state.workers && performance.now() < deadline) await sleep(5)
    if (next.workersIn < state.workers)
      next.events.push(
        `${state.workers - next.workersIn} of ${state.workers} load workers had sent no get when the fault came`,
      )
  }
  ownersAtStart.set(state.phase, ringOwners)
  const full = (ring) => peers.every((p) => ring.includes(p))
  try {
    await sleep(PLAN.warmupMs)
    await switchTo(newPhase('steady'))
    await sleep(PLAN.steadyMs)

    // Kill: SIGKILL, then started again on the same address at once, as a supervisor would.
    const victim = 1
    await switchTo(newPhase('kill', victim))
    const kill = state.phase
    const old = nodes[victim]
    const t0 = performance.now()
    old.child.proc.kill('SIGKILL')
    await Promise.race([old.child.exitPromise, sleep(CAP_MS)])
    nodes[victim] = await startNode({ self: old.self, peers }, `node-${victim}-again`)
    kill.events.push(`node ${victim} killed; started again and listening after ${ms(performance.now() - t0)}`)
    const back = await ringsWhere(nodes, full, CAP_MS, t0)
    kill.events.push(
      back === undefined
        ? `the rings were NOT all whole again within ${CAP_MS / 1000} s`
        : `every ring whole again after ${ms(back)} from the kill`,
    )
    await sleep(PLAN.afterMs)

    // Freeze: SIGSTOP, held, SIGCONT (the node answers nothing meanwhile, not even IPC).
    const sleeper = 2
    await switchTo(newPhase('freeze', sleeper))
    const freeze = state.phase
    const frozen = nodes[sleeper]
    const awake = nodes.filter((n) => n !== frozen)
    frozen.child.proc.kill('SIGSTOP')
    frozen.stopped = true
    const t1 = performance.now()
    // Only the nodes awake are asked: a stopped process does not answer IPC either.
    const off = await ringsWhere(awake, (ring) => !ring.includes(frozen.self), PLAN.freezeMs, t1)
    if (off !== undefined) freeze.mark = t1 + off
    await sleep(Math.max(0, t1 + PLAN.freezeMs - performance.now()))
    frozen.child.proc.kill('SIGCONT')
    frozen.stopped = false
    freeze.events.push(
      `node ${sleeper} stopped for ${ms(performance.now() - t1)}, then continued; ` +
        (off === undefined ? 'it was still on the other rings then' : `off the other rings after ${ms(off)}`),
    )
    const thawed = await ringsWhere(nodes, full, CAP_MS)
    freeze.events.push(
      thawed === undefined
        ? `the rings were NOT all whole again within ${CAP_MS / 1000} s of SIGCONT`
        : `every ring whole again ${ms(thawed)} after SIGCONT`,
    )
    await sleep(PLAN.afterMs)

    // Black hole: a peer that accepts and never answers, on every node's list, held, removed.
    await switchTo(newPhase('black hole'))
    const blackHole = state.phase
    const withHole = [...peers, hole.id]
    const t2 = performance.now()
    await Promise.all(nodes.map((n) => n.child.call('setPeers', { peers: withHole }, CAP_MS)))
    // The owners on the ring with the black hole: what the phase's slowest gets are read against.
    ownersAtStart.set(blackHole, await nodes[0].child.call('owners', { keys }, CAP_MS))
    const dropped = await ringsWhere(nodes, (ring) => !ring.includes(hole.id), PLAN.holeMs, t2)
    if (dropped !== undefined) blackHole.mark = t2 + dropped
    blackHole.events.push(
      dropped === undefined
        ? `black hole added to every peer list; still on some ring after ${PLAN.holeMs / 1000} s`
        : `black hole added to every peer list; off every ring after ${ms(dropped)}`,
    )
    await sleep(Math.max(0, t2 + PLAN.holeMs - performance.now()))
    blackHole.events.push(
      `${hole.connections()} connections open to it when it was removed, ${ms(performance.now() - t2)} after it was added`,
    )
    await Promise.all(nodes.map((n) => n.child.call('setPeers', { peers }, CAP_MS)))
    await sleep(PLAN.afterMs)
    blackHole.events.push(
      `${hole.connections()} connections open to it ${ms(PLAN.afterMs)} after it was removed`,
    )
    await switchTo(undefined)
    await load.stop()
    return { phases, connectionErrors: load.connectionErrors, names, ownersAtStart }
  } finally {
    await load.stop()
    for (const n of nodes) if (n.stopped) n.child.proc.kill('SIGCONT')
    await Promise.all(nodes.map((n) => n.child.kill()))
    await hole.close()
  }
}

try {
  console.log(
    `chaos under load${QUICK ? ' (quick)' : ''}: ${NODES} nodes in child processes, default options, ` +
      `namespace with default options and a ~1 ms loader; ${int(KEYS)} keys, uniform; ioredis (default options), ` +
      `${CONNECTIONS_PER_NODE} connections per node x ${IN_FLIGHT_PER_CONNECTION} BURROW.GET in flight; ` +
      `node ${process.version}, ${cpus().length} cpus, ${new Date().toISOString()}`,
  )
  const { phases, connectionErrors, names, ownersAtStart } = await run()
  const faultedNames = { kill: 'killed', freeze: 'frozen' }
  for (const phase of phases)
    for (const line of phaseLines(phase, faultedNames[phase.name], names, ownersAtStart.get(phase)))
      console.log(line)
  if (connectionErrors.size > 0) {
    const list = [...connectionErrors].map(([code, n]) => `${code} x${n}`).join(', ')
    console.log(`ioredis connection errors (it reconnects by itself): ${list}`)
  }
  const wrong = phases.reduce((sum, p) => sum + p.wrong, 0)
  let failed = 0
  for (const p of phases) for (const n of p.failed.values()) failed += n
  const gets = phases.reduce((sum, p) => sum + p.gets, 0)
  console.log(`total: ${int(gets)} gets, ${int(failed)} failed, ${int(wrong)} wrong values`)
  clearTimeout(runCap)
  if (wrong > 0) {
    console.error(`chaos bench: ${wrong} WRONG VALUES: a correctness bug`)
    process.exit(1)
  }
  process.exit(0)
} catch (err) {
  console.error('chaos bench failed:', err)
  await killAllChildren()
  process.exit(2)
}
