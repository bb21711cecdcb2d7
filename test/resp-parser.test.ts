import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import {
  encodeArrayHeader,
  encodeBulk,
  encodeCommand,
  encodeError,
  encodeInteger,
  encodeSimple,
  NULL_BULK,
  RespError,
  RespParser,
  type RespParserOptions,
  type RespValue,
  RespWriter,
} from '../src/transport/resp.ts'
import { thrownBy } from './helpers.ts'

/** Every value the parser yields for `chunks`, fed in order to one parser. */
function parse(chunks: Buffer | readonly Buffer[], options?: RespParserOptions): RespValue[] {
  const parser = new RespParser(options)
  const values: RespValue[] = []
  for (const chunk of Buffer.isBuffer(chunks) ? [chunks] : chunks) parser.feed(chunk, (v) => values.push(v))
  return values
}

/** `bytes` cut before every position in `cuts` (any numbers; taken modulo the length). */
function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point))
    from = point
  }
  return chunks
}

function bytewise(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
}

/** The error `run` throws, which must be a BurrowError. */
function burrowErrorOf(run: () => unknown): BurrowError {
  return thrownBy(run)
}

function write(writer: RespWriter, value: RespValue): void {
  if (value === null) writer.nullBulk()
  else if (typeof value === 'string') writer.simple(value)
  else if (typeof value === 'number') writer.integer(value)
  else if (value instanceof RespError) writer.error(value.message)
  else if (Buffer.isBuffer(value)) writer.bulk(value)
  else {
    writer.arrayHeader(value.length)
    for (const element of value) write(writer, element)
  }
}

function encodeAll(values: readonly RespValue[]): Buffer {
  const writer = new RespWriter()
  for (const value of values) write(writer, value)
  return writer.take()
}

const line = fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ' '))
const leaf: fc.Arbitrary<RespValue> = fc.oneof(
  line,
  line.map((s) => new RespError(s)),
  fc.maxSafeInteger(),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(Buffer.from('\r\n'), Buffer.from('$3\r\n*1\r\n'), Buffer.alloc(0)),
  fc.constant(null),
)
const { value: respValue } = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof({ maxDepth: 5, depthIdentifier: 'resp' }, leaf, fc.array(tie('value'), { maxLength: 5 })),
}))

