import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Burrow } from '../src/index.ts'
import { NOT_FOUND } from '../src/store/cached.ts'
import { GhostFilter } from '../src/store/ghosts.ts'
import { FrequencySketch, hashKey } from '../src/store/sketch.ts'
import { entrySize, Store, type StorePolicy } from '../src/store/store.ts'
import {
  LEAK,
  MAX_WINDOW,
  MIN_WINDOW,
  STALE_SHARE,
  THRESHOLD,
  WindowController,
} from '../src/store/window.ts'
import { closeAll, manualClock, node } from './helpers.ts'

const SEED = 12345

describe('the frequency sketch', () => {
  it('never underestimates a count (up to 15), and overestimates little when sized for the keys', () => {
    const sketch = new FrequencySketch(1024, SEED)
    const truth = new Map<number, number>()
    for (let i = 0; i < 1024; i++) {
      const hash = hashKey(`key-${i}`, SEED)
      const times = i % 16
      for (let t = 0; t < times; t++) sketch.add(hash)
      truth.set(hash, times)
    }
    let over = 0
    for (const [hash, times] of truth) {
      const estimate = sketch.frequency(hash)
      expect(estimate).toBeGreaterThanOrEqual(times)
      over += estimate - times
    }
    expect(over / truth.size).toBeLessThan(0.5)
  })

  it('saturates at 15, and halving halves every count', () => {
    const sketch = new FrequencySketch(64, SEED)
    const hot = hashKey('hot', SEED)
    const warm = hashKey('warm', SEED)
    for (let i = 0; i < 40; i++) sketch.add(hot)
    sketch.add(warm, 6)
    expect(sketch.frequency(hot)).toBe(15)
    expect(sketch.frequency(warm)).toBe(6)
    sketch.halve()
    expect(sketch.frequency(hot)).toBe(7)
    expect(sketch.frequency(warm)).toBe(3)
    sketch.halve()
    sketch.halve()
    sketch.halve()
    expect(sketch.frequency(hot)).toBe(0)
  })

  it('mixes the key hash with its seed: the same keys collide differently under another seed', () => {
    const a = new FrequencySketch(64, 1)
    const b = new FrequencySketch(64, 2)
    for (let i = 0; i < 300; i++) {
      a.add(hashKey(`noise-${i}`, 0))
      b.add(hashKey(`noise-${i}`, 0))
    }
    let differ = 0
    for (let i = 0; i < 300; i++) {
      const probe = hashKey(`probe-${i}`, 0)
      if (a.frequency(probe) !== b.frequency(probe)) differ++
    }
    expect(differ).toBeGreaterThan(10)
  })

  it('grows with the entries: the sample is 80 asks per entry, the table 7 bytes per entry and an eighth more', () => {
    const sketch = new FrequencySketch(100, SEED)
    expect(sketch.sampleSize).toBe(8000)
    expect(sketch.bytes).toBe(792) // 113 entries of 14 four-bit counters, in whole words
    const hash = hashKey('kept', SEED)
    sketch.add(hash, 5)
    sketch.resize(110) // still within the table: the counts stay
    expect(sketch.sampleSize).toBe(8800)
    expect(sketch.frequency(hash)).toBe(5)
    sketch.resize(5000) // a new table, an eighth larger than the entries
    expect(sketch.sampleSize).toBe(400_000)
    expect(sketch.bytes).toBe(Math.ceil((5625 * 14) / 8) * 4)
    expect(sketch.frequency(hash)).toBe(0)
  })
})

const value = (i: number) => `value-${String(i).padStart(6, '0')}`
const keyOf = (i: number) => `k${String(i).padStart(6, '0')}`
const SIZE = entrySize(keyOf(0), value(0))

function store(entries: number, policy: StorePolicy = 'tinylfu', hotShare = 0, random = () => 0.5) {
  const maxBytes = entries * SIZE
  return new Store(
    { maxBytes, maxEntryBytes: maxBytes, maxHotBytes: Math.floor(maxBytes * hotShare), staleMs: 0 },
    () => 0,
    { policy, random },
  )
}

