import { afterEach, describe, expect, it } from 'vitest'
import { type Codec, jsonCodec } from '../src/index.ts'
import { closeAll, node } from './helpers.ts'

afterEach(closeAll)

describe('values keep their kind', () => {
  it('a string loaded is a string returned, on the miss and on the hit', async () => {
    const ns = node().namespace('test', { load: () => 'MIT' })
    expect(await ns.get('6.824')).toBe('MIT')
    expect(await ns.get('6.824')).toBe('MIT')
    expect(ns.peek('6.824')).toBe('MIT')
  })

  it('bytes loaded are equal bytes returned, as a Uint8Array', async () => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255, 13, 10])
    const ns = node().namespace('test', { load: () => bytes })
    const got = await ns.get('b')
    expect(got).toBeInstanceOf(Uint8Array)
    expect([...(got as Uint8Array)]).toEqual([...bytes])
  })

  it('a Buffer loaded comes back as bytes, not as a string', async () => {
    const ns = node().namespace('test', { load: () => Buffer.from('hello') })
    const got = await ns.get('b')
    expect(typeof got).not.toBe('string')
    expect(Buffer.from(got as Uint8Array).toString()).toBe('hello')
  })

  it('bytes that fill their own buffer are kept as loaded: every get returns that same object', async () => {
    const bytes = new Uint8Array([1, 2, 3])
    const ns = node().namespace('test', { load: () => bytes })
    expect(await ns.get('b')).toBe(bytes)
    expect(ns.peek('b')).toBe(bytes)
  })

  it('bytes that view a larger buffer are kept as a copy of their own, so the buffer is not pinned', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const views: Record<string, Uint8Array> = {
      buffer: chunk.subarray(100, 110), // a Buffer stays a Buffer
      plain: new Uint8Array(chunk.buffer, chunk.byteOffset + 200, 10),
      pooled: Buffer.from('hello'), // a slice of Node's Buffer pool
    }
    const ns = node().namespace('test', { load: (key) => views[key] })
    for (const [key, view] of Object.entries(views)) {
      const got = (await ns.get(key)) as Uint8Array
      expect(got).not.toBe(view)
      expect(got.byteLength).toBe(view.byteLength)
      expect(got.buffer.byteLength).toBe(view.byteLength)
      expect([...got]).toEqual([...view])
      expect(Buffer.isBuffer(got)).toBe(Buffer.isBuffer(view))
      expect(ns.peek(key)).toBe(got)
    }
    // The copy is the cache's own: writing into the loaded view later does not change it.
    chunk.fill(0x62)
    expect(Buffer.from(ns.peek('buffer') as Uint8Array).toString()).toBe('a'.repeat(10))
  })

  it('the JSON codec round-trips objects, and every get gets its own copy', async () => {
    const ns = node().namespace<{ name: string; tags: string[] }>('users', {
      codec: 'json',
      load: (id) => ({ name: `user ${id}`, tags: ['a', 'b'] }),
    })
    const first = await ns.get('42')
    expect(first).toEqual({ name: 'user 42', tags: ['a', 'b'] })
    first!.tags.push('mutated')
    expect(await ns.get('42')).toEqual({ name: 'user 42', tags: ['a', 'b'] })
    expect(ns.peek('42')).toEqual({ name: 'user 42', tags: ['a', 'b'] })
  })

  it('the JSON codec caches null, numbers and arrays; undefined still means not found', async () => {
    const values: Record<string, unknown> = { n: null, x: 3.5, a: [1, 'two'] }
    const ns = node().namespace<unknown>('test', { codec: jsonCodec, load: (key) => values[key] })
    expect(await ns.get('n')).toBeNull()
    expect(await ns.get('x')).toBe(3.5)
    expect(await ns.get('a')).toEqual([1, 'two'])
    expect(await ns.get('missing')).toBeUndefined()
  })

  it('a custom codec is used both ways', async () => {
    const dates: Codec<Date> = {
      encode: (d) => d.toISOString(),
      decode: (s) => new Date(s as string),
    }
    const ns = node().namespace('dates', { codec: dates, load: () => new Date(Date.UTC(2026, 10, 21)) })
    const got = await ns.get('today')
    expect(got).toBeInstanceOf(Date)
    expect(got!.toISOString()).toBe('2026-11-21T00:00:00.000Z')
  })

  it('a codec that fails rejects with BURROW_ERR_CODEC and the cause', async () => {
    const broken: Codec<unknown> = {
      encode: () => {
        throw new Error('cannot encode')
      },
      decode: () => null,
    }
    const ns = node().namespace('test', { codec: broken, load: () => 1 })
    await expect(ns.get('k')).rejects.toMatchObject({ code: 'BURROW_ERR_CODEC', cause: expect.any(Error) })
    const circular: Record<string, unknown> = {}
    circular['self'] = circular
    const json = node().namespace<unknown>('json', { codec: 'json', load: () => circular })
    await expect(json.get('k')).rejects.toMatchObject({ code: 'BURROW_ERR_CODEC' })
  })
})

describe('codec failures on a hit', () => {
  it('a decode that throws on a cached value rejects the get (it never throws synchronously)', async () => {
    let decodes = 0
    const ns = node().namespace<string>('test', {
      codec: {
        encode: (v) => v,
        decode: (d) => {
          if (decodes++ > 0) throw new Error('corrupt')
          return d as string
        },
      },
      load: () => 'v',
    })
    expect(await ns.get('k')).toBe('v')
    let result: Promise<unknown> | undefined
    expect(() => {
      result = ns.get('k')
    }).not.toThrow()
    await expect(result).rejects.toMatchObject({ code: 'BURROW_ERR_CODEC' })
  })
})
