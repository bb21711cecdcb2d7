import { afterEach, describe, expect, it } from 'vitest'
import { ENTRY_OVERHEAD_BYTES } from '../src/index.ts'
import { closeAll, node, thrownBy } from './helpers.ts'

afterEach(closeAll)

/** A loader of 100-byte string values that counts its calls per key. */
function counting() {
  const calls = new Map<string, number>()
  const load = (key: string): string => {
    calls.set(key, (calls.get(key) ?? 0) + 1)
    return key.padEnd(100, '.')
  }
  return { calls, load }
}

describe('the byte budget under the LRU policy', () => {
  it('filling far past maxBytes evicts least recently used first and keeps bytes within the budget', async () => {
    const { load } = counting()
    const n = node()
    const size = 3 + 100 + ENTRY_OVERHEAD_BYTES // 3-byte key, 100-byte value
    const ns = n.namespace('test', { maxBytes: size * 10, maxEntryBytes: size, policy: 'lru', load })
    const first = Array.from({ length: 10 }, (_, i) => `a0${i}`)
    for (const key of first) await ns.get(key)
    expect(n.stats().namespaces['test']!.main).toEqual({ bytes: size * 10, items: 10, evictions: 0 })
    ns.peek('a00') // a00 becomes the most recently used
    for (let i = 0; i < 5; i++) await ns.get(`b0${i}`)
    expect(first.filter((key) => ns.peek(key) !== undefined)).toEqual(['a00', 'a06', 'a07', 'a08', 'a09'])
    for (let i = 0; i < 200; i++) {
      await ns.get(`c${i.toString(36).padStart(2, '0')}`)
      expect(n.stats().namespaces['test']!.main.bytes).toBeLessThanOrEqual(size * 10)
    }
    expect(n.stats().namespaces['test']!.main).toEqual({ bytes: size * 10, items: 10, evictions: 205 })
  })

  it('evicts the least recently used entry, where a read refreshes recency (not FIFO)', async () => {
    const { load } = counting()
    const size = 1 + 100 + ENTRY_OVERHEAD_BYTES
    const ns = node().namespace('test', { maxBytes: size * 3, maxEntryBytes: size, policy: 'lru', load })
    await ns.get('a')
    await ns.get('b')
    await ns.get('c')
    await ns.get('a') // a is now the most recent; b is the oldest
    await ns.get('d')
    expect(ns.peek('b')).toBeUndefined()
    expect(ns.peek('a')).toBeDefined()
    expect(ns.peek('c')).toBeDefined()
    expect(ns.peek('d')).toBeDefined()
  })

  it('an evicted key is loaded again on its next get', async () => {
    const { calls, load } = counting()
    const size = 1 + 100 + ENTRY_OVERHEAD_BYTES
    const ns = node().namespace('test', { maxBytes: size * 2, maxEntryBytes: size, policy: 'lru', load })
    await ns.get('a')
    await ns.get('b')
    await ns.get('c')
    expect(ns.peek('a')).toBeUndefined()
    expect(await ns.get('a')).toBe('a'.padEnd(100, '.'))
    expect(calls.get('a')).toBe(2)
  })

  it('a value larger than maxEntryBytes is returned but not stored', async () => {
    const n = node()
    const ns = n.namespace('test', { maxBytes: 8000, load: () => 'x'.repeat(2000) })
    expect(await ns.get('big')).toHaveLength(2000) // 2000 + overhead > 8000 / 8
    expect(ns.peek('big')).toBeUndefined()
    expect(n.stats().namespaces['test']!.main.bytes).toBe(0)
  })

  it('maxBytes: 0 stores nothing, so every get loads', async () => {
    let calls = 0
    const ns = node().namespace('test', {
      maxBytes: 0,
      load: () => {
        calls++
        return 'v'
      },
    })
    expect(await ns.get('k')).toBe('v')
    expect(await ns.get('k')).toBe('v')
    expect(calls).toBe(2)
  })

  it('counts multi-byte characters as their UTF-8 bytes', async () => {
    const n = node()
    const ns = n.namespace('test', { load: () => 'ü€😀' }) // 2 + 3 + 4 bytes
    await ns.get('ключ') // 8 bytes
    expect(n.stats().namespaces['test']!.main.bytes).toBe(8 + 9 + ENTRY_OVERHEAD_BYTES)
  })

  it('delete removes a key so the next get loads it again', async () => {
    const { calls, load } = counting()
    const ns = node().namespace('test', { load })
    await ns.get('a')
    expect(await ns.delete('a')).toEqual({ unreachable: [] })
    expect(ns.peek('a')).toBeUndefined()
    await ns.get('a')
    expect(calls.get('a')).toBe(2)
  })
})

describe('the byte budget under W-TinyLFU (the default policy)', () => {
  it('keys read often survive a flood of keys read once, and bytes stay within the budget', async () => {
    const { calls, load } = counting()
    const n = node()
    const size = 4 + 100 + ENTRY_OVERHEAD_BYTES
    const ns = n.namespace('test', { maxBytes: size * 10, maxEntryBytes: size, load })
    const popular = ['p000', 'p001', 'p002', 'p003', 'p004']
    for (let round = 0; round < 10; round++) for (const key of popular) await ns.get(key)
    for (let i = 0; i < 300; i++) {
      await ns.get(`f${String(i).padStart(3, '0')}`)
      expect(n.stats().namespaces['test']!.main.bytes).toBeLessThanOrEqual(size * 10)
    }
    expect(popular.filter((key) => ns.peek(key) !== undefined)).toEqual(popular)
    for (const key of popular) expect(calls.get(key)).toBe(1)
    const { admission, main } = n.stats().namespaces['test']!
    expect(admission.policy).toBe('tinylfu')
    expect(admission.rejections).toBeGreaterThan(200)
    expect(main.items).toBeLessThanOrEqual(10)
  })

  it('refuses an unknown policy, naming the option and the value', () => {
    const error = thrownBy(() => node().namespace('p', { load: () => 'v', policy: 'lfu' as never }))
    expect(error).toMatchObject({ code: 'BURROW_ERR_BAD_OPTION' })
    expect(String(error)).toMatch(/p\.policy.*"lfu"/)
  })
})

describe('hot keys of a namespace', () => {
  it('lists keys read again while held, most reads first, and refuses a bad limit', async () => {
    const ns = node().namespace('h', { load: (key) => `v-${key}` })
    for (const key of ['a', 'b', 'c']) await ns.get(key)
    for (let i = 0; i < 4; i++) await ns.get('b')
    ns.peek('c')
    expect(ns.hotKeys()).toEqual([
      { key: 'b', part: 'main', asks: 4 },
      { key: 'c', part: 'main', asks: 1 },
    ])
    expect(ns.hotKeys(1)).toEqual([{ key: 'b', part: 'main', asks: 4 }])
    expect(thrownBy(() => ns.hotKeys(-1))).toMatchObject({ code: 'BURROW_ERR_BAD_OPTION' })
    expect(thrownBy(() => ns.hotKeys(1.5))).toMatchObject({ code: 'BURROW_ERR_BAD_OPTION' })
  })
})