/** Cache-aside: a get, and a set on a miss. Returns whether it hit. */
function ask(s: Store, i: number, v: string = value(i)): boolean {
  if (s.get(keyOf(i)) !== undefined) return true
  s.set('main', keyOf(i), v)
  return false
}

describe('W-TinyLFU admission', () => {
  for (const policy of ['tinylfu', 'lru'] as const) {
    it(`${policy}: a scan of one-off keys ${policy === 'tinylfu' ? 'does not flush' : 'flushes'} the keys asked for most`, () => {
      const s = store(100, policy)
      for (let round = 0; round < 20; round++) for (let i = 0; i < 80; i++) ask(s, i)
      // A batch job reads 20,000 keys once each, while the 80 popular keys go on being asked for.
      let hot = 0
      let hotHits = 0
      for (let i = 0; i < 20_000; i++) {
        ask(s, 1000 + i)
        if (i % 3 === 0) {
          hot++
          if (ask(s, (i / 3) % 80)) hotHits++
        }
      }
      if (policy === 'tinylfu') expect(hotHits / hot).toBeGreaterThan(0.9)
      else expect(hotHits / hot).toBeLessThan(0.3)
    })
  }

  it('a large value asked for rarely does not evict many small values asked for often', () => {
    const s = store(100)
    for (let round = 0; round < 10; round++) for (let i = 0; i < 100; i++) ask(s, i)
    const big = 'x'.repeat(20 * SIZE) // needs about 21 small entries' room
    ask(s, 5000, big)
    ask(s, 5001) // pushes the big value out of the window: it must now win its place
    expect(s.get(keyOf(5000))).toBeUndefined()
    let kept = 0
    for (let i = 0; i < 100; i++) if (s.get(keyOf(i)) !== undefined) kept++
    expect(kept).toBeGreaterThanOrEqual(98) // at most the window's own entry left
  })

  it('a large value asked for more often than the victims together takes their room', () => {
    const s = store(100)
    for (let i = 0; i < 100; i++) ask(s, i) // each asked for once
    const big = 'x'.repeat(5 * SIZE)
    for (let t = 0; t < 12; t++) s.get(keyOf(5000)) // asked for (and missed) often before it loads
    ask(s, 5000, big)
    ask(s, 5001)
    expect(s.get(keyOf(5000))).toBe(big)
    expect(s.stats().main.evictions).toBeGreaterThanOrEqual(5)
    expect(s.bytes).toBeLessThanOrEqual(100 * SIZE)
  })

  it('a miss that get did not count teaches the policy nothing until countMiss counts it', () => {
    for (const counted of [false, true]) {
      const s = store(100)
      for (let i = 0; i < 100; i++) ask(s, i)
      for (let i = 0; i < 100; i++) s.get(keyOf(i)) // every victim asked for once more
      const big = 'x'.repeat(5 * SIZE)
      for (let t = 0; t < 12; t++) {
        expect(s.get(keyOf(5000), false)).toBeUndefined()
        if (counted) s.countMiss(keyOf(5000))
      }
      ask(s, 5000, big)
      ask(s, 5001) // pushes the big value out of the window: it must now win its place
      expect(s.get(keyOf(5000))).toBe(counted ? big : undefined)
    }
  })

  it('notFound answers after a get that found no entry, and again once the key is set', () => {
    const s = store(100)
    expect(s.get('gone', false)).toBeUndefined()
    expect(s.notFound('gone')).toBe(false)
    s.set('main', 'gone', NOT_FOUND)
    expect(s.notFound('gone')).toBe(true)
    expect(s.get('other')).toBeUndefined()
    expect(s.notFound('gone')).toBe(true)
    s.delete('gone')
    expect(s.notFound('gone')).toBe(false)
  })

  it('a candidate that loses is still admitted once in 128 tries when frequent (hash flooding), never when rare', () => {
    for (const [random, expected] of [
      [() => 0, true],
      [() => 0.5, false],
    ] as const) {
      const s = store(10, 'tinylfu', 0, random)
      for (let round = 0; round < 15; round++) for (let i = 0; i < 10; i++) ask(s, i) // victims at 15+
      for (let t = 0; t < 7; t++) s.get(keyOf(99)) // frequent, but less than the victims
      ask(s, 99)
      ask(s, 98)
      expect(s.get(keyOf(99)) !== undefined).toBe(expected)
    }
    const rare = store(10, 'tinylfu', 0, () => 0)
    for (let round = 0; round < 15; round++) for (let i = 0; i < 10; i++) ask(rare, i)
    ask(rare, 99)
    ask(rare, 98)
    expect(rare.get(keyOf(99))).toBeUndefined()
  })

  it('a value fetched from its owner becomes a hot copy when it is read here more often than the copy it displaces', () => {
    const s = store(100, 'tinylfu', 0.1) // 10 hot copies fit
    for (let i = 0; i < 10; i++) {
      s.get(keyOf(i))
      s.get(keyOf(i))
      expect(s.set('hot', keyOf(i), value(i))).toBe(true) // room: kept
    }
    for (let i = 0; i < 10; i++) s.get(keyOf(i)) // the copies are read here
    s.get(keyOf(50))
    expect(s.set('hot', keyOf(50), value(50))).toBe(false) // read once: loses to every copy
    for (let t = 0; t < 6; t++) s.get(keyOf(51))
    expect(s.set('hot', keyOf(51), value(51))).toBe(true) // read often: displaces the oldest copy
    expect(s.stats().hot.items).toBe(10)
    expect(s.admission().rejections).toBe(1)
  })

  it('the LRU policy keeps every hot copy it is given (the draw is the read path’s)', () => {
    const s = store(100, 'lru', 0.1)
    for (let i = 0; i < 30; i++) expect(s.set('hot', keyOf(i), value(i))).toBe(true)
    expect(s.stats().hot.items).toBe(10)
  })
})

