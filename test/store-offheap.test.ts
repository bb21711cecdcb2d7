import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NOT_FOUND } from '../src/store/cached.ts'
import { Store } from '../src/store/store.ts'
import { node } from './helpers.ts'

const offHeap = (maxBytes: number, policy: 'lru' | 'tinylfu' = 'lru') =>
  new Store(
    { maxBytes, maxEntryBytes: maxBytes, maxHotBytes: Math.floor(maxBytes / 8), staleMs: 0 },
    () => 0,
    {
      policy,
      storage: 'offheap',
    },
  )

describe('off-heap storage', () => {
  it('gives back every kind of value as it was stored, as a copy of the same class', () => {
    const store = offHeap(10_000_000)
    const bytes = Uint8Array.from([0, 1, 254, 255])
    const buffer = Buffer.from('héllo')
    const values: [string, string | Uint8Array][] = [
      ['ascii', 'plain text'],
      ['empty', ''],
      ['utf8', 'façade, 漢字, 🦡'],
      ['lone surrogate', 'a\uD800b'],
      ['bytes', bytes],
      ['no bytes', new Uint8Array(0)],
      ['buffer', buffer],
    ]
    for (const [key, value] of values) expect(store.set('main', key, value)).toBe(true)
    for (const [key, value] of values) {
      const read = store.get(key)
      expect(read).toStrictEqual(value)
      expect(Buffer.isBuffer(read)).toBe(Buffer.isBuffer(value))
    }
    // A copy: changing what a read returned changes neither the store nor the next read.
    const first = store.get('bytes') as Uint8Array
    first[0] = 99
    expect(store.get('bytes')).toStrictEqual(bytes)
    expect(store.get('buffer')).not.toBe(store.get('buffer'))
    // A Uint8Array read owns its ArrayBuffer, as a loaded value is kept: nothing else to read
    // through it, nothing pinned, and a caller that transfers it to a worker detaches only it.
    const copy = store.get('bytes') as Uint8Array
    const neighbour = store.get('bytes') as Uint8Array
    expect(copy.buffer.byteLength).toBe(copy.byteLength)
    structuredClone(copy, { transfer: [copy.buffer as ArrayBuffer] })
    expect(copy.byteLength).toBe(0)
    expect(neighbour).toStrictEqual(bytes)
    expect(store.get('bytes')).toStrictEqual(bytes)
  })

  it('keeps a cached not-found, and keys that differ only past their first 32 bytes or by normalisation apart', () => {
    const store = offHeap(10_000_000)
    const long = 'k'.repeat(40)
    store.set('main', `${long}a`, 'A')
    store.set('main', `${long}b`, 'B')
    store.set('main', 'caf\u00e9', 'composed')
    store.set('main', 'cafe\u0301', 'decomposed')
    store.set('main', 'gone', NOT_FOUND)
    expect(store.get(`${long}a`)).toBe('A')
    expect(store.get(`${long}b`)).toBe('B')
    expect(store.get(`${long}c`)).toBeUndefined()
    expect(store.get('caf\u00e9')).toBe('composed')
    expect(store.get('cafe\u0301')).toBe('decomposed')
    expect(store.get('gone')).toBeUndefined()
    expect(store.notFound('gone')).toBe(true)
    expect(store.notFound('caf\u00e9')).toBe(false)
    // Keys with a lone surrogate (which the namespace refuses) are still never confused with
    // U+FFFD, their UTF-8 stand-in, nor with each other.
    store.set('main', 'x\uFFFD', 'replacement char')
    store.set('main', 'x\uD800', 'lone high')
    store.set('main', 'x\uDC00', 'lone low')
    expect(store.get('x\uFFFD')).toBe('replacement char')
    expect(store.get('x\uD800')).toBe('lone high')
    expect(store.get('x\uDC00')).toBe('lone low')
    expect(store.get('x\uD801')).toBeUndefined()
    expect(store.delete('x\uD800')).toBe(true)
    expect(store.get('x\uFFFD')).toBe('replacement char')
  })

  it('keeps values too large for a record, and keys too long for one, on the JS heap beside the others', () => {
    const store = offHeap(64 * 1024 * 1024)
    const big = 'v'.repeat(300_000) // past a 1 MiB segment's eighth
    const longKey = 'k'.repeat(200_000)
    store.set('main', 'big', big)
    store.set('main', longKey, 'short value')
    store.set('main', 'small', 'x')
    expect(store.storageStats().heapValues).toBe(2)
    expect(store.get('big')).toBe(big)
    // Bytes kept on the heap are handed out as copies too.
    const bigBytes = new Uint8Array(300_000).fill(7)
    store.set('main', 'big bytes', bigBytes)
    const read = store.get('big bytes') as Uint8Array
    expect(read).toStrictEqual(bigBytes)
    read[0] = 1
    expect(store.get('big bytes')).toStrictEqual(bigBytes)
    store.delete('big bytes')
    expect(store.get(longKey)).toBe('short value')
    expect(store.get(`${longKey}!`)).toBeUndefined()
    store.set('main', 'big', 'now small')
    expect(store.storageStats().heapValues).toBe(1)
    expect(store.delete(longKey)).toBe(true)
    expect(store.get(longKey)).toBeUndefined()
    expect(store.storageStats().heapValues).toBe(0)
    expect(store.get('big')).toBe('now small')
    expect(store.get('small')).toBe('x')
  })

  it('answers like a Map for any well-formed keys and values, across table growth and deletions (property)', () => {
    const key = fc.oneof(
      fc.string({ minLength: 1, maxLength: 4 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    )
    const value = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 50 }), fc.uint8Array({ maxLength: 50 }))
    const op = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key, value }),
      fc.record({ op: fc.constant('delete' as const), key }),
      fc.record({ op: fc.constant('get' as const), key }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const store = offHeap(100_000_000)
        const model = new Map<string, string | Uint8Array>()
        for (const o of ops) {
          if (o.op === 'set') {
            expect(store.set('main', o.key, o.value)).toBe(true)
            model.set(o.key, o.value)
          } else if (o.op === 'delete') expect(store.delete(o.key)).toBe(model.delete(o.key))
          else expect(store.get(o.key)).toStrictEqual(model.get(o.key))
        }
        expect(store.stats().main.items).toBe(model.size)
        for (const [k, v] of model) expect(store.get(k)).toStrictEqual(v)
      }),
      { numRuns: 300 },
    )
  })

  for (const policy of ['lru', 'tinylfu'] as const) {
    it(`under churn, compacts its segments, stays within 1.25 × maxBytes of them, and never mixes up values (${policy})`, () => {
      const maxBytes = 2 * 1024 * 1024
      const store = offHeap(maxBytes, policy)
      const expectedOf = (i: number) => `${i}:`.padEnd(200 + (i % 900), String.fromCharCode(97 + (i % 26)))
      let checked = 0
      for (let i = 0; i < 40_000; i++) {
        // Some keys come back, so W-TinyLFU admits some and main keeps changing.
        const n = i % 3 === 0 ? i % 500 : i
        store.get(`key${n}`)
        store.set('main', `key${n}`, expectedOf(n))
        if (i % 5000 === 4999) {
          for (const k of [...store.keys('main')]) {
            expect(store.get(k)).toBe(expectedOf(Number(k.slice(3))))
            checked++
          }
        }
      }
      const stats = store.storageStats()
      expect(stats.compactedBytes).toBeGreaterThan(0)
      expect(stats.offHeapBytes).toBeLessThanOrEqual(1.25 * maxBytes + 2 * 256 * 1024)
      expect(store.bytes).toBe(store.recount('main'))
      expect(checked).toBeGreaterThan(1000)
    })
  }

  it('frees its segments but one once it holds nothing', () => {
    const store = offHeap(8 * 1024 * 1024)
    for (let i = 0; i < 5000; i++) store.set('main', `k${i}`, 'x'.repeat(1000))
    expect(store.storageStats().offHeapBytes).toBeGreaterThan(1024 * 1024)
    store.clear()
    expect(store.storageStats().offHeapBytes).toBe(1024 * 1024)
    store.set('main', 'again', 'y')
    expect(store.get('again')).toBe('y')
  })

  it("is a namespace option: values and a codec's objects come back equal, and stats report the segments", async () => {
    const n = node()
    const ns = n.namespace('users', {
      storage: 'offheap',
      codec: 'json',
      load: async (key: string) => ({ id: key, tags: ['a', 'b'] }),
    })
    const first = await ns.get('u1')
    const again = await ns.get('u1')
    expect(again).toEqual({ id: 'u1', tags: ['a', 'b'] })
    expect(again).not.toBe(first)
    const stats = n.stats().namespaces.users!
    expect(stats.hits).toBe(1)
    expect(stats.storage).toMatchObject({ kind: 'offheap', heapValues: 0 })
    expect(stats.storage.offHeapBytes).toBeGreaterThan(0)
    expect(() => n.namespace('bad', { storage: 'disk' as never, load: () => 'x' })).toThrow(
      expect.objectContaining({
        code: 'BURROW_ERR_BAD_OPTION',
        message: expect.stringContaining('bad.storage'),
      }),
    )
  })
})
