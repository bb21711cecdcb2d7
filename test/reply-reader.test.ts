import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import { ReplyReader, type ReplyStatus } from '../src/transport/resp/reply-reader.ts'

type Reply = { id: number; status: ReplyStatus; value: string | Buffer | undefined; ttl: number }

/**
 * The wire form of a reply, as docs/protocol.md gives it: `[id, +status, payload]`, then the ttl
 * field when `withTtl`, then `extra` (fields a later version may add), raw.
 */
function encode(r: Reply, withTtl = true, extra: readonly string[] = []): Buffer {
  const fields = (withTtl ? 1 : 0) + extra.length
  const head = `*${3 + fields}\r\n:${r.id}\r\n+${r.status}\r\n`
  let payload: Buffer
  if (r.status === 'n' || r.status === 'k') payload = Buffer.from('$-1\r\n')
  else if (r.status === 'e') payload = Buffer.from(`-${r.value as string}\r\n`)
  else {
    const bytes = typeof r.value === 'string' ? Buffer.from(r.value) : (r.value as Buffer)
    payload = Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')])
  }
  const tail = `${withTtl ? `:${r.ttl}\r\n` : ''}${extra.join('')}`
  return Buffer.concat([Buffer.from(head), payload, Buffer.from(tail)])
}

function readAll(chunks: readonly Buffer[], max = 1 << 20): Reply[] {
  const out: Reply[] = []
  const reader = new ReplyReader(max, (id, status, value, ttl) => out.push({ id, status, value, ttl }))
  for (const chunk of chunks) reader.feed(chunk)
  return out
}

const ttl = fc.oneof(fc.constantFrom(-1, 0), fc.nat(), fc.maxSafeInteger().map(Math.abs))
const reply: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({
    id: fc.nat(2 ** 40),
    status: fc.constant('s' as const),
    value: fc.string({ unit: 'binary', maxLength: 300 }),
    ttl,
  }),
  fc.record({
    id: fc.nat(2 ** 40),
    status: fc.constant('b' as const),
    value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    ttl,
  }),
  fc.record({ id: fc.nat(), status: fc.constant('n' as const), value: fc.constant(undefined), ttl }),
  fc.record({
    id: fc.nat(),
    status: fc.constant('k' as const),
    value: fc.constant(undefined),
    ttl: fc.constant(-1),
  }),
  fc.record({
    id: fc.nat(),
    status: fc.constant('e' as const),
    value: fc.stringMatching(/^BURROW_ERR_[A-Z]+ [ -~]{0,40}$/),
    ttl: fc.constant(-1),
  }),
)
/** Fields a later version may add: any RESP value, nested arrays and huge integers included. */
const unknownField = fc.constantFrom(
  ':42\r\n',
  ':-9007199254740991\r\n',
  '+later\r\n',
  '-ERR later\r\n',
  '$-1\r\n',
  '$5\r\nhe\r\no\r\n',
  '*-1\r\n',
  '*2\r\n:1\r\n*1\r\n$1\r\nx\r\n',
)
/** A reply on the wire, with or without its ttl field and with unknown fields after it. */
const wire = fc
  .tuple(reply, fc.boolean(), fc.array(unknownField, { maxLength: 3 }))
  .map(([r, withTtl, extra]) => {
    const ttlSent = withTtl || extra.length > 0
    const expected = {
      ...r,
      value: r.status === 's' ? Buffer.from(r.value as string).toString() : r.value,
      ttl: ttlSent ? r.ttl : r.status === 'n' ? 0 : -1,
    }
    return { bytes: encode(r, ttlSent, extra), expected }
  })

/** Cuts `buf` at the given points (sorted, deduplicated, in range). */
function cut(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const p of [...at, buf.length]) {
    chunks.push(buf.subarray(from, p))
    from = p
  }
  return chunks.filter((c) => c.length > 0)
}

