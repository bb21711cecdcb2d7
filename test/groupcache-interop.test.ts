/**
 * burrow nodes in a ring with real golang/groupcache nodes (test/support/groupcache-node, built
 * from Debian's packages): both sides agree on owners, answer each other in both directions, and
 * load each key once across the mixed ring.
 *
 * The Go nodes answer `go:KEY` and the burrow nodes `node:KEY`, so every value says who loaded it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type Burrow,
  BurrowError,
  type BurrowOptions,
  type Namespace,
  type StoredValue,
} from '../src/index.ts'
import { decodeGetResponse } from '../src/transport/groupcache/get-response.ts'
import { closeAll, freePort, node, ringWhere } from './helpers.ts'
import { GoNode, goNodeBinary, httpGet } from './support/groupcache-go.ts'

/** Go builds on a loaded 2-core machine can take a while the first time. */
const SETUP_TIMEOUT_MS = 240_000
const TEST_TIMEOUT_MS = 60_000

interface BurrowSide {
  node: Burrow
  test: Namespace<StoredValue>
  bin: Namespace<StoredValue>
  binText: Namespace<StoredValue>
  burrowOnly: Namespace<StoredValue>
}

/** Every load a burrow node's loader saw, all namespaces together. */
const burrowLoads: { self: string; namespace: string; key: string }[] = []

let goA: GoNode
let goB: GoNode
let sides: BurrowSide[]
let peers: string[]

/**
 * A burrow node of the mixed ring. `test` values are strings (`node:KEY`; a key starting with
 * `boom` fails its loader); `bin` values are bytes; `bin2` asks for strings but its Go group
 * serves bytes that are not UTF-8; `burrow-only` is a namespace the Go nodes lack.
 */
async function burrowSide(self: string): Promise<BurrowSide> {
  const n = node({
    self,
    peers,
    protocol: 'groupcache',
    peerTimeoutMs: 10_000,
    // Probed (GET /_groupcache/, which Go answers 400), with a patient deadline on a busy machine.
    liveness: { intervalMs: 200, timeoutMs: 5000 },
  })
  const record = (namespace: string, key: string): void => {
    burrowLoads.push({ self: n.self, namespace, key })
  }
  const side: BurrowSide = {
    node: n,
    test: n.namespace('test', {
      groupcacheValues: 'string',
      load: (key) => {
        record('test', key)
        if (key.startsWith('boom')) throw new Error(`no row for ${key}`)
        return `node:${key}`
      },
    }),
    bin: n.namespace('bin', {
      groupcacheValues: 'bytes',
      load: (key) => {
        record('bin', key)
        return new Uint8Array([1, 2, 3, key.length])
      },
    }),
    binText: n.namespace('bin2', {
      groupcacheValues: 'string',
      load: (key) => {
        record('bin2', key)
        return `node:${key}`
      },
    }),
    burrowOnly: n.namespace('burrow-only', {
      groupcacheValues: 'string',
      load: (key) => {
        record('burrow-only', key)
        return `node:${key}`
      },
    }),
  }
  await n.listen()
  return side
}

/** Asks a Go node for `key` the way an HTTP client would (path-escaped: `%20` is a space to Go). */
async function askGo(
  go: GoNode,
  group: string,
  key: string,
): Promise<{ status: number; body: Buffer; value: Buffer }> {
  const res = await httpGet(go.self, `/_groupcache/${group}/${encodeURIComponent(key)}`)
  const value = res.status === 200 ? Buffer.from(decodeGetResponse(res.body).value ?? []) : Buffer.alloc(0)
  return { status: res.status, body: res.body, value }
}

const goNodes = (): GoNode[] => [goA, goB]
const isGo = (peer: string): boolean => goNodes().some((g) => g.self === peer)
const _goNode = (peer: string): GoNode => goNodes().find((g) => g.self === peer) as GoNode
/** The value the owner of `key` answers in group `test`. */
const expected = (key: string): string => `${isGo(sides[0]!.node.ownerOf(key)) ? 'go' : 'node'}:${key}`

/** The first `count` keys made by `make(i)` whose owner satisfies `test`. */
function keysOwnedBy(count: number, make: (i: number) => string, test: (owner: string) => boolean): string[] {
  const keys: string[] = []
  for (let i = 0; keys.length < count && i < 10_000; i++) {
    const key = make(i)
    if (test(sides[0]!.node.ownerOf(key))) keys.push(key)
  }
  expect(keys).toHaveLength(count)
  return keys
}

