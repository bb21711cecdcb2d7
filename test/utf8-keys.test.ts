/**
 * Keys are text. Bytes that are not UTF-8 are refused with BURROW_ERR_BAD_KEY, never decoded to
 * U+FFFD, where `\xff`, `\xfe`, `\x80` and a real U+FFFD would all be one key sharing one value.
 */
import { Buffer } from 'node:buffer'
import { afterEach, describe, expect, it } from 'vitest'
import { RespError } from '../src/transport/resp/reader.ts'
import { closeAll } from './helpers.ts'
import { cluster } from './support/cluster.ts'
import { command, openTalk, redisTo } from './support/resp-talk.ts'

afterEach(closeAll)

/** Keys that are not UTF-8: lone bytes, a truncated sequence, an encoded surrogate, an overlong form. */
const notUtf8 = [[0xff], [0xfe], [0x80], [0x61, 0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]].map((b) =>
  Buffer.from(b),
)
const REAL_FFFD = Buffer.from('\ufffd')

describe('keys that are not valid UTF-8, over RESP', () => {
  it('BURROW.GET, SET and DEL refuse them with BURROW_ERR_BAD_KEY, and never load them', async () => {
    const { nodes, loads } = await cluster(2)
    const redis = redisTo(nodes[0]!.self)
    for (const key of notUtf8) {
      await expect(redis.call('BURROW.GET', 'test', key)).rejects.toThrow(/^BURROW_ERR_BAD_KEY .*UTF-8/)
      await expect(redis.call('BURROW.SET', 'test', key, 'v')).rejects.toThrow(/^BURROW_ERR_BAD_KEY/)
      await expect(redis.call('BURROW.DEL', 'test', key)).rejects.toThrow(/^BURROW_ERR_BAD_KEY/)
    }
    expect(loads).toEqual([])
    // A real U+FFFD, and any other valid UTF-8, is a key like any other.
    expect(await redis.call('BURROW.GET', 'test', REAL_FFFD)).toBe('value of \ufffd')
    expect(await redis.call('BURROW.GET', 'test', 'ü 😀')).toBe('value of ü 😀')
    expect(loads.map((l) => l.key).sort()).toEqual(['ü 😀', '\ufffd'])
    expect(await redis.ping()).toBe('PONG')
  })

  it('two keys never share a value: a value set for U+FFFD is not what \\xff, \\xfe or \\x80 read', async () => {
    const { nodes } = await cluster(2)
    const redis = redisTo(nodes[1]!.self)
    expect(await redis.call('BURROW.SET', 'test', REAL_FFFD, 'the real U+FFFD')).toBe('OK')
    for (const key of notUtf8) await expect(redis.call('BURROW.GET', 'test', key)).rejects.toThrow(/BAD_KEY/)
    expect(await redis.call('BURROW.GET', 'test', REAL_FFFD)).toBe('the real U+FFFD')
  })

  it('the peer commands answer a tagged BURROW_ERR_BAD_KEY, and store nothing', async () => {
    const { nodes, namespaces } = await cluster(1)
    const c = await openTalk(nodes[0]!.self)
    const key = Buffer.from([0xfe])
    c.write(
      Buffer.concat([
        command('BURROW.FETCH', '1', 'test', key),
        command('BURROW.STORE', '2', 'test', key, 's', 'stored', '-1'),
        command('BURROW.PEEK', '3', 'test', key),
        command('BURROW.PURGE', '4', 'test', key),
        command('BURROW.FETCH', '5', 'test', REAL_FFFD),
      ]),
    )
    const replies = (await c.replies(5)) as [number, string, unknown][]
    const byId = new Map(replies.map((r) => [r[0], r]))
    for (const id of [1, 2, 3, 4]) {
      const [, status, error] = byId.get(id)!
      expect(status).toBe('e')
      expect((error as RespError).message).toMatch(/^BURROW_ERR_BAD_KEY .*UTF-8/)
    }
    expect(byId.get(5)).toEqual([5, 's', Buffer.from('value of \ufffd'), -1])
    expect(namespaces[0]!.peek('\ufffd')).toBe('value of \ufffd')
    const stats = nodes[0]!.stats().namespaces['test']!
    expect(stats.main.items + stats.hot.items).toBe(1)
    expect(stats.stores).toBe(0)
  })

  it('a namespace that is not UTF-8 is refused as unknown, tagged for the peer commands', async () => {
    const { nodes } = await cluster(1)
    const c = await openTalk(nodes[0]!.self)
    const name = Buffer.from([0x74, 0x65, 0x73, 0x74, 0xff]) // "test\xff"
    c.write(Buffer.concat([command('BURROW.GET', name, 'k'), command('BURROW.FETCH', '9', name, 'k')]))
    const replies = await c.replies(2)
    const [untagged] = replies.filter((r) => r instanceof RespError) as RespError[]
    expect(untagged!.message).toMatch(/^BURROW_ERR_UNKNOWN_NAMESPACE/)
    const [tagged] = replies.filter(Array.isArray) as [number, string, RespError][]
    expect(tagged![0]).toBe(9)
    expect(tagged![1]).toBe('e')
    expect(tagged![2].message).toMatch(/^BURROW_ERR_UNKNOWN_NAMESPACE/)
  })

  it('an inline command with such a key is refused too', async () => {
    const { nodes } = await cluster(1)
    const c = await openTalk(nodes[0]!.self)
    c.write(Buffer.from('BURROW.GET test \xff\r\nBURROW.GET test ok\r\n', 'latin1'))
    const [refused, value] = await c.replies(2)
    expect((refused as RespError).message).toMatch(/^BURROW_ERR_BAD_KEY/)
    expect(value).toEqual(Buffer.from('value of ok'))
  })
})
