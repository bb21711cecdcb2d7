/**
 * Child process driving the Redis anchor through ioredis: prefills the keys, then measures GET
 * with a fixed number of requests in flight over one connection (ioredis pipelines them).
 *
 * Commands: prefill, load.
 *
 * @module
 */
import Redis from 'ioredis'
import { serve } from '../lib/child.mjs'
import { stringValue } from '../lib/data.mjs'
import { closedLoop } from '../lib/measure.mjs'
import { HOST } from '../lib/net.mjs'

/** @type {Redis} */
let redis

serve({
  async prefill({ port, keys, valueBytes }) {
    redis = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 1 })
    await redis.connect()
    await redis.flushall()
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = redis.pipeline()
      for (const key of keys.slice(i, i + 1000)) batch.set(key, stringValue(key, valueBytes))
      await batch.exec()
    }
    return redis.dbsize()
  },

  /** Same shape as the burrow reading node's load: `concurrency` GETs in flight over `keys` in turn. */
  async load({ keys, concurrency, maxOps, maxMs, warmupOps, valueBytes }) {
    const get = async (i) => {
      const value = await redis.get(keys[i % keys.length])
      if (value === null || value.length !== valueBytes)
        throw new Error(`bad value for ${keys[i % keys.length]}`)
    }
    await closedLoop({ concurrency, maxOps: warmupOps, maxMs, op: get })
    return closedLoop({ concurrency, maxOps, maxMs, op: get })
  },

  async close() {
    await redis?.quit()
    return true
  },
})