/** Every load seen anywhere of `keys` in group `group`: `[owner, key]`, Go's and burrow's together. */
async function loadsOf(group: string, keys: readonly string[]): Promise<[string, string][]> {
  const wanted = new Set(keys)
  const seen: [string, string][] = []
  for (const go of goNodes()) {
    for (const load of await go.loads())
      if (load.group === group && wanted.has(load.key)) seen.push([go.self, load.key])
  }
  for (const load of burrowLoads)
    if (load.namespace === group && wanted.has(load.key)) seen.push([load.self, load.key])
  return seen.sort()
}

beforeAll(async () => {
  await goNodeBinary()
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()]
  peers = ports.map((p) => `http://127.0.0.1:${p}`)
  const groups = ['test', 'bin', 'bin2', 'go-only']
  goA = await GoNode.start({ port: ports[0] as number, peers, groups })
  goB = await GoNode.start({ port: ports[1] as number, peers, groups })
  sides = [await burrowSide(peers[2] as string), await burrowSide(peers[3] as string)]
}, SETUP_TIMEOUT_MS)

afterAll(async () => {
  await closeAll()
  await Promise.all(goNodes().map((g) => g?.stop()))
})

describe('a mixed ring of Go groupcache and burrow nodes', () => {
  it('has every burrow node on the same ring as the Go nodes, all of them up', () => {
    for (const { node: n } of sides) {
      expect(n.peers).toEqual([...peers].sort())
      expect(n.stats().down).toEqual([])
    }
    for (const key of ['k0', 'k1', 'a b', 'ü', '😀']) {
      expect(sides[0]!.node.ownerOf(key)).toBe(sides[1]!.node.ownerOf(key))
    }
  })

  it(
    'loads a key asked of every node, Go and burrow, once, on the owner that both sides compute',
    async () => {
      const keys = [
        ...Array.from({ length: 24 }, (_, i) => `once-${i}`),
        'once/ü/x',
        'once%41',
        'once-😀',
        'once+plus',
        'once/slash/in/key',
        "once!'()*~",
      ]
      const asked = keys.flatMap((key) => [
        ...sides.map(async (s) => String(await s.test.get(key))),
        ...goNodes().map(async (g) => {
          const res = await askGo(g, 'test', key)
          expect(res.status, `${g.self} ${key}`).toBe(200)
          return res.value.toString('utf8')
        }),
      ])
      const values = await Promise.all(asked)
      expect(values).toEqual(keys.flatMap((key) => Array(4).fill(expected(key))))
      const owners = keys.map((key) => [sides[0]!.node.ownerOf(key), key] as [string, string]).sort()
      expect(await loadsOf('test', keys)).toEqual(owners)
      // Both sides own some of them.
      expect(new Set(owners.map(([owner]) => isGo(owner))).size).toBe(2)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'loads a cold key once when every node is asked for it at the same time (50 gets each)',
    async () => {
      for (const key of [
        ...keysOwnedBy(1, (i) => `cold-go-${i}`, isGo),
        ...keysOwnedBy(
          1,
          (i) => `cold-node-${i}`,
          (o) => !isGo(o),
        ),
      ]) {
        const gets = Array.from({ length: 50 }, () => [
          ...sides.map(async (s) => String(await s.test.get(key))),
          ...goNodes().map(async (g) => (await askGo(g, 'test', key)).value.toString('utf8')),
        ]).flat()
        expect(new Set(await Promise.all(gets))).toEqual(new Set([expected(key)]))
        expect(await loadsOf('test', [key])).toEqual([[sides[0]!.node.ownerOf(key), key]])
      }
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'a burrow node asking a Go owner gets the value of exactly the key asked: a b is not a+b',
    async () => {
      const keys = [
        ...keysOwnedBy(2, (i) => `sp ${i} x`, isGo),
        ...keysOwnedBy(2, (i) => `sp+${i}+x`, isGo),
        ...keysOwnedBy(2, (i) => `pct%${i}/ü`, isGo),
      ]
      for (const key of keys) {
        for (const s of sides) expect(await s.test.get(key)).toBe(`go:${key}`)
      }
      const owners = keys.map((key) => [sides[0]!.node.ownerOf(key), key] as [string, string]).sort()
      expect(await loadsOf('test', keys)).toEqual(owners)
      for (const s of sides) expect(s.node.stats().namespaces.test?.fallbackLoads).toBe(0)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    "a Go node asking a burrow owner (Go's client writes a space as +) gets the value of exactly the key asked",
    async () => {
      const keys = [
        ...keysOwnedBy(
          2,
          (i) => `gs ${i} x`,
          (o) => !isGo(o),
        ),
        ...keysOwnedBy(
          2,
          (i) => `gs+${i}+x`,
          (o) => !isGo(o),
        ),
        ...keysOwnedBy(
          2,
          (i) => `gpct%${i}/ü`,
          (o) => !isGo(o),
        ),
      ]
      for (const key of keys) {
        for (const g of goNodes()) {
          const res = await askGo(g, 'test', key)
          expect(res.status).toBe(200)
          expect(res.value.toString('utf8')).toBe(`node:${key}`)
        }
      }
      const owners = keys.map((key) => [sides[0]!.node.ownerOf(key), key] as [string, string]).sort()
      expect(await loadsOf('test', keys)).toEqual(owners)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    "(the upstream bug, for reference) a Go node asking a Go owner for 'a b' makes it load 'a+b'",
    async () => {
      // A key whose spellings with a space and with a + are both Go A's: Go B forwards 'bug N'
      // as 'bug+N', which Go A's server does not decode.
      const owner = (key: string) => sides[0]!.node.ownerOf(key)
      const n = Array.from({ length: 2000 }, (_, i) => i).find(
        (i) => owner(`bug ${i}`) === goA.self && owner(`bug+${i}`) === goA.self,
      ) as number
      const res = await askGo(goB, 'test', `bug ${n}`)
      expect(res.value.toString('utf8')).toBe(`go:bug+${n}`)
      expect(await loadsOf('test', [`bug ${n}`, `bug+${n}`])).toEqual([[goA.self, `bug+${n}`]])
    },
    TEST_TIMEOUT_MS,
  )

  it(
    "carries bytes both ways, and fails a Go value that is not UTF-8 in a 'string' namespace",
    async () => {
      const [ofGo] = keysOwnedBy(1, (i) => `bytes-go-${i}`, isGo)
      const [ofNode] = keysOwnedBy(
        1,
        (i) => `bytes-node-${i}`,
        (o) => !isGo(o),
      )
      const got = await sides[0]!.bin.get(ofGo as string)
      expect(got).toBeInstanceOf(Uint8Array)
      expect(Buffer.from(got as Uint8Array)).toEqual(
        Buffer.concat([Buffer.from([0, 0xff, 0x80]), Buffer.from(ofGo as string)]),
      )
      for (const g of goNodes()) {
        const res = await askGo(g, 'bin', ofNode as string)
        expect([...res.value]).toEqual([1, 2, 3, (ofNode as string).length])
      }
      const [bad] = keysOwnedBy(1, (i) => `bad-utf8-${i}`, isGo)
      const err = await sides[1]!.binText.get(bad as string).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BurrowError)
      expect((err as BurrowError).code).toBe('BURROW_ERR_BAD_VALUE')
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'turns a Go loader error into BURROW_ERR_LOADER (no load here), and a burrow loader error into the 500 a Go asker loads after',
    async () => {
      const [failing] = keysOwnedBy(1, (i) => `fail-${i}`, isGo)
      const err = await sides[0]!.test.get(failing as string).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BurrowError)
      expect((err as BurrowError).code).toBe('BURROW_ERR_LOADER')
      expect((err as BurrowError).message).toMatch(new RegExp(`answered 500: no data for ${failing}`))
      expect(burrowLoads.filter((l) => l.key === failing)).toEqual([])

      const [boom] = keysOwnedBy(
        1,
        (i) => `boom-${i}`,
        (o) => !isGo(o),
      )
      const res = await askGo(goA, 'test', boom as string)
      // Go counts any status but 200 as a peer error and loads the key itself.
      expect(res.value.toString('utf8')).toBe(`go:${boom}`)
      expect(await loadsOf('test', [boom as string])).toEqual(
        [
          [sides[0]!.node.ownerOf(boom as string), boom],
          [goA.self, boom],
        ].sort() as [string, string][],
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'answers an unknown group as Go does, and loads here a key whose Go owner lacks the namespace',
    async () => {
      const fromGo = await httpGet(goA.self, '/_groupcache/nope/k')
      const fromBurrow = await httpGet(sides[0]!.node.self, '/_groupcache/nope/k')
      expect([fromBurrow.status, fromBurrow.body.toString()]).toEqual([fromGo.status, fromGo.body.toString()])
      expect(fromGo.status).toBe(404)

      const [key] = keysOwnedBy(1, (i) => `only-${i}`, isGo)
      const before = sides[0]!.node.stats().namespaces['burrow-only']?.fallbackLoads ?? 0
      expect(await sides[0]!.burrowOnly.get(key as string)).toBe(`node:${key}`)
      expect(sides[0]!.node.stats().namespaces['burrow-only']?.fallbackLoads).toBe(before + 1)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    "never follows a Go owner's redirect (paths Go's mux cleans): the key is loaded here, never another key's value",
    async () => {
      const keys = [
        ...keysOwnedBy(1, (i) => `x${i}/../y`, isGo),
        ...keysOwnedBy(1, (i) => `/lead${i}`, isGo),
        ...keysOwnedBy(1, (i) => `a${i}//b`, isGo),
      ]
      const s = sides[1]!
      const fallbacks = s.node.stats().namespaces.test?.fallbackLoads ?? 0
      for (const key of keys) expect(await s.test.get(key)).toBe(`node:${key}`)
      expect(s.node.stats().namespaces.test?.fallbackLoads).toBe(fallbacks + keys.length)
      // The Go owners loaded nothing for them, nor for the cleaned paths the redirects point to.
      const goLoads = (await Promise.all(goNodes().map((g) => g.loads()))).flat().map((l) => l.key)
      const cleaned = keys.map((key) =>
        key
          .replace(/^\//, '')
          .replace('//', '/')
          .replace(/^x\d+\/\.\.\//, ''),
      )
      expect(cleaned).toContain('y')
      for (const key of [...keys, ...cleaned]) expect(goLoads).not.toContain(key)
    },
    TEST_TIMEOUT_MS,
  )
})

describe('a Go owner that freezes (SIGSTOP)', () => {
  afterEach(closeAll)

  /** A Go node and a burrow node (`protocol: 'groupcache'`, not listening yet) in a ring of two. */
  async function goBeside(options: Partial<BurrowOptions>): Promise<{ go: GoNode; n: Burrow }> {
    const [goPort, nodePort] = [await freePort(), await freePort()]
    const ring = [`http://127.0.0.1:${goPort}`, `http://127.0.0.1:${nodePort}`]
    const go = await GoNode.start({ port: goPort, peers: ring, groups: ['test'] })
    try {
      return { go, n: node({ self: ring[1], peers: ring, protocol: 'groupcache', ...options }) }
    } catch (err) {
      await go.stop()
      throw err
    }
  }

  it(
    'costs a get its deadline, then the key is loaded here; after SIGCONT the Go owner answers again',
    async () => {
      const { go, n } = await goBeside({ liveness: false, peerTimeoutMs: 500 })
      try {
        const ns = n.namespace('test', { groupcacheValues: 'string', load: (key) => `node:${key}` })
        await n.listen()
        const keys = Array.from({ length: 100 }, (_, i) => `frozen-${i}`).filter(
          (k) => n.ownerOf(k) === go.self,
        )
        expect(await ns.get(keys[0] as string)).toBe(`go:${keys[0]}`)
        await go.freeze()
        expect(await ns.get(keys[1] as string)).toBe(`node:${keys[1]}`)
        expect(n.stats().peerClient.timeouts).toBe(1)
        go.thaw()
        expect(await ns.get(keys[2] as string)).toBe(`go:${keys[2]}`)
      } finally {
        await go.stop()
      }
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'leaves the ring of a burrow node probing it, and comes back once it runs again',
    async () => {
      const { go, n } = await goBeside({ liveness: { intervalMs: 50, timeoutMs: 300 } })
      try {
        await n.listen()
        await go.freeze()
        await ringWhere(n, (p) => !p.includes(go.self))
        expect(n.stats().down).toEqual([go.self])
        go.thaw()
        await ringWhere(n, (p) => p.includes(go.self))
      } finally {
        await go.stop()
      }
    },
    TEST_TIMEOUT_MS,
  )
})
