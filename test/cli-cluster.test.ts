/**
 * A three-node cluster started with `burrow serve`, read with `burrow get`, `stats` and `ring`:
 * each key is loaded from the origin once, by its owner, whichever node is asked.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RespValue } from '../src/transport/resp/reader.ts'
import { closeAll, sleep } from './helpers.ts'
import { burrow, Origin, type ServeProcess, serveThree } from './support/cli.ts'
import { command, talk } from './support/resp-talk.ts'

afterEach(closeAll)

/**
 * Three `burrow serve` nodes with one origin, on free ports chosen for each test (not once for
 * the file: between two tests another process may take a port that was free).
 */
function threeNodes(origin: Origin, extra: string[] = []): Promise<ServeProcess[]> {
  // Generous: a fetch held by the test must not time out and fall back on a slow machine.
  return serveThree(origin, ['--peer-timeout', '30s', ...extra])
}

/** `burrow stats --json` of one node, parsed. */
async function stats(node: string): Promise<{ namespaces: Record<string, Record<string, number>> }> {
  const run = await burrow(['stats', '--node', node, '--json'])
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout)
}

/** Waits (polling BURROW.STATS, at most 20 s) until the node has counted `n` gets of `items`. */
async function untilGets(node: string, n: number): Promise<void> {
  const t = await talk(node)
  try {
    const deadline = Date.now() + 20_000
    for (;;) {
      t.write(command('BURROW.STATS'))
      const [reply] = await t.replies(1)
      const gets = JSON.parse(String(reply)).namespaces.items.gets as number
      if (gets >= n) return
      if (Date.now() > deadline) throw new Error(`${node} counted ${gets} gets, not ${n}, within 20 s`)
      await sleep(20)
    }
  } finally {
    t.socket.destroy()
  }
}

describe('a cluster started from the command line', { timeout: 60_000 }, () => {
  it('loads each key once from the origin, on its owner, whichever node is asked', async () => {
    const origin = await Origin.start()
    const nodes = await threeNodes(origin)
    expect(nodes[0]!.stdout).toContain(
      `peers ${nodes
        .map((n) => n.self)
        .sort()
        .join(' ')}`,
    )
    const keys = ['6.824', '15-213', 'a/b', 'x y', 'k5', 'k6']
    for (const [i, key] of keys.entries()) {
      const run = await burrow(['get', '--node', nodes[i % 3]!.self, 'items', key])
      expect(run).toMatchObject({ code: 0, stdout: `value of ${key}` })
    }
    // Every node answers every key again, and the origin is not asked again.
    for (const node of nodes) {
      for (const key of keys.slice(0, 2)) {
        expect((await burrow(['get', '--node', node.self, 'items', key])).stdout).toBe(`value of ${key}`)
      }
    }
    for (const key of keys) expect(origin.count(key)).toBe(1)
    // The loads happened on the owners, as `burrow ring --key` names them.
    const ring = JSON.parse(
      (await burrow(['ring', '--node', nodes[0]!.self, '--json', ...keys.flatMap((k) => ['--key', k])]))
        .stdout,
    )
    const all = await Promise.all(nodes.map((n) => stats(n.self)))
    for (const [i, node] of nodes.entries()) {
      const owned = keys.filter((key) => ring.owners[key] === node.self).length
      expect(all[i]!.namespaces.items?.localLoads).toBe(owned)
    }
  })

  it('makes one origin request for many concurrent gets of one key on all three nodes', async () => {
    const origin = await Origin.start()
    const nodes = await threeNodes(origin)
    const key = 'held-together'
    const ring = JSON.parse((await burrow(['ring', '--node', nodes[0]!.self, '--json', '--key', key])).stdout)
    const owner = ring.owners[key] as string
    const perNode = 4
    const talks = await Promise.all(nodes.map((n) => talk(n.self)))
    for (const t of talks)
      t.write(Buffer.concat(Array.from({ length: perNode }, () => command('BURROW.GET', 'items', key))))
    await origin.waitForRequests(key)
    // Hold the origin until every get has arrived: each node counts its clients' gets, and the
    // owner also the one fetch from each other node (their gets share one flight each).
    for (const n of nodes) await untilGets(n.self, n.self === owner ? perNode + 2 : perNode)
    origin.release(key)
    for (const t of talks) {
      const replies: RespValue[] = await t.replies(perNode)
      expect(replies.map((r) => String(r))).toEqual(Array(perNode).fill(`value of ${key}`))
      t.socket.destroy()
    }
    expect(origin.count(key)).toBe(1)
  })

  it('shows the same ring on every node, each peer with its share', async () => {
    const origin = await Origin.start()
    const nodes = await threeNodes(origin, ['--ring', 'maglev'])
    const rings = await Promise.all(
      nodes.map((n) => burrow(['ring', '--node', n.self, '--json', '--key', '42'])),
    )
    const parsed = rings.map((r) => JSON.parse(r.stdout))
    const peers = nodes.map((n) => n.self).sort()
    for (const [i, ring] of parsed.entries()) {
      expect(ring).toMatchObject({ ring: 'maglev', hash: 'crc32', table: 65537, self: nodes[i]!.self, peers })
      expect(ring.owners['42']).toBe(parsed[0].owners['42'])
      const shares = Object.values(ring.shares as Record<string, number>)
      expect(shares).toHaveLength(3)
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
    }
    const text = await burrow(['ring', '--node', nodes[1]!.self, '--key', '42'])
    expect(text.stdout).toContain('ring   maglev, hash crc32, 65537 slots')
    expect(text.stdout).toContain(`${nodes[1]!.self}   33.3 % (self)`)
    expect(text.stdout).toContain(`owner of "42": ${parsed[0].owners['42']}`)
  })
})
