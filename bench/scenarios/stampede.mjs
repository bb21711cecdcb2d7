/**
 * Scenario `stampede-loads`: 1,000 concurrent gets of one cold key spread over 3 burrow nodes,
 * counting calls of the loader (bar: exactly 1), against cache-aside over Redis with 1,000
 * concurrent clients (each GETs, and on a miss loads and SETs), which loads about once per client.
 *
 * @module
 */
import { withChild } from '../lib/child.mjs'
import { startRedis } from '../lib/redis.mjs'
import { burrowExactly, makeRow, skippedRow } from '../lib/report.mjs'

export const group = 'stampede'
export const names = ['stampede-loads']
export const needsRedis = true

/** @param {{ log: (s: string) => void, redis: { path?: string, skipped?: string } }} ctx */
export async function run(ctx) {
  const params = { gets: 1000, nodes: 3, loadMs: 20, valueBytes: 1024, redisConnections: 8 }
  const bar = burrowExactly(1, 'loads')
  const anchorName = 'cache-aside over ioredis'
  return withChild('stampede.mjs', { name: 'stampede' }, async (child) => {
    const b = await child.call('burrow', params, 30_000)
    ctx.log(`  burrow: ${b.loads} load(s) for ${params.gets} gets over ${params.nodes} nodes`)
    if (ctx.redis.path === undefined) {
      return { 'stampede-loads': skippedRow('loads', bar, ctx.redis.skipped, anchorName, b.loads) }
    }
    const redis = await startRedis(ctx.redis.path)
    try {
      const a = await child.call(
        'cacheAside',
        { ...params, port: redis.port, connections: params.redisConnections },
        30_000,
      )
      ctx.log(`  cache-aside: ${a.loads} loads for ${params.gets} clients`)
      return {
        'stampede-loads': makeRow({
          burrow: b.loads,
          anchor: a.loads,
          ratio: a.loads / b.loads, // fewer loads is better: anchor loads per burrow load
          unit: 'loads',
          bar,
          anchorName,
          params: { ...params, burrowPerNode: b.perNode },
        }),
      }
    } finally {
      await redis.stop()
    }
  })
}
