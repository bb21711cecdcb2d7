/**
 * Scenarios `server-get` and `server-get-p16`: a burrow node's RESP server as a client in another
 * language sees it, driven by redis-benchmark (Debian's `redis-tools`, a C client), beside
 * redis-server driven the same way.
 *
 * burrow: one node in a child process, alone on its ring, namespace `test` with the hot cache off,
 * holding 10,000 keys of 1 KB (prewarmed: every `BURROW.GET` is a hit). redis-server: the same
 * keys and values, written with `SET`. Keys are `k` and 12 digits, the form redis-benchmark gives
 * `k__rand_int__` with `-r 10000`. Each trial runs `redis-benchmark -c 64 -n N -r 10000 [-P 16]`
 * with `BURROW.GET test k__rand_int__` against the node, then `GET k__rand_int__` against
 * redis-server; trials alternate so machine noise falls on both. The figure is the median of the
 * trials' requests per second; ratio = burrow / redis-server.
 *
 * Reference rows, no bar: `server-minimal-node` and `server-minimal-node-p16` run the same
 * redis-benchmark against the least a Node server can be (bench/children/minimal-resp-server.mjs:
 * one constant 1 KB reply per command, nothing looked up), in the same trials: what Node's sockets
 * and event loop allow on this machine, so how far `server-get`'s bar is reachable in Node at all.
 * `server-minimal-node-strings` and `-p16`: the same least server, but answering each command
 * with its key's value, one of the 10,000 distinct 1 KB strings the node holds, written as a
 * string: Node's floor plus what serving distinct string values out of the CPU's caches costs,
 * with no lookup by key text and no bookkeeping.
 *
 * @module
 */
import { spawnSync } from 'node:child_process'
import { startChild } from '../lib/child.mjs'
import { median } from '../lib/measure.mjs'
import { runRedisBenchmark, startRedis } from '../lib/redis.mjs'
import { makeRow, ratioAtLeast, skippedRow } from '../lib/report.mjs'

export const group = 'redis-benchmark'
export const names = [
  'server-get',
  'server-get-p16',
  'server-minimal-node',
  'server-minimal-node-p16',
  'server-minimal-node-strings',
  'server-minimal-node-strings-p16',
]
export const needsRedis = true

const CALL_MS = 60_000
/** One redis-benchmark run is killed (by its PID, as our child) past this. */
const RUN_MS = 60_000
const KEYS = 10_000
const VALUE_BYTES = 1024
const ANCHOR = 'redis-benchmark GET -> redis-server'

/** The key redis-benchmark makes of `k__rand_int__` for the number `i` (12 digits, zero-padded). */
function benchKey(i) {
  return `k${String(i).padStart(12, '0')}`
}

