/**
 * Scenarios `remote-get-throughput`, `remote-get-p99` and `remote-get-http`: reads of 1 KB values
 * that live on another node, 64 requests in flight.
 *
 * burrow: two nodes in separate child processes, hot cache off. 10k keys owned by the owner node
 * are prewarmed there; the reading node's own `ns.get` (in the process embedding it) drives the
 * load, so every get is one hop reading node -> owner. Anchor: ioredis GET against a
 * redis-server started here, holding the same keys and values, same concurrency, from a child
 * process of its own. Trials alternate burrow / Redis to spread machine noise over both; the
 * figures are medians of the trials. `remote-get-http` measures the seed HTTP route of the owner
 * directly (node:http, keep-alive) for reference, with no bar. `remote-get-busy-poll` and
 * `remote-get-busy-poll-p99`: the same with `busyPollMicros: 100` on both nodes (a second pair,
 * its trials between burrow's and Redis's).
 *
 * @module
 */
import { startChild } from '../lib/child.mjs'
import { median } from '../lib/measure.mjs'
import { startRedis } from '../lib/redis.mjs'
import { makeRow, ratioAtLeast, skippedRow } from '../lib/report.mjs'

export const group = 'remote-get'
export const names = [
  'remote-get-throughput',
  'remote-get-p99',
  'remote-get-busy-poll',
  'remote-get-busy-poll-p99',
  'remote-get-http',
]
export const needsRedis = true

const CALL_MS = 60_000
/** `busyPollMicros` of the second pair (`remote-get-busy-poll`). */
const BUSY_POLL_MICROS = 100

/** @param {{ quick: boolean, log: (s: string) => void, selected: (n: string) => boolean, redis: { path?: string, skipped?: string } }} ctx */
export async function run(ctx) {
  const params = {
    keys: ctx.quick ? 2_000 : 10_000,
    valueBytes: 1024,
    concurrency: 64,
    trials: ctx.quick ? 1 : 5,
    maxOpsPerTrial: ctx.quick ? 100_000 : 1_000_000,
    maxMsPerTrial: ctx.quick ? 1_000 : 3_000,
    warmupOps: ctx.quick ? 2_000 : 100_000,
    hot: false,
    redisClient: 'ioredis, 1 connection, default options',
    statistic: 'median of trials',
  }
  const children = []
  let redis
  try {
    const owner = startChild('burrow-node.mjs', { name: 'owner' })
    const reader = startChild('burrow-node.mjs', { name: 'reader' })
    children.push(owner, reader)
    const { keys, ownerSelf } = await startCluster(owner, reader, params)
    ctx.log(`  ${keys.length} keys owned by ${ownerSelf}, prewarmed there`)
    let polling
    if (ctx.selected('remote-get-busy-poll') || ctx.selected('remote-get-busy-poll-p99')) {
      const pollOwner = startChild('burrow-node.mjs', { name: 'polling-owner' })
      const pollReader = startChild('burrow-node.mjs', { name: 'polling-reader' })
      children.push(pollOwner, pollReader)
      const nodeOptions = { busyPollMicros: BUSY_POLL_MICROS }
      const pair = await startCluster(pollOwner, pollReader, params, nodeOptions)
      polling = { owner: pollOwner, reader: pollReader, keys: pair.keys }
      ctx.log(
        `  and a pair with busyPollMicros ${BUSY_POLL_MICROS}: ${pair.keys.length} keys on ${pair.ownerSelf}`,
      )
    }

    let redisClient
    if (ctx.redis.path !== undefined) {
      redis = await startRedis(ctx.redis.path)
      ctx.log(`  redis-server pid ${redis.pid} on port ${redis.port}`)
      redisClient = startChild('redis-client.mjs', { name: 'redis-client' })
      children.push(redisClient)
      const size = await redisClient.call(
        'prefill',
        { port: redis.port, keys, valueBytes: params.valueBytes },
        CALL_MS,
      )
      if (size !== keys.length) throw new Error(`redis holds ${size} keys, expected ${keys.length}`)
    }

    const load = { keys, ...pick(params, 'concurrency', 'valueBytes', 'warmupOps') }
    load.maxOps = params.maxOpsPerTrial
    load.maxMs = params.maxMsPerTrial
    const burrowTrials = []
    const pollingTrials = []
    const redisTrials = []
    for (let t = 0; t < params.trials; t++) {
      const b = await reader.call('load', load, CALL_MS)
      burrowTrials.push(b)
      ctx.log(`  trial ${t + 1} burrow: ${describe(b)}; peer loads ${b.check.peerLoads}`)
      if (polling !== undefined) {
        const p = await polling.reader.call('load', { ...load, keys: polling.keys }, CALL_MS)
        pollingTrials.push(p)
        const spins = p.busyPoll
        ctx.log(
          `  trial ${t + 1} burrow polling: ${describe(p)}; reader spins ${spins.spins}, in vain ${spins.vain}`,
        )
      }
      if (redisClient !== undefined) {
        const r = await redisClient.call('load', load, CALL_MS)
        redisTrials.push(r)
        ctx.log(`  trial ${t + 1} ioredis: ${describe(r)}`)
      }
    }

    let http
    if (ctx.selected('remote-get-http')) {
      const client = startChild('http-client.mjs', { name: 'http-client' })
      children.push(client)
      http = await client.call('load', { ...load, base: ownerSelf, namespace: 'test' }, CALL_MS)
      ctx.log(`  HTTP route on the owner: ${describe(http)}`)
    }
    const ownerPolls = polling && (await polling.owner.call('stats')).busyPoll
    return rows(
      ctx,
      params,
      summarize(burrowTrials),
      redisTrials.length ? summarize(redisTrials) : undefined,
      http,
      burrowTrials,
      pollingTrials.length
        ? { ...summarize(pollingTrials), readerPolls: pollingTrials.at(-1).busyPoll, ownerPolls }
        : undefined,
    )
  } finally {
    await Promise.all(children.map((c) => c.kill()))
    await redis?.stop()
  }
}

