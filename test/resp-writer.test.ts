import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import { RespWriter } from '../src/transport/resp/writer.ts'

/** One call on a writer, and the bytes it must append, computed here independently of the writer. */
type Part =
  | { op: 'arrayHeader'; n: number }
  | { op: 'integer'; n: number }
  | { op: 'simple'; text: string }
  | { op: 'error'; text: string }
  | { op: 'bulk'; value: string | number | Uint8Array }
  | { op: 'nil' }

function apply(writer: RespWriter, part: Part): void {
  if (part.op === 'arrayHeader') writer.arrayHeader(part.n)
  else if (part.op === 'integer') writer.integer(part.n)
  else if (part.op === 'simple') writer.simple(part.text)
  else if (part.op === 'error') writer.error(part.text)
  else if (part.op === 'bulk') writer.bulk(part.value)
  else writer.nil()
}

function expected(part: Part): Buffer {
  switch (part.op) {
    case 'arrayHeader':
      return Buffer.from(`*${part.n}\r\n`)
    case 'integer':
      return Buffer.from(`:${part.n}\r\n`)
    case 'simple':
      return Buffer.from(`+${part.text}\r\n`, 'utf8')
    case 'error': {
      const text = part.text.length > 1024 ? `${part.text.slice(0, 1021)}...` : part.text
      return Buffer.from(`-${text.replace(/[\r\n]/g, ' ')}\r\n`, 'utf8')
    }
    case 'bulk': {
      const bytes =
        typeof part.value === 'string'
          ? Buffer.from(part.value, 'utf8')
          : typeof part.value === 'number'
            ? Buffer.from(String(part.value))
            : Buffer.from(part.value)
      return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')])
    }
    case 'nil':
      return Buffer.from('$-1\r\n')
  }
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }), // lone surrogates included
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
  fc.string({ unit: 'grapheme', minLength: 40, maxLength: 400 }),
  // Past the short-string loop: encoded in one pass after a header sized for ASCII, which is
  // rewritten (and the bytes moved) when the UTF-8 length has more digits than the length.
  fc.string({ unit: 'grapheme-ascii', minLength: 49, maxLength: 2000 }),
  fc.string({ unit: 'binary', minLength: 49, maxLength: 400 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 49, maxLength: 200 }).map((s) => `${s}\u00e9`),
  fc
    .tuple(
      fc.constantFrom('\u00e9', '\u20ac', '\ud83d\ude00', '\udc00', 'a'),
      fc.constantFrom(3, 33, 50, 333, 334, 3334, 5000),
    )
    .map(([c, n]) => c.repeat(n)),
  // A sliced string (what `slice` of a longer one makes), strings either side of the longest
  // written in one pass (8 Ki characters), and strings measured before they are written.
  fc
    .string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 300 })
    .map((s) => `${s}${s}`.slice(7, 7 + s.length)),
  fc.constantFrom(
    'z'.repeat(40_000),
    '\u00e9'.repeat(33_000),
    `${'q'.repeat(32_767)}\u20ac`,
    '\u00e9'.repeat(8192),
    '\u20ac'.repeat(8193),
    `${'q'.repeat(8191)}\ud83d\ude00`,
  ),
)
const line = text.map((s) => s.replace(/[\r\n]/g, '_'))
const part: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ op: fc.constant('arrayHeader' as const), n: fc.integer({ min: -1, max: 1_000_000 }) }),
  fc.record({
    op: fc.constant('integer' as const),
    n: fc.oneof(
      fc.maxSafeInteger(),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      // Where the digit count changes, and where the writer leaves 32-bit arithmetic.
      fc.constantFrom(
        Number.MIN_SAFE_INTEGER,
        -1,
        0,
        9,
        10,
        99,
        100,
        2 ** 31 - 1,
        2 ** 31,
        -(2 ** 31),
        1e15 - 1,
        1e15,
      ),
    ),
  }),
  fc.record({ op: fc.constant('simple' as const), text: line }),
  fc.record({
    op: fc.constant('error' as const),
    text: fc.oneof(text, fc.string({ minLength: 1000, maxLength: 1100 })),
  }),
  fc.record({
    op: fc.constant('bulk' as const),
    value: fc.oneof(
      text,
      fc.maxSafeInteger(),
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(new Uint8Array(0), Buffer.from('\r\n$3\r\n'), new Uint8Array(70_000).fill(7)),
    ),
  }),
  fc.constant({ op: 'nil' as const }),
)

