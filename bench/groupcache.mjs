#!/usr/bin/env node
/**
 * A remote get over golang/groupcache's protocol: `npm run bench:groupcache [-- --quick]`.
 *
 * One asking burrow node (this process) and one owner on loopback, three ways: a burrow owner
 * over RESP (the default, the anchor), a burrow owner over groupcache's protocol, and a Go
 * groupcache owner (test/support/groupcache-node). The owner holds every key already (warmed
 * first); the asker's hot cache is off, so every get is a fetch. Closed loop, 64 gets in flight,
 * 100-byte values, bounded in operations and time; three rounds each, median reported. A last row
 * is the floor under any HTTP/1.1 peer protocol in Node: a bare `node:http` keep-alive client (32
 * sockets) against a bare `node:http` server answering 100 bytes, in this same process. Go nodes
 * are stopped by their PIDs at the end.
 *
 * @module
 */
import { Agent, createServer, request } from 'node:http'
import { Burrow } from '../dist/index.js'
import { GoNode } from './lib/go-node.mjs'
import { closedLoop, median } from './lib/measure.mjs'
import { freePort } from './lib/net.mjs'

const quick = process.argv.includes('--quick')
const KEYS = 1000
const CONCURRENCY = 64
const ROUNDS = quick ? 1 : 3
const ROUND_MS = quick ? 1000 : 3000
const VALUE = 'v'.repeat(100)

/** Keys `k0…` that `asker`'s ring gives to `owner`. */
function keysOf(asker, owner) {
  const keys = []
  for (let i = 0; keys.length < KEYS && i < KEYS * 100; i++)
    if (asker.ownerOf(`k${i}`) === owner) keys.push(`k${i}`)
  return keys
}

/** `op(i)` in a closed loop, `ROUNDS` times: the median rate and latencies. */
async function rounds(name, op) {
  const each = []
  for (let r = 0; r < ROUNDS; r++) {
    each.push(await closedLoop({ concurrency: CONCURRENCY, maxOps: 2_000_000, maxMs: ROUND_MS, op }))
  }
  return {
    name,
    opsPerSec: median(each.map((r) => r.opsPerSec)),
    p50Ms: median(each.map((r) => r.p50Ms)),
    p99Ms: median(each.map((r) => r.p99Ms)),
  }
}

/** Gets of keys the owner holds, every one a fetch; fails if any get was not answered by the owner. */
async function remoteGets(name, { asker, ns, keys }) {
  for (const key of keys) await ns.get(key) // the owner loads and keeps every key
  const result = await rounds(name, (i) => ns.get(keys[i % keys.length]))
  const stats = asker.stats().namespaces.bench
  if (stats.fallbackLoads !== 0 || stats.peerErrors !== 0)
    throw new Error(`${name}: ${stats.peerErrors} peer errors`)
  return result
}

/** An asking node and a burrow owner, `protocol` between them. */
async function burrowPair(protocol) {
  const [a, b] = [await freePort(), await freePort()]
  const peers = [`http://127.0.0.1:${a}`, `http://127.0.0.1:${b}`]
  const options = { peers, protocol, liveness: false, ...(protocol === 'resp' ? { handoff: false } : {}) }
  const asker = new Burrow({ ...options, self: peers[0] })
  const owner = new Burrow({ ...options, self: peers[1] })
  const ns = asker.namespace('bench', { groupcacheValues: 'string', hot: false, load: () => VALUE })
  owner.namespace('bench', { groupcacheValues: 'string', load: () => VALUE })
  await Promise.all([asker.listen(), owner.listen()])
  return {
    asker,
    ns,
    keys: keysOf(asker, owner.self),
    close: () => Promise.all([asker.close(), owner.close()]),
  }
}

/** An asking node and a Go groupcache owner. */
async function goPair() {
  const [a, g] = [await freePort(), await freePort()]
  const peers = [`http://127.0.0.1:${a}`, `http://127.0.0.1:${g}`]
  const go = await GoNode.start({ port: g, peers, groups: ['bench'] })
  const asker = new Burrow({ self: peers[0], peers, protocol: 'groupcache', liveness: false })
  const ns = asker.namespace('bench', { groupcacheValues: 'string', hot: false, load: () => VALUE })
  await asker.listen()
  return {
    asker,
    ns,
    keys: keysOf(asker, go.self),
    close: async () => {
      await asker.close()
      await go.stop()
    },
  }
}

/** A bare node:http server and keep-alive client: the measuring stick for HTTP/1.1 here. */
async function bareHttp() {
  const server = createServer((_req, res) => res.end(VALUE))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  const get = () =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/x', agent, timeout: 10_000 }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('timeout', () => req.destroy(new Error('timed out')))
      req.on('error', reject)
      req.end()
    })
  try {
    return await rounds('bare node:http client -> server', get)
  } finally {
    agent.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
}

const results = []
for (const [name, make] of [
  ['burrow -> burrow, RESP (default)', () => burrowPair('resp')],
  ['burrow -> burrow, groupcache', () => burrowPair('groupcache')],
  ['burrow -> Go groupcache', goPair],
]) {
  const pair = await make()
  try {
    results.push(await remoteGets(name, pair))
  } finally {
    await pair.close()
  }
}
results.push(await bareHttp())
const anchor = results[0].opsPerSec
console.log(
  `remote get, ${CONCURRENCY} in flight, ${VALUE.length}-byte values, median of ${ROUNDS} × ${ROUND_MS} ms`,
)
for (const r of results) {
  console.log(
    `${r.name.padEnd(34)} ${Math.round(r.opsPerSec).toString().padStart(8)} ops/s  ${(r.opsPerSec / anchor).toFixed(2)}×  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`,
  )
}