/** Starts both nodes, joins them, picks keys the owner owns and prewarms them on the owner. */
async function startCluster(owner, reader, params, nodeOptions = {}) {
  const ownerSelf = await owner.call('start', { valueBytes: params.valueBytes, nodeOptions })
  const readerSelf = await reader.call('start', { valueBytes: params.valueBytes, nodeOptions })
  const peers = [ownerSelf, readerSelf]
  await owner.call('setPeers', { peers })
  await reader.call('setPeers', { peers })
  const keys = await reader.call('pickRemoteKeys', { count: params.keys, owner: ownerSelf })
  await owner.call('prewarm', { keys }, CALL_MS)
  return { keys, ownerSelf }
}

/** Medians over trials. */
function summarize(trials) {
  return {
    opsPerSec: median(trials.map((t) => t.opsPerSec)),
    p50Ms: median(trials.map((t) => t.p50Ms)),
    p99Ms: median(trials.map((t) => t.p99Ms)),
    trialsOpsPerSec: trials.map((t) => Math.round(t.opsPerSec)),
    trialsP99Ms: trials.map((t) => round3(t.p99Ms)),
  }
}

function rows(ctx, params, b, r, http, burrowTrials, polling) {
  const out = {}
  const anchorName = 'ioredis GET -> redis-server'
  const skipped = ctx.redis.skipped
  const shared = {
    ...params,
    burrow: { ...b, p50Ms: round3(b.p50Ms), p99Ms: round3(b.p99Ms) },
    ioredis: r && { ...r, p50Ms: round3(r.p50Ms), p99Ms: round3(r.p99Ms) },
    readerCheck: burrowTrials.at(-1).check,
    readerPeerClient: burrowTrials.at(-1).peerClient,
    httpRouteOpsPerSec: http && Math.round(http.opsPerSec),
  }
  /** Row `name` of the nodes' trial `b` against ioredis's (skipped without it); `value` reads either. */
  const rowAgainstRedis = (name, b, { bar, unit, value, ratio, params, note }) => {
    if (!ctx.selected(name)) return
    out[name] = r
      ? makeRow({ burrow: value(b), anchor: value(r), ratio, unit, bar, anchorName, params, note })
      : skippedRow(unit, bar, skipped, anchorName, value(b))
  }
  /** The throughput and p99 rows of one pair of nodes (`b`), against ioredis. */
  const pairRows = (names, b, params, notes) => {
    rowAgainstRedis(names[0], b, {
      bar: ratioAtLeast(3.0),
      unit: 'ops/s',
      value: (t) => t.opsPerSec,
      ratio: r && b.opsPerSec / r.opsPerSec,
      params,
      note: notes.throughput,
    })
    rowAgainstRedis(names[1], b, {
      bar: ratioAtLeast(1.0),
      unit: 'ms',
      value: (t) => t.p99Ms,
      ratio: r && r.p99Ms / b.p99Ms, // lower latency is better: >1 means burrow's p99 is lower
      params,
      note: r && notes.p99(b, r),
    })
  }
  pairRows(['remote-get-throughput', 'remote-get-p99'], b, shared, {
    p99: (b, r) =>
      `p50 burrow ${b.p50Ms.toFixed(2)} ms, ioredis ${r.p50Ms.toFixed(2)} ms; ratio = ioredis p99 / burrow p99`,
  })
  if (polling !== undefined) {
    const note = `busyPollMicros ${BUSY_POLL_MICROS} on both nodes`
    const params2 = {
      ...shared,
      busyPollMicros: BUSY_POLL_MICROS,
      burrow: { ...polling, p50Ms: round3(polling.p50Ms), p99Ms: round3(polling.p99Ms) },
      burrowDefault: shared.burrow,
    }
    pairRows(['remote-get-busy-poll', 'remote-get-busy-poll-p99'], polling, params2, {
      throughput: `${note}; against burrow without: ${(polling.opsPerSec / b.opsPerSec).toFixed(2)}x`,
      p99: (p) => `${note}; p50 ${p.p50Ms.toFixed(2)} ms; ratio = ioredis p99 / burrow p99`,
    })
  }
  if (http !== undefined) {
    out['remote-get-http'] = makeRow({
      burrow: http.opsPerSec,
      anchor: r ? r.opsPerSec : null,
      ratio: r ? http.opsPerSec / r.opsPerSec : null,
      unit: 'ops/s',
      anchorName,
      params: {
        ...pick(params, 'keys', 'valueBytes', 'concurrency', 'maxMsPerTrial'),
        client: 'node:http keep-alive agent, 64 sockets, against the owner directly',
        p50Ms: round3(http.p50Ms),
        p99Ms: round3(http.p99Ms),
      },
      note: `seed HTTP route, for reference: p50 ${http.p50Ms.toFixed(2)} ms, p99 ${http.p99Ms.toFixed(2)} ms`,
    })
  }
  return out
}

function describe(t) {
  return `${Math.round(t.opsPerSec)} ops/s, p50 ${t.p50Ms.toFixed(2)} ms, p99 ${t.p99Ms.toFixed(2)} ms (${t.ops} ops)`
}

function pick(obj, ...keys) {
  return Object.fromEntries(keys.map((k) => [k, obj[k]]))
}

function round3(x) {
  return Math.round(x * 1000) / 1000
}