describe('RespWriter', () => {
  it('writes each part in the exact bytes RESP gives it', () => {
    const cases: [(w: RespWriter) => unknown, string][] = [
      [(w) => w.arrayHeader(3), '*3\r\n'],
      [(w) => w.arrayHeader(0), '*0\r\n'],
      [(w) => w.arrayHeader(-1), '*-1\r\n'],
      [(w) => w.integer(-7), ':-7\r\n'],
      [(w) => w.integer(Number.MAX_SAFE_INTEGER), ':9007199254740991\r\n'],
      [(w) => w.simple('PONG'), '+PONG\r\n'],
      [(w) => w.simple(''), '+\r\n'],
      [(w) => w.error('ERR bad\r\nthing'), '-ERR bad  thing\r\n'],
      [(w) => w.bulk(''), '$0\r\n\r\n'],
      [(w) => w.bulk('é'), '$2\r\n\xc3\xa9\r\n'],
      [(w) => w.bulk(42), '$2\r\n42\r\n'],
      [(w) => w.bulk(-1), '$2\r\n-1\r\n'],
      [(w) => w.bulk(new Uint8Array([0, 13, 10, 255])), '$4\r\n\x00\r\n\xff\r\n'],
      [(w) => w.nil(), '$-1\r\n'],
      [(w) => w.raw(Buffer.from('*1\r\n')).bulk('x'), '*1\r\n$1\r\nx\r\n'],
      [(w) => w.raw(Buffer.from(`$40\r\n${'r'.repeat(40)}\r\n`)), `$40\r\n${'r'.repeat(40)}\r\n`],
      [
        (w) => w.arrayHeader(4).bulk('BURROW.FETCH').bulk(7).bulk('test').bulk('6.824'),
        '*4\r\n$12\r\nBURROW.FETCH\r\n$1\r\n7\r\n$4\r\ntest\r\n$5\r\n6.824\r\n',
      ],
    ]
    for (const [write, bytes] of cases) {
      const writer = new RespWriter()
      write(writer)
      expect(writer.take().toString('latin1')).toBe(bytes)
    }
  })

  it('writes any sequence of parts byte-exact, whatever lengths, characters and slab boundaries (property)', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 60 }), (parts) => {
        const writer = new RespWriter()
        for (const p of parts) apply(writer, p)
        const want = Buffer.concat(parts.map(expected))
        expect(writer.length).toBe(want.length)
        expect(writer.take().equals(want)).toBe(true)
        expect(writer.length).toBe(0)
      }),
      { numRuns: 500 },
    )
  })

  it('writes over what it handed out only after reuse(), and never over parts not yet taken', () => {
    const writer = new RespWriter()
    const first = writer.bulk('a'.repeat(100)).take()
    writer.reuse()
    const second = writer.bulk('b'.repeat(100)).take()
    // The same memory again, from the slab's start: the first Buffer now reads the second's bytes.
    expect(second.buffer).toBe(first.buffer)
    expect(second.byteOffset).toBe(first.byteOffset)
    expect(first.toString('latin1')).toBe(`$100\r\n${'b'.repeat(100)}\r\n`)
    // With a part pending, reuse() leaves everything where it is.
    writer.reuse()
    writer.bulk('c'.repeat(10))
    writer.reuse()
    writer.bulk('d')
    expect(writer.take().toString('latin1')).toBe(`$10\r\n${'c'.repeat(10)}\r\n$1\r\nd\r\n`)
  })

  it('allocates little more than it writes, for ticks over the largest slab too', () => {
    // Ticks of 130 KB (past the 128 KiB a writer keeps) and of 20 KB, none reused: every slab
    // allocated, against the bytes taken.
    const alloc = vi.spyOn(Buffer, 'allocUnsafe')
    try {
      for (const parts of [130, 20]) {
        alloc.mockClear()
        const writer = new RespWriter()
        let taken = 0
        for (let tick = 0; tick < 20; tick++) {
          for (let i = 0; i < parts; i++) writer.bulk('v'.repeat(1000))
          taken += writer.take().length
        }
        const allocated = alloc.mock.calls.reduce((sum, [size]) => sum + size, 0)
        expect(allocated / taken).toBeLessThan(3)
      }
    } finally {
      alloc.mockRestore()
    }
  })

  it('hands out Buffers that later writes never change, taken at any points (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(part, fc.boolean()), { maxLength: 80 }), (steps) => {
        const writer = new RespWriter()
        const taken: Buffer[] = []
        const snapshots: Buffer[] = []
        for (const [p, take] of steps) {
          apply(writer, p)
          if (take) {
            const out = writer.take()
            taken.push(out)
            snapshots.push(Buffer.from(out))
          }
        }
        taken.push(writer.take())
        snapshots.push(Buffer.from(taken.at(-1)!))
        for (let i = 0; i < taken.length; i++) expect(taken[i]!.equals(snapshots[i]!)).toBe(true)
        expect(Buffer.concat(taken).equals(Buffer.concat(steps.map(([p]) => expected(p))))).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('takes an empty Buffer when nothing was written', () => {
    const writer = new RespWriter()
    expect(writer.take()).toHaveLength(0)
    writer.simple('a')
    writer.take()
    expect(writer.take()).toHaveLength(0)
  })

  it('cuts error lines to 1,024 characters', () => {
    const out = new RespWriter().error('E'.repeat(5000)).take().toString()
    expect(out).toBe(`-${'E'.repeat(1021)}...\r\n`)
  })

  it('refuses what RESP cannot carry, before writing anything of that part', () => {
    const refusals: [string, (w: RespWriter) => unknown][] = [
      ['a simple string with CR or LF', (w) => w.simple('a\r\nb')],
      ['a long simple string with LF', (w) => w.simple(`${'é'.repeat(100)}\n`)],
      ['a simple string that is not a string', (w) => w.simple(7 as unknown as string)],
      ['an integer that is not safe', (w) => w.integer(2 ** 53)],
      ['a fractional integer', (w) => w.integer(1.5)],
      ['NaN', (w) => w.integer(Number.NaN)],
      ['an array length below -1', (w) => w.arrayHeader(-2)],
      ['a bulk number that is not a safe integer', (w) => w.bulk(0.5)],
      ['a bulk value that is neither a string, a number nor bytes', (w) => w.bulk({} as unknown as string)],
    ]
    for (const [name, refuse] of refusals) {
      const writer = new RespWriter().arrayHeader(2)
      let thrown: unknown
      try {
        refuse(writer)
      } catch (err) {
        thrown = err
      }
      expect(thrown, name).toBeInstanceOf(BurrowError)
      expect((thrown as BurrowError).code, name).toBe('BURROW_ERR_PROTOCOL')
      expect(writer.take().toString(), name).toBe('*2\r\n')
    }
  })
})