/** @param {{ quick: boolean, log: (s: string) => void, selected: (n: string) => boolean, redis: { path?: string, skipped?: string } }} ctx */
export async function run(ctx) {
  const cases = [
    {
      name: 'server-get',
      minimal: 'server-minimal-node',
      strings: 'server-minimal-node-strings',
      pipeline: 1,
      requests: ctx.quick ? 20_000 : 200_000,
      bar: ratioAtLeast(1.0),
    },
    {
      name: 'server-get-p16',
      minimal: 'server-minimal-node-p16',
      strings: 'server-minimal-node-strings-p16',
      pipeline: 16,
      requests: ctx.quick ? 50_000 : 1_200_000,
      bar: ratioAtLeast(0.8),
    },
  ].filter((c) => ctx.selected(c.name) || ctx.selected(c.minimal) || ctx.selected(c.strings))
  const tool = findRedisBenchmark()
  const skipped =
    ctx.redis.skipped ?? (tool === undefined ? 'redis-benchmark missing (Debian redis-tools)' : undefined)
  if (skipped !== undefined || ctx.redis.path === undefined || tool === undefined) {
    ctx.log(`  skipped: ${skipped}`)
    return Object.fromEntries(
      cases.flatMap((c) => [
        [c.name, skippedRow('req/s', c.bar, skipped, ANCHOR)],
        [c.minimal, skippedRow('req/s', undefined, skipped, ANCHOR)],
        [c.strings, skippedRow('req/s', undefined, skipped, ANCHOR)],
      ]),
    )
  }
  const params = {
    keys: KEYS,
    valueBytes: VALUE_BYTES,
    connections: 64,
    trials: ctx.quick ? 1 : 5,
    hot: false,
  }
  const children = []
  let redis
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => benchKey(i))
    const node = startChild('burrow-node.mjs', { name: 'server' })
    children.push(node)
    const self = await node.call('start', { valueBytes: VALUE_BYTES })
    await node.call('setPeers', { peers: [self] })
    await node.call('prewarm', { keys }, CALL_MS)
    const burrowPort = Number(new URL(self).port)

    redis = await startRedis(ctx.redis.path)
    const client = startChild('redis-client.mjs', { name: 'redis-prefill' })
    children.push(client)
    const size = await client.call('prefill', { port: redis.port, keys, valueBytes: VALUE_BYTES }, CALL_MS)
    if (size !== KEYS) throw new Error(`redis holds ${size} keys, expected ${KEYS}`)
    await client.kill()
    const minimal = startChild('minimal-resp-server.mjs', { name: 'minimal-node' })
    children.push(minimal)
    const minimalPort = await minimal.call('start', { valueBytes: VALUE_BYTES })
    let stringsPort
    if (cases.some((c) => ctx.selected(c.strings))) {
      const strings = startChild('minimal-resp-server.mjs', { name: 'minimal-node-strings' })
      children.push(strings)
      const options = { valueBytes: VALUE_BYTES, strings: true, keys: KEYS }
      stringsPort = await strings.call('start', options, CALL_MS)
    }
    ctx.log(`  burrow node ${self}, redis-server pid ${redis.pid} on port ${redis.port}; ${tool}`)

    // JIT warm-up of the node and of the least Node servers, unmeasured.
    const warmUp = ['-c', '64', '-n', ctx.quick ? '20000' : '100000', '-r', String(KEYS), '-P', '16']
    bench(tool, burrowPort, [...warmUp, 'BURROW.GET', 'test', 'k__rand_int__'])
    bench(tool, minimalPort, [...warmUp, 'GET', 'k__rand_int__'])
    if (stringsPort !== undefined) bench(tool, stringsPort, [...warmUp, 'GET', 'k__rand_int__'])
    const out = {}
    for (const c of cases) {
      const args = ['-c', '64', '-n', String(c.requests), '-r', String(KEYS), '-P', String(c.pipeline)]
      const burrowRps = []
      const redisRps = []
      const minimalRps = []
      const stringsRps = []
      for (let t = 0; t < params.trials; t++) {
        burrowRps.push(bench(tool, burrowPort, [...args, 'BURROW.GET', 'test', 'k__rand_int__']))
        redisRps.push(bench(tool, redis.port, [...args, 'GET', 'k__rand_int__']))
        if (ctx.selected(c.minimal))
          minimalRps.push(bench(tool, minimalPort, [...args, 'GET', 'k__rand_int__']))
        if (ctx.selected(c.strings))
          stringsRps.push(bench(tool, stringsPort, [...args, 'GET', 'k__rand_int__']))
        ctx.log(
          `  ${c.name} trial ${t + 1}: burrow ${fmt(burrowRps.at(-1))}, redis-server ${fmt(redisRps.at(-1))}` +
            (minimalRps.length > 0 ? `, minimal Node server ${fmt(minimalRps.at(-1))}` : '') +
            (stringsRps.length > 0 ? `, minimal with values ${fmt(stringsRps.at(-1))}` : ''),
        )
      }
      const b = median(burrowRps.map((r) => r.rps))
      const r = median(redisRps.map((x) => x.rps))
      /** A reference row (no bar) for one of the minimal servers. */
      const referenceRow = (trials, server, note) => {
        const m = median(trials.map((x) => x.rps))
        return makeRow({
          burrow: m,
          anchor: r,
          ratio: m / r,
          unit: 'ops/s',
          anchorName: ANCHOR,
          params: {
            ...params,
            pipeline: c.pipeline,
            requestsPerTrial: c.requests,
            server,
            minimalTrials: trials,
            redisTrials: redisRps,
          },
          note,
        })
      }
      if (ctx.selected(c.name)) {
        out[c.name] = makeRow({
          burrow: b,
          anchor: r,
          ratio: b / r,
          unit: 'ops/s',
          bar: c.bar,
          anchorName: ANCHOR,
          params: {
            ...params,
            pipeline: c.pipeline,
            requestsPerTrial: c.requests,
            command: `redis-benchmark ${args.join(' ')} BURROW.GET test k__rand_int__ | GET k__rand_int__`,
            burrowTrials: burrowRps,
            redisTrials: redisRps,
          },
          note: `p99 burrow ${median(burrowRps.map((x) => x.p99Ms)).toFixed(2)} ms, redis-server ${median(redisRps.map((x) => x.p99Ms)).toFixed(2)} ms`,
        })
      }
      if (minimalRps.length > 0)
        out[c.minimal] = referenceRow(
          minimalRps,
          'bench/children/minimal-resp-server.mjs: a constant 1 KB reply per command, no lookup',
          `the least a Node server can be, against redis-server (${c.name}'s ceiling)`,
        )
      if (stringsRps.length > 0)
        out[c.strings] = referenceRow(
          stringsRps,
          "bench/children/minimal-resp-server.mjs with strings: each key's own 1 KB string value, by its number",
          `the least Node server serving the node's values as strings, against redis-server`,
        )
    }
    // Every get was a hit on the node: nothing was loaded after the prewarm.
    const stats = (await node.call('stats')).namespaces.test
    if (stats.loads !== KEYS)
      throw new Error(`the node loaded ${stats.loads} keys, expected only the ${KEYS} prewarmed`)
    return out
  } finally {
    await Promise.all(children.map((c) => c.kill()))
    await redis?.stop()
  }
}

/** One redis-benchmark run of `tool` against `port`, killed past {@link RUN_MS}. */
function bench(tool, port, args) {
  return runRedisBenchmark(port, args, { tool, timeoutMs: RUN_MS })
}

/** The path of redis-benchmark, or `undefined`. */
function findRedisBenchmark() {
  const which = spawnSync('sh', ['-c', 'command -v redis-benchmark'], { encoding: 'utf8' })
  const path = which.stdout?.trim()
  return which.status === 0 && path ? path : undefined
}

function fmt(r) {
  return `${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`
}