describe('RespParser and the encoders', () => {
  describe('round trip: what the encoders write parses back to equal values', () => {
    const cases: [string, Buffer, RespValue][] = [
      ['a simple string', encodeSimple('OK'), 'OK'],
      ['an empty simple string', encodeSimple(''), ''],
      ['a unicode simple string', encodeSimple('héllo 🦫 世界'), 'héllo 🦫 世界'],
      ['an error reply', encodeError('ERR no such key'), new RespError('ERR no such key')],
      ['a positive integer', encodeInteger(17), 17],
      ['zero', encodeInteger(0), 0],
      ['a negative integer', encodeInteger(-42), -42],
      ['the largest safe integer', encodeInteger(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
      ['the smallest safe integer', encodeInteger(Number.MIN_SAFE_INTEGER), Number.MIN_SAFE_INTEGER],
      ['a bulk string', encodeBulk('value'), Buffer.from('value')],
      ['an empty bulk string', encodeBulk(''), Buffer.alloc(0)],
      [
        'a binary bulk string with CRLF inside',
        encodeBulk(Buffer.from([0, 13, 10, 255, 13])),
        Buffer.from([0, 13, 10, 255, 13]),
      ],
      ['a unicode bulk string, as UTF-8', encodeBulk('6.824 🦫'), Buffer.from('6.824 🦫', 'utf8')],
      ['a bulk string from a Uint8Array', encodeBulk(new Uint8Array([1, 2, 3])), Buffer.from([1, 2, 3])],
      ['the null bulk string', NULL_BULK, null],
      ['the null array', encodeArrayHeader(-1), null],
      ['an empty array', encodeArrayHeader(0), []],
      [
        'a command',
        encodeCommand(['BURROW.GET', 'users', new Uint8Array([0x75, 0x3a, 0x34, 0x32])]),
        [Buffer.from('BURROW.GET'), Buffer.from('users'), Buffer.from('u:42')],
      ],
      [
        'nested arrays of every type',
        new RespWriter()
          .arrayHeader(3)
          .arrayHeader(2)
          .integer(1)
          .arrayHeader(1)
          .simple('deep')
          .nullBulk()
          .arrayHeader(3)
          .error('E')
          .bulk('')
          .arrayHeader(-1)
          .take(),
        [[1, ['deep']], null, [new RespError('E'), Buffer.alloc(0), null]],
      ],
    ]
    for (const [name, bytes, expected] of cases) {
      it(`parses ${name} back, whole and byte by byte`, () => {
        expect(parse(bytes)).toEqual([expected])
        expect(parse(bytewise(bytes))).toEqual([expected])
      })
    }

    it('encodes commands and replies in the exact bytes redis-cli expects', () => {
      expect(encodeCommand(['SET', 'k', 'é']).toString('latin1')).toBe(
        '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n',
      )
      expect(encodeSimple('PONG').toString()).toBe('+PONG\r\n')
      expect(encodeInteger(-7).toString()).toBe(':-7\r\n')
      expect(encodeBulk('').toString()).toBe('$0\r\n\r\n')
      expect(NULL_BULK.toString()).toBe('$-1\r\n')
      expect(encodeArrayHeader(12).toString()).toBe('*12\r\n')
    })

    it('round-trips arbitrary values, whatever their nesting', () => {
      fc.assert(
        fc.property(fc.array(respValue, { maxLength: 10 }), (values) => {
          expect(parse(encodeAll(values))).toEqual(values)
        }),
        { numRuns: 200 },
      )
    })
  })

  describe('streaming', () => {
    it('yields the same values in the same order however the stream is cut into chunks', () => {
      fc.assert(
        fc.property(
          fc.array(respValue, { maxLength: 12 }),
          fc.array(fc.nat(), { maxLength: 30 }),
          (values, cuts) => {
            const stream = encodeAll(values)
            const whole = parse(stream)
            expect(whole).toEqual(values)
            const parser = new RespParser()
            const chunked: RespValue[] = []
            for (const chunk of cut(stream, cuts)) parser.feed(chunk, (v) => chunked.push(v))
            expect(chunked).toEqual(whole)
            expect(parser.bufferedBytes).toBe(0)
            expect(parse(bytewise(stream))).toEqual(whole)
          },
        ),
        { numRuns: 200 },
      )
    })

    it('yields every one of many frames in one chunk, in order', () => {
      fc.assert(
        fc.property(fc.array(respValue, { minLength: 50, maxLength: 300 }), (values) => {
          const parser = new RespParser()
          const seen: RespValue[] = []
          parser.feed(encodeAll(values), (v) => seen.push(v))
          expect(seen).toEqual(values)
          expect(parser.bufferedBytes).toBe(0)
        }),
        { numRuns: 50 },
      )
    })

    it('yields a frame only once its last byte has arrived, and counts the bytes held meanwhile', () => {
      const parser = new RespParser()
      const seen: RespValue[] = []
      parser.feed(Buffer.from('*2\r\n$5\r\nhel'), (v) => seen.push(v))
      expect(seen).toEqual([])
      expect(parser.bufferedBytes).toBe(11)
      parser.feed(Buffer.from('lo\r\n:4'), (v) => seen.push(v))
      expect(seen).toEqual([])
      expect(parser.bufferedBytes).toBe(17)
      parser.feed(Buffer.from('2\r\n+'), (v) => seen.push(v))
      expect(seen).toEqual([[Buffer.from('hello'), 42]])
      expect(parser.bufferedBytes).toBe(1)
    })

    it('does not depend on the fed chunk after feed returns, so a read buffer can be reused', () => {
      const stream = Buffer.from('*2\r\n$10\r\n0123456789\r\n+done\r\n')
      const readBuffer = Buffer.alloc(7)
      const parser = new RespParser()
      const seen: RespValue[] = []
      for (let at = 0; at < stream.length; at += readBuffer.length) {
        const n = stream.copy(readBuffer, 0, at)
        parser.feed(readBuffer.subarray(0, n), (v) => seen.push(v))
        readBuffer.fill(0x21)
      }
      expect(seen).toEqual([[Buffer.from('0123456789'), 'done']])
    })

    it('returns bulk values that do not share memory with the fed chunk', () => {
      const chunk = Buffer.from('$5\r\nhello\r\n*1\r\n$3\r\nabc\r\n')
      const values = parse(chunk)
      chunk.fill(0)
      expect(values).toEqual([Buffer.from('hello'), [Buffer.from('abc')]])
    })

    it('keeps the rest of the chunk when onValue throws, and yields it on the next feed', () => {
      const parser = new RespParser()
      const seen: RespValue[] = []
      expect(() =>
        parser.feed(Buffer.from(':1\r\n:2\r\n:3\r\n'), (v) => {
          if (v === 1) throw new Error('handler failed')
          seen.push(v)
        }),
      ).toThrow('handler failed')
      parser.feed(Buffer.from(':4\r\n'), (v) => seen.push(v))
      expect(seen).toEqual([2, 3, 4])
    })
  })

  describe('garbage', () => {
    const codes = ['BURROW_ERR_PROTOCOL', 'BURROW_ERR_FRAME_TOO_LARGE']
    const respLike = fc
      .array(fc.constantFrom(...Buffer.from('+-:$**\r\n\r\n0123456789-1-1 xa\t')), { maxLength: 200 })
      .map((bytes) => new Uint8Array(bytes))
    const options = fc.record({
      inline: fc.boolean(),
      maxFrameBytes: fc.constantFrom(undefined, 64),
      maxArrayLength: fc.constantFrom(undefined, 8),
      maxDepth: fc.constantFrom(undefined, 2),
    })

    it('either yields values or throws a protocol or frame-size BurrowError, and stays failed', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.uint8Array({ maxLength: 300 }), respLike),
          fc.array(fc.nat(), { maxLength: 10 }),
          options,
          (bytes, cuts, opts) => {
            const parser = new RespParser(opts)
            let thrown: unknown
            try {
              for (const chunk of cut(Buffer.from(bytes), cuts)) parser.feed(chunk, () => {})
            } catch (err) {
              thrown = err
            }
            if (thrown === undefined) return
            expect(thrown).toBeInstanceOf(BurrowError)
            expect(codes).toContain((thrown as BurrowError).code)
            expect(() => parser.feed(Buffer.from(':1\r\n'), () => {})).toThrow(thrown as Error)
          },
        ),
        { numRuns: 1000 },
      )
    })
  })

  describe('limits', () => {
    it('refuses a bulk string announced over maxFrameBytes before its payload arrives', () => {
      const parser = new RespParser({ maxFrameBytes: 1024 })
      const err = burrowErrorOf(() => parser.feed(Buffer.from('$1025\r\n'), () => {}))
      expect(err.code).toBe('BURROW_ERR_FRAME_TOO_LARGE')
      expect(err.message).toContain('1025')
    })

    it('refuses a 32 MiB + 1 bulk string by default, and accepts one of 1 MiB', () => {
      const big = burrowErrorOf(() => parse(Buffer.from(`$${32 * 1024 * 1024 + 1}\r\n`)))
      expect(big.code).toBe('BURROW_ERR_FRAME_TOO_LARGE')
      const payload = Buffer.alloc(1024 * 1024, 7)
      const stream = encodeBulk(payload)
      const values = parse(cut(stream, [1, 9, 65_536, 500_000]))
      expect(values).toHaveLength(1)
      expect(payload.equals(values[0] as Buffer)).toBe(true)
    })

    it('refuses a frame whose parts add up to more than maxFrameBytes', () => {
      const stream = encodeCommand(['SET', 'a'.repeat(400), 'b'.repeat(400), 'c'.repeat(400)])
      expect(burrowErrorOf(() => parse(stream, { maxFrameBytes: 1024 })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      expect(burrowErrorOf(() => parse(bytewise(stream), { maxFrameBytes: 1024 })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      expect(parse(stream, { maxFrameBytes: 2048 })).toHaveLength(1)
    })

    it('refuses a 100 KiB line without CRLF, whole or in small chunks, with or without inline', () => {
      for (const start of ['+', '-', ':', '$', '*']) {
        const line = Buffer.concat([Buffer.from(start), Buffer.alloc(100 * 1024, '1')])
        expect(burrowErrorOf(() => parse(line)).code).toMatch(/^BURROW_ERR_(FRAME_TOO_LARGE|PROTOCOL)$/)
      }
      const simple = Buffer.from(`+${'a'.repeat(100 * 1024)}`)
      expect(burrowErrorOf(() => parse(simple)).code).toBe('BURROW_ERR_FRAME_TOO_LARGE')
      expect(burrowErrorOf(() => parse(cut(simple, [100, 1000, 4000, 70_000]))).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      const inline = Buffer.alloc(100 * 1024, 'a')
      expect(burrowErrorOf(() => parse(cut(inline, [1024, 65_000]), { inline: true })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
    })

    it('accepts arrays nested maxDepth deep and refuses one level more', () => {
      const nested = (levels: number) => Buffer.from(`${'*1\r\n'.repeat(levels)}:1\r\n`)
      expect(parse(nested(8))).toEqual([[[[[[[[[1]]]]]]]]])
      expect(burrowErrorOf(() => parse(nested(9))).code).toBe('BURROW_ERR_PROTOCOL')
      expect(burrowErrorOf(() => parse(nested(3), { maxDepth: 2 })).code).toBe('BURROW_ERR_PROTOCOL')
    })

    it('refuses an array longer than maxArrayLength, counting nested arrays toward the same limit', () => {
      expect(burrowErrorOf(() => parse(Buffer.from('*11\r\n'), { maxArrayLength: 10 })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      expect(burrowErrorOf(() => parse(Buffer.from('*5\r\n*6\r\n'), { maxArrayLength: 10 })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      const ten = encodeCommand(Array.from({ length: 10 }, String))
      expect(parse(Buffer.concat([ten, ten]), { maxArrayLength: 10 })).toHaveLength(2)
      expect(burrowErrorOf(() => parse(Buffer.from(`*${1_048_577}\r\n`))).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
    })

    it('throws the same error on every feed after a failure', () => {
      const parser = new RespParser()
      const first = burrowErrorOf(() => parser.feed(Buffer.from('?\r\n'), () => {}))
      const seen: RespValue[] = []
      const second = burrowErrorOf(() => parser.feed(Buffer.from('+OK\r\n'), (v) => seen.push(v)))
      expect(second).toBe(first)
      expect(seen).toEqual([])
    })

    it('rejects invalid options, naming the option and the value received', () => {
      for (const [option, value] of [
        ['maxFrameBytes', 0],
        ['maxArrayLength', 1.5],
        ['maxDepth', '8'],
        ['inline', 'yes'],
      ] as const) {
        const err = burrowErrorOf(() => new RespParser({ [option]: value } as RespParserOptions))
        expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
        expect(err.message).toContain(option)
        expect(err.message).toContain(String(value))
      }
    })
  })

  describe('inline commands', () => {
    it('parses telnet-style lines into arrays of Buffers when inline is on', () => {
      const stream = Buffer.from('PING\r\nBURROW.GET  test \t 6.824\n')
      const expected = [
        [Buffer.from('PING')],
        [Buffer.from('BURROW.GET'), Buffer.from('test'), Buffer.from('6.824')],
      ]
      expect(parse(stream, { inline: true })).toEqual(expected)
      expect(parse(bytewise(stream), { inline: true })).toEqual(expected)
    })

    it('skips empty lines and mixes with RESP frames', () => {
      const stream = Buffer.from('\r\n\n  \t\r\nPING\r\n*1\r\n$4\r\nPING\r\n  ECHO hi  \r\n')
      const expected = [
        [Buffer.from('PING')],
        [Buffer.from('PING')],
        [Buffer.from('ECHO'), Buffer.from('hi')],
      ]
      expect(parse(stream, { inline: true })).toEqual(expected)
      expect(parse(bytewise(stream), { inline: true })).toEqual(expected)
    })

    it('refuses inline commands with a protocol error when inline is off', () => {
      for (const text of ['PING\r\n', 'BURROW.GET  test  6.824\n']) {
        expect(burrowErrorOf(() => parse(Buffer.from(text))).code).toBe('BURROW_ERR_PROTOCOL')
      }
    })

    it('does not treat an array element as an inline command', () => {
      const err = burrowErrorOf(() => parse(Buffer.from('*1\r\nPING\r\n'), { inline: true }))
      expect(err.code).toBe('BURROW_ERR_PROTOCOL')
    })
  })

  describe('malformed frames', () => {
    const malformed = [
      ['a bulk payload not followed by CRLF', '$3\r\nabcd\r\n'],
      ['a bulk payload followed by other bytes than CRLF', '$3\r\nabcXY:1\r\n'],
      ['an integer with a letter in it', ':12a\r\n'],
      ['an integer with a space in it', ': 12\r\n'],
      ['an empty integer', ':\r\n'],
      ['an integer beyond the safe range', ':9007199254740992\r\n'],
      ['a bulk length below -1', '$-2\r\n'],
      ['a bulk length that is not a number', '$x\r\n'],
      ['an array length that is not a number', '*x\r\n'],
      ['an array length below -1', '*-5\r\n'],
      ['a simple string ending in a bare LF', '+ok\n'],
      ['a header ending in a bare LF', '$3\nabc\r\n'],
      ['a CR not followed by LF', ':1\rx'],
      ['an unknown type byte', '!3\r\n'],
      ['a stray CRLF between frames', ':1\r\n\r\n'],
    ] as const
    for (const [name, text] of malformed) {
      it(`refuses ${name} with a protocol error, whole or byte by byte`, () => {
        const bytes = Buffer.from(text)
        expect(burrowErrorOf(() => parse(bytes)).code).toBe('BURROW_ERR_PROTOCOL')
        expect(burrowErrorOf(() => parse(bytewise(bytes))).code).toBe('BURROW_ERR_PROTOCOL')
      })
    }
  })

  describe('encoders', () => {
    it('refuses a simple string containing CR or LF', () => {
      expect(burrowErrorOf(() => encodeSimple('a\r\nb')).code).toBe('BURROW_ERR_PROTOCOL')
      expect(burrowErrorOf(() => new RespWriter().simple('a\nb')).code).toBe('BURROW_ERR_PROTOCOL')
    })

    it('replaces CR and LF in an error message by spaces', () => {
      expect(encodeError('ERR bad\r\nthing').toString()).toBe('-ERR bad  thing\r\n')
    })

    it('refuses integers that are not safe integers, and bulk values that are neither strings nor bytes', () => {
      for (const n of [1.5, Number.NaN, 2 ** 53]) {
        expect(burrowErrorOf(() => encodeInteger(n)).code).toBe('BURROW_ERR_PROTOCOL')
      }
      expect(burrowErrorOf(() => encodeArrayHeader(-2)).code).toBe('BURROW_ERR_PROTOCOL')
      expect(burrowErrorOf(() => encodeCommand(['GET', 42 as unknown as string])).code).toBe(
        'BURROW_ERR_PROTOCOL',
      )
      // A refused argument leaves nothing behind in the next encoding.
      expect(encodeSimple('OK').toString()).toBe('+OK\r\n')
    })

    it('hands out Buffers that later writes never change', () => {
      const writer = new RespWriter()
      const first = writer.arrayHeader(2).simple('a').integer(1).take()
      expect(writer.length).toBe(0)
      const big = Buffer.alloc(100_000, 1)
      const second = writer.bulk('x').bulk(big).take()
      const third = writer.simple('z').take()
      expect(first.toString()).toBe('*2\r\n+a\r\n:1\r\n')
      const [a, x, b, z] = parse(Buffer.concat([first, second, third]))
      expect([a, x, z]).toEqual([['a', 1], Buffer.from('x'), 'z'])
      expect(big.equals(b as Buffer)).toBe(true)
    })
  })
})

describe('views', () => {
  it('hands over a bulk lying whole in the chunk as a view of it, and a split bulk as its own Buffer', () => {
    const parser = new RespParser({ views: true })
    const chunk = Buffer.from('$5\r\nhello\r\n$5\r\nwor')
    const seen: Buffer[] = []
    parser.feed(chunk, (v) => seen.push(v as Buffer))
    expect(seen).toHaveLength(1)
    expect(seen[0]!.toString()).toBe('hello')
    chunk[4] = 0x6a // 'j': the view shares the chunk's memory
    expect(seen[0]!.toString()).toBe('jello')
    const rest = Buffer.from('ld\r\n')
    parser.feed(rest, (v) => seen.push(v as Buffer))
    expect(seen[1]!.toString()).toBe('world')
    rest[0] = 0x78
    chunk[chunk.length - 1] = 0x78
    expect(seen[1]!.toString()).toBe('world') // its own memory
  })
})

describe('strings', () => {
  it('hands over every bulk and inline argument as a decoded string, also when split across chunks', () => {
    const parser = new RespParser({ strings: true, inline: true })
    const seen: RespValue[] = []
    const stream = Buffer.concat([encodeCommand(['BURROW.GET', 'ns', 'ключ 😀']), Buffer.from('PING hi\r\n')])
    for (let i = 0; i < stream.length; i += 3) parser.feed(stream.subarray(i, i + 3), (v) => seen.push(v))
    expect(seen).toEqual([
      ['BURROW.GET', 'ns', 'ключ 😀'],
      ['PING', 'hi'],
    ])
  })
})