describe('the ghost filter', () => {
  const hashes = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => hashKey(`ghost-${from + i}`, SEED))

  it('remembers the last half of its capacity, forgets keys two generations old, and rarely claims others', () => {
    const ghosts = new GhostFilter(1000, SEED)
    for (const hash of hashes(0, 2000)) ghosts.add(hash)
    expect(hashes(1500, 2000).every((hash) => ghosts.has(hash))).toBe(true)
    const forgotten = hashes(0, 1000).filter((hash) => ghosts.has(hash)).length
    const strangers = hashes(10_000, 20_000).filter((hash) => ghosts.has(hash)).length
    expect(forgotten).toBeLessThan(50)
    expect(strangers).toBeLessThan(10_000 * 0.05)
  })

  it('costs 1.5 bytes per key of capacity and an eighth more, and forgets everything only when it must grow', () => {
    const ghosts = new GhostFilter(1024, SEED)
    expect(ghosts.bytes).toBe(1728)
    const hash = hashKey('left', SEED)
    ghosts.add(hash)
    expect(ghosts.has(hash)).toBe(true)
    ghosts.resize(1100) // within the eighth: kept
    expect(ghosts.bytes).toBe(1728)
    expect(ghosts.has(hash)).toBe(true)
    ghosts.resize(4096)
    expect(ghosts.bytes).toBe(6912)
    expect(ghosts.has(hash)).toBe(false)
  })
})

