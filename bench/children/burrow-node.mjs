/**
 * Child process holding one burrow node, for the remote-get scenarios: the owner of the keys, or
 * the reading node, whose own `ns.get` is the load generator (an application process asking its
 * embedded node; the network hop is reading node -> owner).
 *
 * Commands: start, setPeers, pickRemoteKeys, prewarm, load, stats.
 *
 * @module
 */
import { Burrow } from 'burrow'
import { serve } from '../lib/child.mjs'
import { keyOf, stringValue } from '../lib/data.mjs'
import { closedLoop } from '../lib/measure.mjs'

/** @type {Burrow} */
let node
/** @type {import('burrow').Namespace<string>} */
let ns
let valueBytes = 1024

serve({
  /**
   * Creates the node (hot cache off) and listens on a free loopback port; returns its peer id.
   * `nodeOptions` (e.g. `connectionsPerPeer`) are added to the node's options, and their
   * `namespace` (e.g. `{ storage: 'offheap' }`) to the namespace's.
   */
  async start(p) {
    valueBytes = p.valueBytes
    const { namespace: namespaceOptions, ...nodeOptions } = p.nodeOptions ?? {}
    node = new Burrow({
      self: 'http://127.0.0.1:0',
      peerTimeoutMs: 3000,
      random: () => 0.5,
      ...nodeOptions,
    })
    ns = node.namespace('test', {
      maxBytes: 64 * 1024 * 1024,
      hot: false,
      load: async (key) => stringValue(key, valueBytes),
      ...namespaceOptions,
    })
    await node.listen()
    return node.self
  },

  setPeers({ peers }) {
    node.setPeers(peers)
    return node.peers
  },

  /** The first `count` keys k000000, k000001, ... that `owner` owns (bounded search). */
  pickRemoteKeys({ count, owner }) {
    const keys = []
    for (let i = 0; keys.length < count && i < count * 20; i++) {
      const key = keyOf(i)
      if (node.ownerOf(key) === owner) keys.push(key)
    }
    if (keys.length < count) throw new Error(`only ${keys.length} of ${count} keys are owned by ${owner}`)
    return keys
  },

  /** On the owner: loads every key into its main cache. */
  async prewarm({ keys }) {
    for (const key of keys) {
      if (node.ownerOf(key) !== node.self) throw new Error(`${key} is not owned here`)
      await ns.get(key)
    }
    const s = ns.stats()
    if (s.main.items !== keys.length) throw new Error(`owner holds ${s.main.items} of ${keys.length} keys`)
    return s
  },

  /**
   * On the reading node: `concurrency` gets in flight over `keys` in turn (so no two requests in
   * flight share a key and single-flight never merges them), after an unmeasured warm-up.
   * Checks that every get went to the owner and nothing was cached here.
   */
  async load({ keys, concurrency, maxOps, maxMs, warmupOps }) {
    const get = async (i) => {
      const value = await ns.get(keys[i % keys.length])
      if (value === undefined || value.length !== valueBytes)
        throw new Error(`bad value for ${keys[i % keys.length]}`)
    }
    await closedLoop({ concurrency, maxOps: warmupOps, maxMs, op: get })
    const before = ns.stats()
    const result = await closedLoop({ concurrency, maxOps, maxMs, op: get })
    const after = ns.stats()
    const delta = (field) => after[field] - before[field]
    const check = {
      gets: delta('gets'),
      hits: delta('hits'),
      peerLoads: delta('peerLoads'),
      loadsDeduped: delta('loadsDeduped'),
      localLoads: delta('localLoads'),
      peerErrors: delta('peerErrors'),
      mainItems: after.main.items,
      hotItems: after.hot.items,
    }
    if (check.hits !== 0 || check.localLoads !== 0 || check.mainItems !== 0 || check.hotItems !== 0) {
      throw new Error(`the reading node answered locally: ${JSON.stringify(check)}`)
    }
    if (check.peerLoads + check.loadsDeduped !== check.gets || check.peerLoads < result.ops) {
      throw new Error(`not every get went to the owner: ${JSON.stringify(check)} ops ${result.ops}`)
    }
    return { ...result, check, peerClient: node.stats().peerClient, busyPoll: node.stats().busyPoll }
  },

  stats() {
    return node.stats()
  },
})
