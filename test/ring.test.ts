import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32, Ring } from '../src/ring.ts'
import fixture from './fixtures/groupcache-ring-fixture.json' with { type: 'json' }
import { thrownBy } from './helpers.ts'

const KEYS = Array.from({ length: 10_000 }, (_, i) => `k${i}`)
const THREE = ['http://10.0.0.1:5001', 'http://10.0.0.2:5001', 'http://10.0.0.3:5001']
const FOURTH = 'http://10.0.0.4:5001'

function ownersOf(ring: Ring): string[] {
  return KEYS.map((key) => ring.owner(key))
}

function expectBadOption(build: () => unknown, option: string): void {
  const err = thrownBy(build)
  expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
  expect(err.message).toContain(option)
}

describe('Ring', () => {
  describe('agrees with golang/groupcache', () => {
    const ring = new Ring(fixture.peers, { replicas: fixture.replicas })

    it('reproduces the owner Go computed for every one of the 220 fixture keys', () => {
      expect(fixture.keys).toHaveLength(220)
      const mismatches = fixture.keys.filter(({ key, owner }) => ring.owner(key) !== owner)
      expect(mismatches).toEqual([])
    })

    it('hashes every fixture key as Go did', () => {
      for (const { key, hash } of fixture.keys) expect(crc32(key)).toBe(hash)
    })

    it('hashes any string as zlib hashes its UTF-8 (ASCII and short strings are hashed in JS)', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })),
          (text) => {
            expect(crc32(text)).toBe(zlib.crc32(text))
            expect(crc32(Buffer.from(text))).toBe(zlib.crc32(text))
          },
        ),
        { numRuns: 2000 },
      )
    })

    it('places every virtual node of the fixture at the hash Go computed', () => {
      expect(fixture.virtualNodes).toHaveLength(fixture.peers.length * fixture.replicas)
      for (const { vkey, replica, peer, hash } of fixture.virtualNodes) {
        expect(vkey).toBe(`${replica}${peer}`)
        expect(crc32(vkey)).toBe(hash)
      }
      const expected = fixture.virtualNodes.map(({ hash, peer }) => ({ hash, peer }))
      expected.sort((a, b) => a.hash - b.hash)
      expect(ring.points()).toEqual(expected)
    })
  })

  it('lists its distinct peers sorted and answers has()', () => {
    const ring = new Ring(['http://b', 'http://a', 'http://b', 'http://c'])
    expect(ring.peers).toEqual(['http://a', 'http://b', 'http://c'])
    expect(ring.has('http://a')).toBe(true)
    expect(ring.has('http://d')).toBe(false)
  })

  it('gives the same owners whatever order the peers are listed in', () => {
    const expected = ownersOf(new Ring(THREE))
    for (const order of [
      [THREE[2]!, THREE[0]!, THREE[1]!],
      [THREE[1]!, THREE[2]!, THREE[0]!],
      [...THREE].reverse(),
      [...THREE, THREE[0]!],
    ]) {
      expect(ownersOf(new Ring(order))).toEqual(expected)
    }
  })

  it('moves about a quarter of keys when a fourth peer joins, all of them to the new peer', () => {
    const before = ownersOf(new Ring(THREE))
    const after = ownersOf(new Ring([...THREE, FOURTH]))
    let moved = 0
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === after[i]) continue
      moved++
      expect(after[i]).toBe(FOURTH)
    }
    expect(moved / KEYS.length).toBeGreaterThan(0.15)
    expect(moved / KEYS.length).toBeLessThan(0.35)
  })

  it("moves only the removed peer's keys when a peer leaves", () => {
    const gone = THREE[1]!
    const before = ownersOf(new Ring(THREE))
    const after = ownersOf(new Ring(THREE.filter((peer) => peer !== gone)))
    let moved = 0
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === gone) {
        moved++
        expect(after[i]).not.toBe(gone)
      } else {
        expect(after[i]).toBe(before[i])
      }
    }
    expect(moved).toBeGreaterThan(0)
  })

  it('spreads 10,000 keys so each of 3 peers owns between 20% and 47% with the default 50 replicas', () => {
    const counts = new Map<string, number>()
    for (const owner of ownersOf(new Ring(THREE))) counts.set(owner, (counts.get(owner) ?? 0) + 1)
    for (const peer of THREE) {
      const share = (counts.get(peer) ?? 0) / KEYS.length
      expect(share).toBeGreaterThan(0.2)
      expect(share).toBeLessThan(0.47)
    }
  })

  it('has peers × replicas virtual nodes, ascending by hash', () => {
    const ring = new Ring(THREE)
    const points = ring.points()
    expect(points).toHaveLength(3 * 50)
    for (let i = 1; i < points.length; i++)
      expect(points[i]!.hash).toBeGreaterThanOrEqual(points[i - 1]!.hash)
    expect(new Ring(THREE, { replicas: 1 }).points()).toHaveLength(THREE.length)
    expect(new Ring(THREE, { replicas: 1000 }).points()).toHaveLength(3000)
  })

  it('uses a custom hash, over the UTF-8 bytes of virtual node keys and keys', () => {
    const seen: string[] = []
    const ring = new Ring(['http://a'], {
      replicas: 2,
      hash: (data) => {
        seen.push(Buffer.from(data).toString('utf8'))
        return crc32(data)
      },
    })
    expect(seen).toEqual(['0http://a', '1http://a'])
    ring.owner('日本語')
    expect(seen.at(-1)).toBe('日本語')
  })

  it('puts every key on the peer added last when the hash always collides, as Go does', () => {
    const ring = new Ring(['http://b', 'http://c', 'http://a'], { hash: () => 0 })
    expect(ring.points().every(({ hash, peer }) => hash === 0 && peer === 'http://c')).toBe(true)
    expect(new Set(ownersOf(ring))).toEqual(new Set(['http://c']))
  })

  it('wraps a key hashed above every virtual node to the first virtual node', () => {
    const hash = (data: Uint8Array) => (Buffer.from(data).toString() === 'top' ? 0xffffffff : data.length)
    const ring = new Ring(['http://a', 'http://bb'], { replicas: 1, hash })
    expect(ring.points()).toEqual([
      { hash: 9, peer: 'http://a' },
      { hash: 10, peer: 'http://bb' },
    ])
    expect(ring.owner('top')).toBe('http://a')
    expect(ring.owner('123456789')).toBe('http://a')
    expect(ring.owner('1234567890')).toBe('http://bb')
  })

  it('picks the first virtual node at or above the key hash, at every boundary', () => {
    // A hash that reads the key as a decimal number lets the test aim keys at exact hashes.
    const asNumber = (data: Uint8Array) => {
      const text = Buffer.from(data).toString('utf8')
      return /^\d+$/.test(text) ? Number(text) : crc32(data)
    }
    for (const replicas of [1, 2, 3, 7, 50]) {
      const ring = new Ring(THREE, { replicas, hash: asNumber })
      const points = ring.points()
      const expected = (h: number) => (points.find((point) => point.hash >= h) ?? points[0]!).peer
      const targets = [0, 1, 0xfffffffe, 0xffffffff]
      for (const { hash } of points) targets.push(hash - 1, hash, hash + 1)
      for (const h of targets.filter((t) => t >= 0 && t <= 0xffffffff)) {
        expect(ring.owner(String(h))).toBe(expected(h))
      }
    }
  })

  it('counts the exact share of key hashes each peer owns, wrap-around included', () => {
    const hash = (data: Uint8Array) => Buffer.from(data).toString().length
    // Points at 9 ('http://a') and 10 ('http://bb'): bb owns hash 10 alone, a owns the rest.
    const ring = new Ring(['http://a', 'http://bb'], { replicas: 1, hash })
    expect(ring.shares()).toEqual(
      new Map([
        ['http://a', (2 ** 32 - 1) / 2 ** 32],
        ['http://bb', 1 / 2 ** 32],
      ]),
    )
    const shares = new Ring(THREE).shares()
    expect([...shares.keys()]).toEqual(THREE)
    expect([...shares.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    // Sampled over 10,000 keys, each share lands near the exact one.
    const counts = new Map<string, number>()
    for (const owner of ownersOf(new Ring(THREE))) counts.set(owner, (counts.get(owner) ?? 0) + 1)
    for (const peer of THREE)
      expect(Math.abs(counts.get(peer)! / KEYS.length - shares.get(peer)!)).toBeLessThan(0.02)
  })

  it('gives the busiest of 1,000 peers about 1.75× the mean share with 50 replicas', () => {
    const peers = Array.from({ length: 1000 }, (_, i) => `http://10.0.${i >> 8}.${i & 255}:5001`)
    const busiest = Math.max(...new Ring(peers).shares().values()) * 1000
    expect(busiest).toBeGreaterThan(1.6)
    expect(busiest).toBeLessThan(1.9)
  })

  it('gives the same owners with crc32 passed explicitly as with the default', () => {
    expect(ownersOf(new Ring(THREE, { hash: crc32 }))).toEqual(ownersOf(new Ring(THREE)))
    expect(ownersOf(new Ring(THREE, { hash: (data) => crc32(data) }))).toEqual(ownersOf(new Ring(THREE)))
  })

  describe('rejects bad options with BURROW_ERR_BAD_OPTION naming the option', () => {
    const cases: Array<[string, () => unknown, string]> = [
      ['an empty peer list', () => new Ring([]), 'peers'],
      ['peers that is not an array', () => new Ring('http://a' as unknown as string[]), 'peers'],
      ['a non-string peer', () => new Ring(['http://a', 42 as unknown as string]), 'peers[1]'],
      ['an empty peer id', () => new Ring(['']), 'peers[0]'],
      ['replicas 0', () => new Ring(THREE, { replicas: 0 }), 'replicas'],
      ['replicas 1.5', () => new Ring(THREE, { replicas: 1.5 }), 'replicas'],
      ['replicas 1001', () => new Ring(THREE, { replicas: 1001 }), 'replicas'],
      ["replicas 'x'", () => new Ring(THREE, { replicas: 'x' as unknown as number }), 'replicas'],
      [
        'a hash that is not a function',
        () => new Ring(THREE, { hash: 'crc32' as unknown as () => 0 }),
        'hash',
      ],
    ]
    for (const [what, build, option] of cases) {
      it(`rejects ${what}`, () => expectBadOption(build, option))
    }

    it('says what it received', () => {
      expect(() => new Ring(THREE, { replicas: 1.5 })).toThrow(/replicas .*number 1\.5/)
      expect(() => new Ring(THREE, { replicas: 'x' as unknown as number })).toThrow(/replicas .*"x"/)
    })
  })
})