describe('the window controller', () => {
  const hash = (i: number) => hashKey(`left-${i}`, SEED)

  it('grows the window when rejected keys come back, and shrinks it when evicted keys do', () => {
    const window = new WindowController(1000, SEED)
    expect(window.share).toBe(MIN_WINDOW)
    for (let i = 0; i < 400; i++) window.rejected(hash(i))
    for (let i = 0; i < 400; i++) window.missed(hash(i))
    const grown = window.share
    expect(grown).toBeGreaterThan(MIN_WINDOW)
    for (let i = 400; i < 800; i++) window.evicted(hash(i))
    for (let i = 400; i < 800; i++) window.missed(hash(i))
    expect(window.share).toBeLessThan(grown)
  })

  it('does not move while the two kinds of misses balance, nor for misses of keys that never left', () => {
    // Sized for 100,000 entries, so that the 10,000 misses below stay within one period (no leak).
    const window = new WindowController(100_000, SEED)
    for (let i = 0; i < THRESHOLD; i++) window.rejected(hash(i))
    for (let i = 0; i < THRESHOLD; i++) window.missed(hash(i))
    const grown = window.share
    expect(grown).toBeGreaterThan(MIN_WINDOW)
    for (let round = 0; round < 50; round++) {
      const base = 1000 + 100 * round
      for (let i = 0; i < 50; i++) {
        window.rejected(hash(base + 2 * i))
        window.evicted(hash(base + 2 * i + 1))
      }
      for (let i = 0; i < 100; i++) window.missed(hash(base + i))
      for (let i = 0; i < 100; i++) window.missed(hash(1_000_000 + 100 * round + i))
    }
    expect(window.share).toBe(grown)
  })

  it('shrinks by itself every period of one miss per entry, down to its least', () => {
    const window = new WindowController(1000, SEED)
    for (let i = 0; i < THRESHOLD; i++) window.rejected(hash(i))
    for (let i = 0; i < THRESHOLD; i++) window.missed(hash(i))
    const grown = window.share
    for (let i = 0; i < 1000 - THRESHOLD; i++) window.missed(hash(100_000 + i)) // the period ends
    expect(window.share).toBeCloseTo(grown - LEAK, 9)
    for (let i = 0; i < 10_000; i++) window.missed(hash(200_000 + i))
    expect(window.share).toBe(MIN_WINDOW)
  })

  it('says the counts are stale when enough of a period’s misses are of rejected keys', () => {
    const period = 1000
    const run = (rejectedShare: number) => {
      const window = new WindowController(period, SEED)
      const rejected = Math.round(rejectedShare * period)
      for (let i = 0; i < rejected; i++) window.rejected(hash(i))
      let stale = 0
      for (let i = 0; i < rejected; i++) stale += window.missed(hash(i)) ? 1 : 0
      for (let i = rejected; i < period; i++) stale += window.missed(hash(100_000 + i)) ? 1 : 0
      return stale
    }
    expect(run(STALE_SHARE + 0.02)).toBe(1)
    expect(run(STALE_SHARE - 0.05)).toBe(0)
  })

  it('makes each move in the same direction larger, and starts small again after a turn', () => {
    const window = new WindowController(10_000, SEED)
    let next = 0
    /** One move's worth of misses of one kind; returns how far the window moved. */
    const move = (kind: 'rejected' | 'evicted') => {
      const before = window.share
      for (let i = 0; i < THRESHOLD; i++) window[kind](hash(next + i))
      for (let i = 0; i < THRESHOLD; i++) window.missed(hash(next + i))
      next += THRESHOLD
      return window.share - before
    }
    const first = move('rejected')
    expect(first).toBeCloseTo(32 / 10_000, 6)
    const second = move('rejected')
    const third = move('rejected')
    expect(second).toBeGreaterThan(first)
    expect(third).toBeGreaterThan(second)
    expect(move('evicted')).toBeCloseTo(-first, 6)
  })

  it('moves only after a run of misses of one kind, and stays within its bounds', () => {
    const window = new WindowController(64, SEED)
    for (let i = 0; i < THRESHOLD - 1; i++) window.rejected(hash(i))
    for (let i = 0; i < THRESHOLD - 1; i++) window.missed(hash(i))
    expect(window.share).toBe(MIN_WINDOW)
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < THRESHOLD; i++) window.rejected(hash(1000 * round + i))
      for (let i = 0; i < THRESHOLD; i++) window.missed(hash(1000 * round + i))
    }
    expect(window.share).toBe(MAX_WINDOW)
  })
})

