/**
 * A node for bench/chaos.mjs: one burrow node in this process with default options, and
 * namespace `c` (default options too) whose loader takes about 1 ms and returns a value derived
 * from the key (`chaosValue`), so that the bench can tell a wrong value from the right one.
 * Driven over IPC (bench/lib/child.mjs); imports the built package, so `npm run build` must have
 * run.
 *
 * Commands: start, setPeers, owners, stats.
 *
 * @module
 */
import { Burrow } from '../../dist/index.js'
import { chaosValue } from '../lib/chaos-value.mjs'
import { serve } from '../lib/child.mjs'

/** @type {Burrow} */
let node
let loaderCalls = 0

const LOAD_DELAY_MS = 1
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

serve({
  /**
   * Creates the node and listens; `self` port 0 picks a free port. With `peers`, joins them once
   * listening. Returns its peer id.
   * @param {{ self?: string, peers?: string[] }} p
   */
  async start(p) {
    node = new Burrow({ self: p.self ?? 'http://127.0.0.1:0' })
    node.namespace('c', {
      load: async (key) => {
        loaderCalls++
        await sleep(LOAD_DELAY_MS)
        return chaosValue(key)
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

  /** The owner of each of `keys` on this node's ring now. */
  owners({ keys }) {
    return keys.map((key) => node.ownerOf(key))
  },

  /** The ring, the loader calls made here, and the namespace's counters. */
  stats() {
    const s = node.stats().namespaces.c
    return {
      peers: node.peers,
      loaderCalls,
      ns: {
        gets: s.gets,
        hits: s.hits,
        peerLoads: s.peerLoads,
        peerErrors: s.peerErrors,
        fallbackLoads: s.fallbackLoads,
        handoffHits: s.handoffHits,
        handoffMisses: s.handoffMisses,
        localLoads: s.localLoads,
        localLoadErrors: s.localLoadErrors,
        serverRequests: s.serverRequests,
      },
    }
  },
})
