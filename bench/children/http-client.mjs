/**
 * Child process measuring the seed HTTP route `GET /burrow/{ns}/{key}` of the owner directly,
 * over node:http with a keep-alive agent (one socket per request in flight). For reference only.
 *
 * Commands: load.
 *
 * @module
 */
import { Agent, request } from 'node:http'
import { serve } from '../lib/child.mjs'
import { closedLoop } from '../lib/measure.mjs'

serve({
  async load({ base, namespace, keys, concurrency, maxOps, maxMs, warmupOps, valueBytes }) {
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
    const url = new URL(base)
    const get = (i) =>
      new Promise((resolve, reject) => {
        const key = keys[i % keys.length]
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: `/burrow/${namespace}/${encodeURIComponent(key)}`,
            agent,
          },
          (res) => {
            let bytes = 0
            res.on('data', (chunk) => {
              bytes += chunk.length
            })
            res.on('end', () => {
              if (res.statusCode !== 200 || bytes !== valueBytes)
                reject(new Error(`HTTP ${res.statusCode}, ${bytes} bytes for ${key}`))
              else resolve()
            })
            res.on('error', reject)
          },
        )
        req.on('error', reject)
        req.end()
      })
    await closedLoop({ concurrency, maxOps: warmupOps, maxMs, op: get })
    const result = await closedLoop({ concurrency, maxOps, maxMs, op: get })
    agent.destroy()
    return result
  },
})
