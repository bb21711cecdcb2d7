/**
 * A node for bench/membership.mjs: one burrow node in this process, namespace `m` with the hot
 * cache off and a loader that takes `loadDelayMs` and counts its calls. Driven over IPC
 * (bench/lib/child.mjs); imports the built package, so `npm run build` must have run.
 *
 * Commands: start, setPeers, readAll, stats, close.
 *
 * @module
 */
import { Burrow } from '../../dist/index.js'
import { serve } from '../lib/child.mjs'

/** @type {Burrow} */
let node
/** @type {import('../../dist/index.js').Namespace<string>} */
let ns
let loaderCalls = 0

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

serve({
  /**
   * Creates the node (default options, but `handoff` when given) and listens; `self` port 0
   * picks a free port. With `peers`, joins them once listening. Returns its peer id.
   * @param {{ self?: string, peers?: string[], handoff?: false, loadDelayMs: number }} p
   */
  async start(p) {
    node = new Burrow({
      self: p.self ?? 'http://127.0.0.1:0',
      ...(p.handoff === false ? { handoff: false } : {}),
    })
    ns = node.namespace('m', {
      hot: false,
      load: async (key) => {
        loaderCalls++
        if (p.loadDelayMs > 0) await sleep(p.loadDelayMs)
        return `value of ${key}`
      },
    })
    await node.listen()
    if (p.peers !== undefined) node.setPeers(p.peers)
    return node.self
  },

  setPeers({ peers }) {
    node.setPeers(peers)
    return node.peers
  },

  /**
   * Gets every key through this node, `concurrency` at a time (bounded by the key count and by
   * `maxMs`). Returns how many gets ran, failed, or returned a wrong value, and how long it took.
   * @param {{ keys: string[], concurrency: number, maxMs: number }} p
   */
  async readAll({ keys, concurrency, maxMs }) {
    const started = performance.now()
    const deadline = started + maxMs
    let next = 0
    let gets = 0
    let failed = 0
    let wrong = 0
    const worker = async () => {
      while (next < keys.length && performance.now() < deadline) {
        const key = keys[next++]
        gets++
        try {
          if ((await ns.get(key)) !== `value of ${key}`) wrong++
        } catch {
          failed++
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    return { gets, failed, wrong, ms: performance.now() - started }
  },

  /** The loader calls made here, the ring, and the namespace's counters. */
  stats() {
    return { loaderCalls, peers: node.peers, ns: node.stats().namespaces.m }
  },

  /** Leaves gracefully (`node.close()`, default timeout); returns how long it took. */
  async close() {
    const started = performance.now()
    await node.close()
    return performance.now() - started
  },
})
