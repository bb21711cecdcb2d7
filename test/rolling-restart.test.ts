import { afterEach, describe, expect, it } from 'vitest'
import type { Burrow } from '../src/index.ts'
import { closeAll, node, ringWhere } from './helpers.ts'
import { ChildNode } from './support/cluster.ts'

const children: ChildNode[] = []
afterEach(async () => {
  await closeAll()
  await Promise.all(children.splice(0).map((c) => c.kill()))
})

/** Probing fast enough that a restarted node is back in the rings within a few hundred ms. */
const liveness = { intervalMs: 50, timeoutMs: 300 }

describe('a rolling restart', () => {
  it('of every node of a four-node cluster under steady reads fails no get', async () => {
    const first = await Promise.all(
      Array.from({ length: 4 }, () =>
        ChildNode.start({ liveness, loadDelayMs: 5, namespace: { hot: false } }),
      ),
    )
    children.push(...first)
    // The reader is a fifth node, in this process: it owns keys too and reads every key, so
    // its gets go to every child, and the children's gets come to it.
    const reader: Burrow = node({ liveness, peerTimeoutMs: 1000 })
    const ns = reader.namespace('test', { hot: false, load: async (key) => `value of ${key}` })
    await reader.listen()
    const peers = [reader.self, ...first.map((c) => c.self)]
    reader.setPeers(peers)
    await Promise.all(first.map((c) => c.setPeers(peers)))

    let gets = 0
    const failures: unknown[] = []
    let reading = true
    // Bounded: at most 4 readers × 100,000 gets, and it stops when the restarts are done.
    const readers = Array.from({ length: 4 }, async (_, r) => {
      for (let i = 0; reading && i < 100_000; i++) {
        const key = `key-${(i * 7 + r * 13) % 500}`
        try {
          const value = await ns.get(key)
          if (value !== `value of ${key}`) failures.push(`${key}: ${String(value)}`)
        } catch (err) {
          failures.push(err)
        }
        gets++
      }
    })

    let current = [...first]
    for (let i = 0; i < current.length; i++) {
      const old = current[i]!
      const before = gets
      await old.close()
      const again = await ChildNode.start({
        self: old.self,
        peers,
        liveness,
        loadDelayMs: 5,
        namespace: { hot: false },
      })
      children.push(again)
      current = current.map((c) => (c === old ? again : c))
      await ringWhere(reader, (ring) => ring.includes(old.self))
      // Reads went on while the node was away.
      while (gets < before + 200) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    reading = false
    await Promise.all(readers)
    expect(failures).toEqual([])
    expect(gets).toBeGreaterThan(800)
    expect(reader.peers).toEqual([...peers].sort())
  }, 60_000)
})