describe('the window of a store', () => {
  /** A seeded Zipf(0.99) rank in [0, keys). */
  function zipf(keys: number, seed: number): () => number {
    const weights = Array.from({ length: keys }, (_, i) => 1 / (i + 1) ** 0.99)
    const total = weights.reduce((a, b) => a + b)
    const cumulative = new Float64Array(keys)
    let sum = 0
    for (let i = 0; i < keys; i++) cumulative[i] = sum += weights[i]! / total
    let state = seed
    return () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0
      const u = state / 0x100000000
      let lo = 0
      let hi = keys - 1
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (cumulative[mid]! < u) lo = mid + 1
        else hi = mid
      }
      return lo
    }
  }

  it('grows when the popular keys keep changing, and stays small when they stay the same', () => {
    const keys = 100_000
    /** The window's mean share over the second half of 100,000 asks, and its largest. */
    const replay = (keyAt: (i: number) => number) => {
      const s = store(200)
      let sum = 0
      let samples = 0
      let max = 0
      for (let i = 0; i < 100_000; i++) {
        ask(s, keyAt(i))
        const share = s.admission().windowShare
        if (share > max) max = share
        if (i >= 50_000 && i % 1000 === 0) {
          sum += share
          samples++
        }
      }
      return { mean: sum / samples, max }
    }
    const shiftingRank = zipf(keys, 7)
    // The popular keys are replaced by others, never seen before, every 4,000 asks (20 per entry held).
    const shifting = replay((i) => (shiftingRank() + Math.floor(i / 4000) * 7919) % keys)
    expect(shifting.mean).toBeGreaterThan(0.5)
    const stationaryRank = zipf(keys, 7)
    const stationary = replay(() => stationaryRank())
    expect(stationary.max).toBeLessThan(0.1)
  })

  it('comes back down, and hits as a new store does, when popularity that kept moving settles', () => {
    const keys = 100_000
    /** Hits of the last 100,000 of 200,000 stationary asks. */
    const settle = (s: Store, rankOf: () => number) => {
      let hits = 0
      for (let i = 0; i < 200_000; i++) if (ask(s, rankOf()) && i >= 100_000) hits++
      return hits
    }
    const moved = store(200)
    const rankOf = zipf(keys, 7)
    for (let i = 0; i < 100_000; i++) ask(moved, (rankOf() + (Math.floor(i / 4000) + 1) * 7919) % keys)
    expect(moved.admission().windowShare).toBeGreaterThan(0.5)
    const afterMoving = settle(moved, rankOf)
    expect(moved.admission().windowShare).toBeLessThan(0.1)
    const fresh = settle(store(200), zipf(keys, 7))
    expect(afterMoving).toBeGreaterThan(0.95 * fresh)
  })
})

describe('hot keys', () => {
  for (const policy of ['tinylfu', 'lru'] as const) {
    it(`lists the keys asked for again while held, most asks first, hot copies marked (${policy})`, () => {
      const s = store(100, policy, 0.2)
      for (let i = 0; i < 30; i++) ask(s, i)
      for (let t = 0; t < 5; t++) s.get(keyOf(3))
      for (let t = 0; t < 2; t++) s.get(keyOf(7))
      s.get(keyOf(500))
      s.set('hot', keyOf(500), value(500))
      for (let t = 0; t < 3; t++) s.get(keyOf(500))
      expect(s.hottest(10)).toEqual([
        { key: keyOf(3), part: 'main', asks: 5 },
        { key: keyOf(500), part: 'hot', asks: 3 },
        { key: keyOf(7), part: 'main', asks: 2 },
      ])
      expect(s.hottest(1)).toEqual([{ key: keyOf(3), part: 'main', asks: 5 }])
    })
  }
})

describe('W-TinyLFU in a namespace', () => {
  afterEach(closeAll)

  it('learns from the misses of keys the node owns: a value asked for often before it loads takes its place', async () => {
    for (const counted of [true, false]) {
      const n = node({ random: () => 0.5 })
      const big = 'x'.repeat(5 * SIZE)
      let failing = 12
      const ns = n.namespace('admit', {
        maxBytes: 100 * SIZE,
        hot: false,
        load: (key) => {
          if (key !== keyOf(5000)) return value(Number(key.slice(1)))
          if (failing-- > 0) throw new Error('the source is down')
          return big
        },
      })
      for (let i = 0; i < 100; i++) await ns.get(keyOf(i))
      for (let i = 0; i < 100; i++) expect(await ns.get(keyOf(i))).toBe(value(i)) // the victims, asked once more
      // Asked for 12 times while its source fails: misses of a key this node owns, so they count.
      // The control run skips those asks, and the value, asked for once, loses its place.
      for (let t = 0; t < 12; t++) {
        if (counted) await expect(ns.get(keyOf(5000))).rejects.toThrow()
        else failing--
      }
      expect(await ns.get(keyOf(5000))).toBe(big)
      await ns.get(keyOf(5001)) // pushes it out of the window: it must now win its place
      expect(ns.peek(keyOf(5000))).toBe(counted ? big : undefined)
      await n.close()
    }
  })
})

