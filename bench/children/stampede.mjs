/**
 * Child process of the stampede scenario: many concurrent gets of one cold key, counting how
 * often the data source is hit. burrow: three nodes in this process, the gets spread over them
 * round-robin. Anchor: cache-aside over ioredis (GET; on a miss load, then SET), one logical
 * client per get, sharing a small pool of connections.
 *
 * Commands: burrow, cacheAside.
 *
 * @module
 */
import { Burrow } from 'burrow'
import Redis from 'ioredis'
import { serve } from '../lib/child.mjs'
import { stringValue } from '../lib/data.mjs'
import { HOST } from '../lib/net.mjs'

const KEY = 'cold-key'

/** The simulated data source: counts calls and takes `loadMs` to answer. */
function dataSource(loadMs, valueBytes) {
  const source = {
    calls: 0,
    load: async (key) => {
      source.calls++
      await new Promise((resolve) => setTimeout(resolve, loadMs))
      return stringValue(key, valueBytes)
    },
  }
  return source
}

serve({
  async burrow({ gets, nodes: count, loadMs, valueBytes }) {
    const source = dataSource(loadMs, valueBytes)
    const nodes = Array.from(
      { length: count },
      () => new Burrow({ self: 'http://127.0.0.1:0', random: () => 0.5 }),
    )
    try {
      const spaces = nodes.map((n) => n.namespace('stampede', { load: source.load }))
      for (const n of nodes) await n.listen()
      for (const n of nodes) n.setPeers(nodes.map((m) => m.self))
      const values = await Promise.all(Array.from({ length: gets }, (_, i) => spaces[i % count].get(KEY)))
      checkValues(values, valueBytes)
      const stats = nodes.map((n) => n.stats().namespaces.stampede)
      return {
        loads: source.calls,
        owner: nodes[0].ownerOf(KEY),
        perNode: stats.map((s) =>
          pick(s, 'gets', 'loads', 'loadsDeduped', 'localLoads', 'peerLoads', 'serverRequests'),
        ),
      }
    } finally {
      await Promise.all(nodes.map((n) => n.close()))
    }
  },

  async cacheAside({ port, gets, connections, loadMs, valueBytes }) {
    const source = dataSource(loadMs, valueBytes)
    const pool = Array.from(
      { length: connections },
      () => new Redis({ host: HOST, port, maxRetriesPerRequest: 1 }),
    )
    try {
      await pool[0].del(KEY)
      const client = async (i) => {
        const redis = pool[i % connections]
        const cached = await redis.get(KEY)
        if (cached !== null) return cached
        const value = await source.load(KEY)
        await redis.set(KEY, value)
        return value
      }
      const values = await Promise.all(Array.from({ length: gets }, (_, i) => client(i)))
      checkValues(values, valueBytes)
      return { loads: source.calls }
    } finally {
      await Promise.all(pool.map((r) => r.quit()))
    }
  },
})

function checkValues(values, valueBytes) {
  const bad = values.filter((v) => typeof v !== 'string' || v.length !== valueBytes).length
  if (bad > 0) throw new Error(`${bad} gets returned a wrong value`)
}

function pick(obj, ...keys) {
  return Object.fromEntries(keys.map((k) => [k, obj[k]]))
}