describe('ReplyReader', () => {
  it('reads any stream of replies the same, however it is cut into chunks (property)', () => {
    fc.assert(
      fc.property(
        fc.array(wire, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (replies, points) => {
          const stream = Buffer.concat(replies.map((r) => r.bytes))
          const expected = replies.map((r) => r.expected)
          expect(readAll([stream])).toEqual(expected)
          expect(readAll(cut(stream, points))).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('reads every reply split at every byte', () => {
    const replies: Reply[] = [
      { id: 9, status: 's', value: 'héllo', ttl: 5000 },
      { id: 10, status: 'b', value: Buffer.from([0, 13, 10, 255]), ttl: 0 },
      { id: 11, status: 'n', value: undefined, ttl: -1 },
      { id: 12, status: 'k', value: undefined, ttl: -1 },
      { id: 13, status: 'e', value: 'BURROW_ERR_LOADER it failed', ttl: -1 },
    ]
    for (const r of replies) {
      const stream = encode(r, true, [':7\r\n'])
      for (let at = 0; at <= stream.length; at++) {
        expect(readAll([stream.subarray(0, at), stream.subarray(at)])).toEqual([r])
      }
      expect(readAll([...stream].map((b) => Buffer.from([b])))).toEqual([r])
    }
  })

  it('gives a reply without the ttl field (a 0.1 node) ttl -1 for a value and 0 (do not keep) for a not-found', () => {
    const stream = Buffer.from('*3\r\n:1\r\n+s\r\n$1\r\na\r\n*3\r\n:2\r\n+n\r\n$-1\r\n')
    const expected = [
      { id: 1, status: 's', value: 'a', ttl: -1 },
      { id: 2, status: 'n', value: undefined, ttl: 0 },
    ]
    expect(readAll([stream])).toEqual(expected)
    expect(readAll([...stream].map((b) => Buffer.from([b])))).toEqual(expected)
  })

  it('skips fields it does not know after the ones it does, however long and nested', () => {
    const later = Buffer.concat([
      Buffer.from('*7\r\n:3\r\n+b\r\n$2\r\nab\r\n:60000\r\n+later\r\n'),
      Buffer.from('*2\r\n$3\r\nxyz\r\n*0\r\n$10\r\n0123456789\r\n'),
    ])
    const expected = [{ id: 3, status: 'b', value: Buffer.from('ab'), ttl: 60000 }]
    expect(readAll([later])).toEqual(expected)
    expect(readAll([...later].map((b) => Buffer.from([b])))).toEqual(expected)
  })

  it('reads a 3 MB value split into 64 KiB chunks', () => {
    const big = Buffer.alloc(3_000_000, 7)
    const stream = encode({ id: 1, status: 'b', value: big, ttl: 10 })
    const chunks = Array.from({ length: Math.ceil(stream.length / 65536) }, (_, i) =>
      stream.subarray(i * 65536, (i + 1) * 65536),
    )
    const [got] = readAll(chunks, 4_000_000)
    expect(got).toMatchObject({ id: 1, status: 'b', ttl: 10 })
    expect((got!.value as Buffer).equals(big)).toBe(true)
  })

  it('returns bytes that do not share memory with the chunk', () => {
    const stream = encode({ id: 1, status: 'b', value: Buffer.from([1, 2, 3]), ttl: -1 })
    const [got] = readAll([stream])
    stream.fill(0)
    expect([...(got!.value as Buffer)]).toEqual([1, 2, 3])
  })

  it('fails only the reply whose value is over maxFrameBytes, skips its bytes and fields, and reads on', () => {
    const big = encode({ id: 1, status: 'b', value: Buffer.alloc(5000, 1), ttl: 100 }, true, ['+later\r\n'])
    const next = encode({ id: 2, status: 's', value: 'after', ttl: -1 })
    const stream = Buffer.concat([big, next])
    for (const chunks of [
      [stream],
      [stream.subarray(0, 30), stream.subarray(30, 3000), stream.subarray(3000)],
      [...stream].map((b) => Buffer.from([b])),
    ]) {
      const replies = readAll(chunks, 1000)
      expect(replies).toHaveLength(2)
      expect(replies[0]).toMatchObject({ id: 1, status: 'e' })
      expect(String(replies[0]!.value)).toMatch(/^BURROW_ERR_FRAME_TOO_LARGE /)
      expect(replies[1]).toEqual({ id: 2, status: 's', value: 'after', ttl: -1 })
    }
  })

  it('fails a reply whose value fits alone but not with its headers, and accepts one that fits', () => {
    const fits = encode({ id: 1, status: 's', value: 'x'.repeat(960), ttl: -1 })
    expect(fits.length).toBeLessThanOrEqual(1000)
    expect(readAll([fits], 1000)).toEqual([{ id: 1, status: 's', value: 'x'.repeat(960), ttl: -1 }])
    const over = encode({ id: 2, status: 's', value: 'x'.repeat(995), ttl: -1 })
    for (const chunks of [[over], [over.subarray(0, 500), over.subarray(500)]]) {
      const [got] = readAll(chunks, 1000)
      expect(got).toMatchObject({ id: 2, status: 'e' })
      expect(String(got!.value)).toMatch(/^BURROW_ERR_FRAME_TOO_LARGE /)
    }
  })

  it.each([
    ['+OK\r\n', 'not an array'],
    ['*2\r\n:1\r\n+s\r\n', 'too short'],
    ['*3\r\n:x\r\n+s\r\n$1\r\na\r\n', 'bad id'],
    ['*3\r\n:-1\r\n+s\r\n$1\r\na\r\n', 'negative id'],
    ['*3\r\n:1\r\n+q\r\n$1\r\na\r\n', 'unknown status'],
    ['*3\r\n:1\r\n+ss\r\n$1\r\na\r\n', 'a status of two letters'],
    ['*3\r\n:1\r\n+s\r\n$1\r\nab\r\n', 'value not followed by CRLF'],
    ['*3\r\n:1\r\n+s\r\n$-1\r\n', 'a string reply without a value'],
    ['*3\r\n:1\r\n+n\r\n$1\r\na\r\n', 'not-found with a value'],
    ['*3\r\n:1\r\n+k\r\n:1\r\n', 'done with a value'],
    ['*3\r\n:1\r\n+e\r\n$1\r\na\r\n', 'error without an error'],
    ['*4\r\n:1\r\n+s\r\n$1\r\na\r\n+60\r\n', 'a ttl that is not an integer'],
    ['*4\r\n:1\r\n+s\r\n$1\r\na\r\n:-2\r\n', 'a ttl below -1'],
    ['*4\r\n:1\r\n+s\r\n$1\r\na\r\n:1\r\n:x\r\n', 'a malformed unknown field'],
    ['*3\r\n:1\r\r', 'CR without LF'],
  ])('refuses %j (%s) with BURROW_ERR_PROTOCOL', (text) => {
    for (const chunks of [[Buffer.from(text)], [...Buffer.from(text)].map((b) => Buffer.from([b]))]) {
      expect(() => readAll(chunks)).toThrow(expect.objectContaining({ code: 'BURROW_ERR_PROTOCOL' }))
    }
  })

  it('random bytes give replies or a BurrowError, never another exception (property)', () => {
    const replyLike = fc
      .array(fc.constantFrom(...Buffer.from('*3*4:+sbnke-$-1\r\n\r\n0123456789')), { maxLength: 120 })
      .map((bytes) => new Uint8Array(bytes))
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 80 }), replyLike), { maxLength: 6 }),
        (chunks) => {
          try {
            readAll(
              chunks.map((c) => Buffer.from(c)),
              4096,
            )
          } catch (err) {
            expect(err).toBeInstanceOf(BurrowError)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })
})