describe('W-TinyLFU counts the misses of keys this node may keep', () => {
  afterEach(closeAll)

  const misses = (n: Burrow) => n.stats().namespaces['test']!.admission.misses

  /** Two live nodes, `a` and `b`, and five keys each owns. */
  async function pair(hot: boolean) {
    const [a, b] = [node({ random: () => 0.5 }), node({ random: () => 0.5 })]
    const spaces = [a, b].map((n) =>
      n.namespace('test', { hot: hot ? {} : false, load: (key) => `v ${key}` }),
    )
    await Promise.all([a.listen(), b.listen()])
    for (const n of [a, b]) n.setPeers([a.self, b.self])
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`)
    const ownedBy = (n: Burrow) => keys.filter((k) => a.ownerOf(k) === n.self).slice(0, 5)
    return { a, b, ns: spaces[0]!, ofA: ownedBy(a), ofB: ownedBy(b) }
  }

  it('its own keys (also asked by a peer); another node’s not, when it keeps no hot copies', async () => {
    const { a, b, ns, ofA, ofB } = await pair(false)
    for (const key of ofA) expect(await ns.get(key)).toBe(`v ${key}`)
    expect(misses(a)).toBe(ofA.length)
    for (const key of ofB) expect(await ns.get(key)).toBe(`v ${key}`)
    expect(misses(a)).toBe(ofA.length) // b's keys: a keeps nothing of them
    expect(misses(b)).toBe(ofB.length) // counted by their owner, asked by a
  })

  it('a peek that finds nothing counts as a get’s miss would: own keys only, without hot copies', async () => {
    const { a, ns, ofA, ofB } = await pair(false)
    for (const key of [...ofA, ...ofB]) expect(ns.peek(key)).toBeUndefined()
    expect(misses(a)).toBe(ofA.length)
    const hot = await pair(true)
    for (const key of [...hot.ofA, ...hot.ofB]) expect(hot.ns.peek(key)).toBeUndefined()
    expect(misses(hot.a)).toBe(hot.ofA.length + hot.ofB.length)
  })

  it('every key, when it keeps hot copies', async () => {
    const { a, ns, ofA, ofB } = await pair(true)
    for (const key of [...ofA, ...ofB]) await ns.get(key)
    expect(misses(a)).toBe(ofA.length + ofB.length)
  })

  it('a key whose owner is unreachable, loaded here and kept in main', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const gone = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await new Promise<void>((resolve) => server.close(() => resolve())) // refused from now on
    const n = node({ random: () => 0.5 })
    const ns = n.namespace('test', { hot: false, load: (key) => `here ${key}` })
    await n.listen()
    n.setPeers([n.self, gone])
    const key = Array.from({ length: 400 }, (_, i) => `k${i}`).find((k) => n.ownerOf(k) === gone)!
    expect(await ns.get(key)).toBe(`here ${key}`)
    expect(n.stats().namespaces['test']).toMatchObject({ fallbackLoads: 1 })
    expect(ns.peek(key)).toBe(`here ${key}`)
    expect(misses(n)).toBe(1)
  })

  it('not a stale hit: an entry past its TTL served while it refreshes is an ask, not a miss', async () => {
    const clock = manualClock()
    let loads = 0
    const n = node({ clock })
    const ns = n.namespace('test', { ttl: 1000, staleTtl: 10_000, load: () => `v${++loads}` })
    expect(await ns.get('k')).toBe('v1')
    expect(misses(n)).toBe(1)
    clock.t += 1500
    for (let i = 0; i < 10; i++) await ns.get('k')
    expect(misses(n)).toBe(1)
  })
})
