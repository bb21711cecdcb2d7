import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import { ReplyReader, type ReplyStatus } from '../src/transport/reply.ts'

type Reply = { id: number; status: ReplyStatus; value: string | Buffer | undefined }

/** The wire form of a reply, as docs/protocol.md gives it. */
function encode(r: Reply): Buffer {
  const head = `*3\r\n:${r.id}\r\n+${r.status}\r\n`
  if (r.status === 'n') return Buffer.from(`${head}$-1\r\n`)
  if (r.status === 'e') return Buffer.from(`${head}-${r.value as string}\r\n`)
  const bytes = typeof r.value === 'string' ? Buffer.from(r.value) : (r.value as Buffer)
  return Buffer.concat([Buffer.from(`${head}$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')])
}

function readAll(chunks: Buffer[], max = 1 << 20): Reply[] {
  const reader = new ReplyReader(max)
  const out: Reply[] = []
  for (const chunk of chunks) reader.feed(chunk, (id, status, value) => out.push({ id, status, value }))
  return out
}

const reply: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({
    id: fc.nat(2 ** 40),
    status: fc.constant('s' as const),
    value: fc.string({ unit: 'binary', maxLength: 300 }),
  }),
  fc.record({
    id: fc.nat(2 ** 40),
    status: fc.constant('b' as const),
    value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  }),
  fc.record({ id: fc.nat(), status: fc.constant('n' as const), value: fc.constant(undefined) }),
  fc.record({
    id: fc.nat(),
    status: fc.constant('e' as const),
    value: fc.stringMatching(/^BURROW_ERR_[A-Z]+ [ -~]{0,40}$/),
  }),
)

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
        fc.array(reply, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (replies, points) => {
          const stream = Buffer.concat(replies.map(encode))
          const expected = replies.map((r) => ({
            ...r,
            value: r.status === 's' ? Buffer.from(r.value as string).toString() : r.value,
          }))
          expect(readAll([stream])).toEqual(expected)
          expect(readAll(cut(stream, points))).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('reads a value split byte by byte, and a 3 MB value split into 64 KiB chunks', () => {
    const small = encode({ id: 9, status: 's', value: 'héllo' })
    expect(readAll([...small].map((b) => Buffer.from([b])))).toEqual([{ id: 9, status: 's', value: 'héllo' }])
    const big = Buffer.alloc(3_000_000, 7)
    const stream = encode({ id: 1, status: 'b', value: big })
    const chunks = Array.from({ length: Math.ceil(stream.length / 65536) }, (_, i) =>
      stream.subarray(i * 65536, (i + 1) * 65536),
    )
    const [got] = readAll(chunks, 4_000_000)
    expect(got!.id).toBe(1)
    expect((got!.value as Buffer).equals(big)).toBe(true)
  })

  it('returned bytes do not share memory with the chunk', () => {
    const stream = encode({ id: 1, status: 'b', value: Buffer.from([1, 2, 3]) })
    const [got] = readAll([stream])
    stream.fill(0)
    expect([...(got!.value as Buffer)]).toEqual([1, 2, 3])
  })

  it('fails only the reply whose value is over maxFrameBytes, skips its bytes, and reads on', () => {
    const big = encode({ id: 1, status: 'b', value: Buffer.alloc(5000, 1) })
    const next = encode({ id: 2, status: 's', value: 'after' })
    const stream = Buffer.concat([big, next])
    for (const chunks of [
      [stream],
      [stream.subarray(0, 30), stream.subarray(30, 3000), stream.subarray(3000)],
    ]) {
      const replies = readAll(chunks, 1000)
      expect(replies).toHaveLength(2)
      expect(replies[0]).toMatchObject({ id: 1, status: 'e' })
      expect(String(replies[0]!.value)).toMatch(/^BURROW_ERR_FRAME_TOO_LARGE /)
      expect(replies[1]).toEqual({ id: 2, status: 's', value: 'after' })
    }
  })

  it.each([
    ['+OK\r\n', 'not an array'],
    ['*2\r\n:1\r\n+s\r\n', 'wrong length'],
    ['*3\r\n:x\r\n+s\r\n$1\r\na\r\n', 'bad id'],
    ['*3\r\n:1\r\n+q\r\n$1\r\na\r\n', 'bad status'],
    ['*3\r\n:1\r\n+s\r\n$1\r\nab\r\n', 'value not followed by CRLF'],
    ['*3\r\n:1\r\n+n\r\n$1\r\na\r\n', 'not-found with a value'],
    ['*3\r\n:1\r\n+e\r\n$1\r\na\r\n', 'error without an error'],
    ['*3\r\n:1\r\r', 'CR without LF'],
  ])('refuses %j (%s) with BURROW_ERR_PROTOCOL', (text) => {
    expect(() => readAll([Buffer.from(text)])).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_PROTOCOL' }),
    )
  })

  it('random bytes give replies or a BurrowError, never another exception (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 }), (chunks) => {
        try {
          readAll(
            chunks.map((c) => Buffer.from(c)),
            4096,
          )
        } catch (err) {
          expect(err).toBeInstanceOf(BurrowError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
