import { afterEach, describe, expect, it } from 'vitest'
import { Burrow, BurrowError } from '../src/index.ts'
import { closeAll, node, thrownBy } from './helpers.ts'

afterEach(closeAll)

/** Asserts that `fn` throws a BurrowError with `code` whose message contains every one of `words`. */
function expectCode(fn: () => unknown, code: string, ...words: string[]): void {
  const err = thrownBy(fn)
  expect(err.code).toBe(code)
  for (const word of words) expect(err.message).toContain(word)
}

describe('bad input gets a coded error and the node keeps working', () => {
  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
    ['an object', { key: 'x' }],
  ])('get with %s as key rejects with BURROW_ERR_BAD_KEY', async (_, key) => {
    let calls = 0
    const ns = node().namespace('test', {
      load: () => {
        calls++
        return 'v'
      },
    })
    await expect(ns.get(key as string)).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_KEY' })
    expect(() => ns.peek(key as string)).toThrow(BurrowError)
    expect(calls).toBe(0)
    expect(await ns.get('fine')).toBe('v')
  })

  it('a key longer than maxKeyBytes in UTF-8 is refused; one at the limit is fine', async () => {
    const ns = node({ maxKeyBytes: 12 }).namespace('test', { load: (key) => key })
    await expect(ns.get('€€€€€')).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_KEY' }) // 15 bytes, 5 chars
    expect(await ns.get('€€€€')).toBe('€€€€') // 12 bytes
    await expect(ns.get('x'.repeat(13))).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_KEY' })
  })

  it('a key with a lone surrogate is refused (it could not cross the wire unchanged)', async () => {
    const ns = node().namespace('test', { load: (key) => key })
    await expect(ns.get('a\uD800b')).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_KEY' })
    expect(await ns.get('😀')).toBe('😀')
  })

  it.each(['', 'has space', 'slash/', 'ü', 'x'.repeat(65), 42, undefined])(
    'namespace name %j is refused',
    (name) => {
      const n = node()
      expectCode(
        () => n.namespace(name as string, { load: () => 'v' }),
        'BURROW_ERR_BAD_NAMESPACE',
        'namespace',
      )
      expect(n.namespace('ok.name_1-2', { load: () => 'v' }).name).toBe('ok.name_1-2')
    },
  )

  it('a duplicate namespace is refused and the first keeps working', async () => {
    const n = node()
    const first = n.namespace('test', { load: () => 'first' })
    expectCode(() => n.namespace('test', { load: () => 'second' }), 'BURROW_ERR_DUPLICATE_NAMESPACE', 'test')
    expect(await first.get('k')).toBe('first')
  })

  it.each([
    ['negative', -1],
    ['non-integer', 1.5],
    ['a string', '100'],
    ['NaN', Number.NaN],
  ])('maxBytes %s is refused, naming the option and the value', (_, maxBytes) => {
    const n = node()
    expectCode(
      () => n.namespace('test', { maxBytes: maxBytes as number, load: () => 'v' }),
      'BURROW_ERR_BAD_OPTION',
      'test.maxBytes',
      String(maxBytes),
    )
  })

  it('a missing or non-function loader is refused', () => {
    const n = node()
    expectCode(() => n.namespace('test', {} as never), 'BURROW_ERR_BAD_OPTION', 'test.load', 'undefined')
    expectCode(
      () => n.namespace('test', { load: 'db' } as never),
      'BURROW_ERR_BAD_OPTION',
      'test.load',
      '"db"',
    )
  })

  it('other namespace options are checked eagerly', () => {
    const n = node()
    const load = () => 'v'
    expectCode(
      () => n.namespace('a', { load, maxEntryBytes: 10, maxBytes: 5 }),
      'BURROW_ERR_BAD_OPTION',
      'a.maxEntryBytes',
    )
    expectCode(
      () => n.namespace('b', { load, hot: { fraction: 0.9 } }),
      'BURROW_ERR_BAD_OPTION',
      'b.hot.fraction',
    )
    expectCode(
      () => n.namespace('c', { load, hot: { probability: -1 } }),
      'BURROW_ERR_BAD_OPTION',
      'b.hot.probability'.replace('b', 'c'),
    )
    expectCode(() => n.namespace('d', { load, codec: 'yaml' as never }), 'BURROW_ERR_BAD_OPTION', 'd.codec')
    expectCode(
      () => n.namespace('e', { load, peerFallback: 'yes' as never }),
      'BURROW_ERR_BAD_OPTION',
      'e.peerFallback',
    )
    expectCode(() => n.namespace('f', null as never), 'BURROW_ERR_BAD_OPTION', 'options')
  })

  it('freshness options are checked eagerly: TTLs are milliseconds >= 0, jitter is in [0, 1)', () => {
    const n = node()
    const load = () => 'v'
    for (const option of ['ttl', 'notFoundTtl', 'staleTtl', 'refreshBackoffMs'] as const) {
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100']) {
        expectCode(
          () => n.namespace(`t-${option}`, { load, [option]: bad }),
          'BURROW_ERR_BAD_OPTION',
          `.${option}`,
        )
      }
    }
    for (const bad of [-0.1, 1, 2, Number.NaN]) {
      expectCode(() => n.namespace('j', { load, ttlJitter: bad }), 'BURROW_ERR_BAD_OPTION', 'j.ttlJitter')
    }
    expectCode(() => n.namespace('h', { load, hot: { maxTtl: -5 } }), 'BURROW_ERR_BAD_OPTION', 'h.hot.maxTtl')
    const ok = n.namespace('ok', { load, ttl: 60_000, ttlJitter: 0.99, notFoundTtl: 0, staleTtl: 1 })
    expect(ok.name).toBe('ok')
  })

  it('an unknown option is refused, naming it, instead of being silently ignored', () => {
    const n = node()
    const load = () => 'v'
    expectCode(() => n.namespace('a', { load, ttlMs: 60_000 } as never), 'BURROW_ERR_BAD_OPTION', 'a.ttlMs')
    expectCode(
      () => n.namespace('b', { load, hot: { fracton: 0.1 } } as never),
      'BURROW_ERR_BAD_OPTION',
      'b.hot.fracton',
    )
    expectCode(() => new Burrow({ peerTimeout: 10 } as never), 'BURROW_ERR_BAD_OPTION', 'options.peerTimeout')
  })

  it('node options are checked eagerly', () => {
    expectCode(() => new Burrow({ self: 'not a url' }), 'BURROW_ERR_BAD_OPTION', 'self')
    expectCode(() => new Burrow({ self: 'ftp://127.0.0.1:1' }), 'BURROW_ERR_BAD_OPTION', 'self')
    expectCode(() => new Burrow({ self: 'http://127.0.0.1:1/path' }), 'BURROW_ERR_BAD_OPTION', 'self')
    expectCode(() => new Burrow({ peers: ['http://a:1', 7 as never] }), 'BURROW_ERR_BAD_OPTION', 'peers[1]')
    expectCode(() => new Burrow({ maxKeyBytes: 0 }), 'BURROW_ERR_BAD_OPTION', 'maxKeyBytes')
    expectCode(() => new Burrow({ peerTimeoutMs: -5 }), 'BURROW_ERR_BAD_OPTION', 'peerTimeoutMs')
    expectCode(() => new Burrow({ random: 0.5 as never }), 'BURROW_ERR_BAD_OPTION', 'random')
    expectCode(() => new Burrow({ clock: {} as never }), 'BURROW_ERR_BAD_OPTION', 'clock.now')
    expectCode(() => new Burrow({ replicas: 0 }), 'BURROW_ERR_BAD_OPTION', 'replicas')
  })
})
