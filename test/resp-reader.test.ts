import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import { type CommandArgs, CommandReader } from '../src/transport/resp/command-reader.ts'
import {
  OversizedBulk,
  RespError,
  RespParser,
  type RespParserOptions,
  type RespValue,
} from '../src/transport/resp/reader.ts'
import { RespWriter } from '../src/transport/resp/writer.ts'
import { parseId } from '../src/transport/server/replies.ts'

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
  let thrown: unknown
  try {
    run()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(BurrowError)
  return thrown as BurrowError
}

function write(writer: RespWriter, value: RespValue): void {
  if (value === null) writer.nil()
  else if (typeof value === 'string') writer.simple(value)
  else if (typeof value === 'number') writer.integer(value)
  else if (value instanceof RespError) writer.error(value.message)
  else if (value instanceof OversizedBulk) throw new Error('not written')
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

/** A command as RESP: an array of bulk strings. */
function command(...args: (string | Uint8Array)[]): Buffer {
  const writer = new RespWriter().arrayHeader(args.length)
  for (const arg of args) writer.bulk(arg)
  return writer.take()
}

const writer = (): RespWriter => new RespWriter()

/**
 * The text a command's text argument must arrive as, worked out apart from the reader: each
 * well-formed UTF-8 sequence decoded (found with a strict decoder), each other byte the lone
 * surrogate U+DC00 + byte.
 */
function expectedText(bytes: Uint8Array): string {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  let text = ''
  for (let i = 0; i < bytes.length; ) {
    let decoded: string | undefined
    let n = 1
    for (; n <= 4 && i + n <= bytes.length; n++) {
      try {
        decoded = strict.decode(bytes.subarray(i, i + n))
        break
      } catch {}
    }
    if (decoded === undefined) {
      text += String.fromCharCode(0xdc00 + bytes[i]!)
      i++
    } else {
      text += decoded
      i += n
    }
  }
  return text
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

describe('RespParser', () => {
  describe('round trip: what the writer writes parses back to equal values', () => {
    const cases: [string, Buffer, RespValue][] = [
      ['a simple string', writer().simple('OK').take(), 'OK'],
      ['an empty simple string', writer().simple('').take(), ''],
      ['a unicode simple string', writer().simple('héllo 🦫 世界').take(), 'héllo 🦫 世界'],
      ['an error reply', writer().error('ERR no such key').take(), new RespError('ERR no such key')],
      ['a positive integer', writer().integer(17).take(), 17],
      ['zero', writer().integer(0).take(), 0],
      ['a negative integer', writer().integer(-42).take(), -42],
      ['the largest safe integer', writer().integer(Number.MAX_SAFE_INTEGER).take(), Number.MAX_SAFE_INTEGER],
      [
        'the smallest safe integer',
        writer().integer(Number.MIN_SAFE_INTEGER).take(),
        Number.MIN_SAFE_INTEGER,
      ],
      ['a bulk string', writer().bulk('value').take(), Buffer.from('value')],
      ['an empty bulk string', writer().bulk('').take(), Buffer.alloc(0)],
      [
        'a binary bulk string with CRLF inside',
        writer()
          .bulk(Buffer.from([0, 13, 10, 255, 13]))
          .take(),
        Buffer.from([0, 13, 10, 255, 13]),
      ],
      ['a unicode bulk string, as UTF-8', writer().bulk('6.824 🦫').take(), Buffer.from('6.824 🦫', 'utf8')],
      [
        'a bulk string from a Uint8Array',
        writer()
          .bulk(new Uint8Array([1, 2, 3]))
          .take(),
        Buffer.from([1, 2, 3]),
      ],
      ['the null bulk string', writer().nil().take(), null],
      ['the null array', writer().arrayHeader(-1).take(), null],
      ['an empty array', writer().arrayHeader(0).take(), []],
      [
        'a command',
        command('BURROW.GET', 'users', new Uint8Array([0x75, 0x3a, 0x34, 0x32])),
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
          .nil()
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
            expect(parser.idle).toBe(true)
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
          expect(parser.idle).toBe(true)
        }),
        { numRuns: 50 },
      )
    })

    it('yields a frame only once its last byte has arrived, and is idle only between frames', () => {
      const parser = new RespParser()
      const seen: RespValue[] = []
      expect(parser.idle).toBe(true)
      parser.feed(Buffer.from('*2\r\n$5\r\nhel'), (v) => seen.push(v))
      expect(seen).toEqual([])
      expect(parser.idle).toBe(false)
      parser.feed(Buffer.from('lo\r\n:4'), (v) => seen.push(v))
      expect(seen).toEqual([])
      expect(parser.idle).toBe(false)
      parser.feed(Buffer.from('2\r\n'), (v) => seen.push(v))
      expect(seen).toEqual([[Buffer.from('hello'), 42]])
      expect(parser.idle).toBe(true)
      parser.feed(Buffer.from('+'), (v) => seen.push(v))
      expect(parser.idle).toBe(false)
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
      const stream = writer().bulk(payload).take()
      const values = parse(cut(stream, [1, 9, 65_536, 500_000]))
      expect(values).toHaveLength(1)
      expect(payload.equals(values[0] as Buffer)).toBe(true)
    })

    it('refuses a frame whose parts add up to more than maxFrameBytes', () => {
      const stream = command('SET', 'a'.repeat(400), 'b'.repeat(400), 'c'.repeat(400))
      expect(burrowErrorOf(() => parse(stream, { maxFrameBytes: 1024 })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      expect(burrowErrorOf(() => parse(bytewise(stream), { maxFrameBytes: 1024 })).code).toBe(
        'BURROW_ERR_FRAME_TOO_LARGE',
      )
      expect(parse(stream, { maxFrameBytes: 2048 })).toHaveLength(1)
    })

    it('refuses a frame over maxFrameBytes the same whether it arrives in one chunk or in pieces', () => {
      const integers = Buffer.from(`*20\r\n${':1\r\n'.repeat(20)}`) // 85 bytes, no bulk string in it
      const line = Buffer.from(`PING ${'x'.repeat(59)}\r\n`) // 66 bytes
      for (const [stream, options] of [
        [integers, {}],
        [line, { inline: true }],
      ] as const) {
        for (const chunks of [[stream], bytewise(stream), cut(stream, [40])]) {
          expect(burrowErrorOf(() => parse(chunks, { maxFrameBytes: 64, ...options })).code).toBe(
            'BURROW_ERR_FRAME_TOO_LARGE',
          )
        }
        expect(parse(stream, { maxFrameBytes: stream.length, ...options })).toHaveLength(1)
      }
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
      const ten = command(...Array.from({ length: 10 }, String))
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
})

describe('RespParser, skipping oversized bulk strings', () => {
  const skip = { maxFrameBytes: 1000, oversized: 'skip' } as const

  it('skips a bulk string over maxFrameBytes, stands an OversizedBulk in its place, and reads on, however cut', () => {
    const stream = Buffer.concat([
      writer().arrayHeader(3).integer(1).bulk(Buffer.alloc(5000, 1)).integer(-1).take(),
      writer().arrayHeader(2).integer(2).bulk('after').take(),
    ])
    const expected = [
      [1, new OversizedBulk(5000), -1],
      [2, Buffer.from('after')],
    ]
    expect(parse(stream, skip)).toEqual(expected)
    expect(parse(bytewise(stream), skip)).toEqual(expected)
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        expect(parse(cut(stream, cuts), skip)).toEqual(expected)
      }),
      { numRuns: 200 },
    )
  })

  it('skips a bulk string that fits alone but would take its frame over maxFrameBytes', () => {
    const stream = writer().arrayHeader(2).bulk(Buffer.alloc(600, 1)).bulk(Buffer.alloc(600, 2)).take()
    expect(parse(stream, skip)).toEqual([[Buffer.alloc(600, 1), new OversizedBulk(600)]])
    expect(burrowErrorOf(() => parse(stream, { maxFrameBytes: 1000 })).code).toBe(
      'BURROW_ERR_FRAME_TOO_LARGE',
    )
  })

  it('refuses a skipped bulk string that is not followed by CRLF', () => {
    const stream = Buffer.concat([Buffer.from('$2000\r\n'), Buffer.alloc(2000), Buffer.from('XY')])
    expect(burrowErrorOf(() => parse(stream, skip)).code).toBe('BURROW_ERR_PROTOCOL')
    expect(burrowErrorOf(() => parse(cut(stream, [3, 500, 2007]), skip)).code).toBe('BURROW_ERR_PROTOCOL')
  })

  it('is off by default: an oversized bulk string fails the stream', () => {
    expect(burrowErrorOf(() => parse(Buffer.from('$2000\r\n'), { maxFrameBytes: 1000 })).code).toBe(
      'BURROW_ERR_FRAME_TOO_LARGE',
    )
    expect(burrowErrorOf(() => new RespParser({ oversized: 'maybe' as 'skip' })).code).toBe(
      'BURROW_ERR_BAD_OPTION',
    )
  })
})

describe('RespParser in command mode', () => {
  /** Arguments from index 2 on are bytes for SET, every argument is text otherwise. */
  const binaryFrom = (name: string) => (name === 'SET' ? 2 : Number.POSITIVE_INFINITY)

  it('decodes the arguments before the first binary one as text, the rest as Buffers, also split across chunks', () => {
    const stream = Buffer.concat([
      command('SET', 'ключ 😀', Buffer.from([0xff, 0, 13, 10]), 'PX'),
      command('GET', 'ns', 'ключ 😀'),
      Buffer.from('SET k v\r\nPING hi\r\n'),
    ])
    const expected = [
      ['SET', 'ключ 😀', Buffer.from([0xff, 0, 13, 10]), Buffer.from('PX')],
      ['GET', 'ns', 'ключ 😀'],
      ['SET', 'k', Buffer.from('v')],
      ['PING', 'hi'],
    ]
    expect(parse(stream, { binaryFrom, inline: true })).toEqual(expected)
    expect(parse(bytewise(stream), { binaryFrom, inline: true })).toEqual(expected)
  })

  it('looks each command up once, by its name', () => {
    const names: string[] = []
    const lookup = (name: string) => {
      names.push(name)
      return 1
    }
    parse(bytewise(Buffer.concat([command('A', 'x', 'y'), command('B'), Buffer.from('C z\r\n')])), {
      binaryFrom: lookup,
      inline: true,
    })
    expect(names).toEqual(['A', 'B', 'C'])
  })

  it('leaves bulk strings outside a command as Buffers', () => {
    const stream = Buffer.from('$2\r\nhi\r\n*2\r\n$3\r\nGET\r\n*1\r\n$1\r\nx\r\n')
    expect(parse(stream, { binaryFrom })).toEqual([Buffer.from('hi'), ['GET', [Buffer.from('x')]]])
  })
})

describe('CommandReader', () => {
  interface Shape {
    name: string
    binaryFrom: number
  }
  const table = new Map<string, Shape>([
    ['SET', { name: 'SET', binaryFrom: 3 }],
    ['GET', { name: 'GET', binaryFrom: Number.POSITIVE_INFINITY }],
  ])
  type Seen = { command: string | undefined; args: CommandArgs } | 'invalid'

  function reader(maxFrameBytes = 1 << 20) {
    const seen: Seen[] = []
    let lookups = 0
    const commands = new CommandReader<Shape>({
      maxFrameBytes,
      lookup: (name) => {
        lookups++
        return table.get(name)
      },
      onCommand: (shape, args) => seen.push({ command: shape?.name, args }),
      onInvalid: () => seen.push('invalid'),
    })
    return { commands, seen, lookups: () => lookups }
  }

  function read(chunks: readonly Buffer[], maxFrameBytes?: number): Seen[] {
    const { commands, seen } = reader(maxFrameBytes)
    for (const chunk of chunks) commands.feed(chunk)
    return seen
  }

  const arg = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    // Arguments that repeat at the same place, as a namespace does: the text read last there must
    // be used again only for the same bytes (é is C3 A9; a lone E9 is not é).
    fc.constantFrom<string | Buffer>(
      'ns',
      'nt',
      'é',
      Buffer.from([0xe9]),
      Buffer.from([0xe9, 0x61]),
      'éa',
      '',
      'a',
    ),
  )
  const frame = fc.oneof(
    fc.tuple(fc.constantFrom('SET', 'GET', 'NOPE'), fc.array(arg, { maxLength: 6 })).map(([name, args]) => ({
      name,
      args,
      bytes: command(name, ...args),
    })),
    fc
      .tuple(fc.constantFrom('SET', 'GET'), fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { maxLength: 4 }))
      .map(([name, args]) => ({ name, args, bytes: Buffer.from(`${[name, ...args].join(' ')}\r\n`) })),
  )
  /** What a command must arrive as: text before its first binary argument, bytes after. */
  function expectedOf(name: string, args: readonly (string | Buffer)[]): Seen {
    const binaryFrom = table.get(name)?.binaryFrom ?? Number.POSITIVE_INFINITY
    const all = [name, ...args]
    return {
      command: table.get(name)?.name,
      args: all.map((a, i) =>
        i < binaryFrom ? expectedText(Buffer.from(a)) : typeof a === 'string' ? Buffer.from(a) : a,
      ),
    }
  }

  it('delivers the same commands, text and bytes where the table says, however the stream is cut (property)', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map((f) => f.bytes))
          const expected = frames.map((f) => expectedOf(f.name, f.args))
          expect(read([stream])).toEqual(expected)
          expect(read(cut(stream, cuts))).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('delivers a command split at every byte', () => {
    const stream = command('SET', 'ns', 'k', Buffer.from([0xc3, 0x28, 13, 10, 0]), 'PX', '10')
    const expected = expectedOf('SET', ['ns', 'k', Buffer.from([0xc3, 0x28, 13, 10, 0]), 'PX', '10'])
    for (let at = 0; at <= stream.length; at++) {
      expect(read([stream.subarray(0, at), stream.subarray(at)])).toEqual([expected])
    }
    expect(read(bytewise(stream))).toEqual([expected])
  })

  it('keeps the exact bytes of binary arguments (invalid UTF-8, CR, LF, NUL) in memory of their own', () => {
    const value = Buffer.from([0xff, 0xfe, 13, 10, 0, 0xc3])
    const chunk = command('SET', 'ns', 'k', value)
    const [seen] = read([chunk])
    chunk.fill(0)
    expect((seen as { args: CommandArgs }).args[3]).toEqual(value)
  })

  it('decodes each argument from its own bytes, where a namespace repeats as where a key does', () => {
    const texts = [
      [0x6e, 0x73],
      [0x6e, 0x73],
      [0x6e, 0x74], // the same length as the last, other bytes
      [0xc3, 0xa9],
      [0xc3, 0xa9],
      [0xe9],
      [0xc3, 0xa9, 0x61],
      [0xe9, 0x61],
      [...Buffer.from('x'.repeat(70))],
      [0xe9, 0x61],
      [0x6e, 0x74],
    ]
    const want = ['ns', 'ns', 'nt', 'é', 'é', '\udce9', 'éa', '\udce9a', 'x'.repeat(70), '\udce9a', 'nt']
    // At the namespace's place (argument 1, compared with the last command's) and at the key's.
    const atNamespace = Buffer.concat(texts.map((text) => command('GET', Buffer.from(text), 'k')))
    const atKey = Buffer.concat(texts.map((text) => command('GET', 'ns', Buffer.from(text))))
    expect(read([atNamespace]).map((s) => (s as { args: CommandArgs }).args[1])).toEqual(want)
    expect(read([atKey]).map((s) => (s as { args: CommandArgs }).args[2])).toEqual(want)
  })

  it('keeps text arguments that are not UTF-8 apart: each such byte a lone surrogate, never U+FFFD', () => {
    const keys = [
      [0xff],
      [0xfe],
      [0x80],
      [0xef, 0xbf, 0xbd],
      [0x61, 0xc3],
      [0xc3, 0x61],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
    ]
    const stream = Buffer.concat(keys.map((key) => command('GET', 'ns', Buffer.from(key))))
    const texts = [read([stream]), read(bytewise(stream))].map((seen) =>
      seen.map((s) => (s as { args: CommandArgs }).args[2] as string),
    )
    expect(texts[1]).toEqual(texts[0])
    const [got] = texts
    expect(got).toEqual([
      '\udcff',
      '\udcfe',
      '\udc80',
      '\ufffd',
      'a\udcc3',
      '\udcc3a',
      '\udced\udca0\udc80',
      '\udce2\udc82',
    ])
    expect(new Set(got).size).toBe(keys.length)
    expect(got!.map((text) => text.isWellFormed())).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
    ])
    // Inline words are decoded alike.
    expect(read([Buffer.from('GET ns \xff\r\n', 'latin1')])).toEqual([
      { command: 'GET', args: ['GET', 'ns', '\udcff'] },
    ])
  })

  it('reads a simple string in a command as the bulk string of the same bytes: text or bytes where the table says', () => {
    const stream = Buffer.from('*4\r\n+SET\r\n+k\xff\r\n$2\r\nns\r\n+v\xff\r\n', 'latin1')
    const expected = [{ command: 'SET', args: ['SET', 'k\udcff', 'ns', Buffer.from([0x76, 0xff])] }]
    expect(read([stream])).toEqual(expected)
    expect(read(bytewise(stream))).toEqual(expected)
  })

  it('looks a command up once when it arrives whole', () => {
    const { commands, lookups } = reader()
    commands.feed(Buffer.concat([command('GET', 'a', 'b'), command('SET', 'a', 'b', 'c'), command('NOPE')]))
    expect(lookups()).toBe(3)
  })

  it('does not look up again a name just read, and still delivers each name as it was sent', () => {
    const { commands, lookups, seen } = reader()
    commands.feed(Buffer.concat([command('GET', 'a'), command('GET', 'b'), command('get', 'c')]))
    commands.feed(Buffer.concat([command('get', 'd'), command('SET', 'k', 'v', 'x'), command('GET', 'e')]))
    expect(lookups()).toBe(4)
    expect(seen.map((s) => (s as { args: CommandArgs }).args.slice(0, 2))).toEqual([
      ['GET', 'a'],
      ['GET', 'b'],
      ['get', 'c'],
      ['get', 'd'],
      ['SET', 'k'],
      ['GET', 'e'],
    ])
    expect(seen.map((s) => (s as { command: string | undefined }).command)).toEqual([
      'GET',
      'GET',
      undefined,
      undefined,
      'SET',
      'GET',
    ])
  })

  it('delivers an unknown command with every argument as text, and frames that are not commands as invalid', () => {
    const stream = Buffer.concat([
      command('NOPE', 'x'),
      Buffer.from('*0\r\n:1\r\n+OK\r\n*2\r\n$3\r\nGET\r\n:5\r\n*1\r\n*0\r\n'),
      command('GET', 'k'),
    ])
    const expected: Seen[] = [
      { command: undefined, args: ['NOPE', 'x'] },
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      { command: 'GET', args: ['GET', 'k'] },
    ]
    expect(read([stream])).toEqual(expected)
    expect(read(bytewise(stream))).toEqual(expected)
  })

  it('refuses a command over maxFrameBytes, also when it lies whole in one chunk', () => {
    const big = command('SET', 'ns', 'k', Buffer.alloc(2000))
    for (const chunks of [[big], cut(big, [10, 1000])]) {
      const { commands } = reader(1024)
      const feedAll = () => {
        for (const chunk of chunks) commands.feed(chunk)
      }
      expect(burrowErrorOf(feedAll).code).toBe('BURROW_ERR_FRAME_TOO_LARGE')
    }
  })

  it('random bytes give commands or a protocol or frame-size BurrowError, never another exception (property)', () => {
    const respLike = fc
      .array(fc.constantFrom(...Buffer.from('+-:$**\r\n\r\n0123456789-1-1 xa\tGETSET')), { maxLength: 200 })
      .map((bytes) => new Uint8Array(bytes))
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), respLike),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, cuts) => {
          const { commands } = reader(256)
          try {
            for (const chunk of cut(Buffer.from(bytes), cuts)) commands.feed(chunk)
          } catch (err) {
            expect(err).toBeInstanceOf(BurrowError)
            expect(['BURROW_ERR_PROTOCOL', 'BURROW_ERR_FRAME_TOO_LARGE']).toContain((err as BurrowError).code)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('CommandReader, ids of tagged commands', () => {
  const shapes: Record<string, { binaryFrom: number; tagged?: boolean }> = {
    'BURROW.FETCH': { binaryFrom: Number.POSITIVE_INFINITY, tagged: true },
    ECHO: { binaryFrom: Number.POSITIVE_INFINITY },
  }
  const read = (bytes: Buffer): CommandArgs[] => {
    const got: CommandArgs[] = []
    const reader = new CommandReader({
      maxFrameBytes: 1 << 20,
      lookup: (name) => shapes[name.toUpperCase()],
      onCommand: (_, args) => got.push(args),
      onInvalid: () => got.push([]),
    })
    reader.feed(bytes)
    return got
  }
  const command = (...args: string[]) =>
    Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)

  it('delivers plain digits as the number they write, anything else as the text sent; other commands keep text', () => {
    const ids = ['0', '7', '123456789012345', '007', '1234567890123456', '-1', '1e3', ' 7', '']
    const got = read(
      Buffer.concat([...ids.map((id) => command('BURROW.FETCH', id, 'ns', 'k')), command('ECHO', '42')]),
    )
    expect(got.map((args) => args[1])).toEqual([
      0,
      7,
      123456789012345,
      '007',
      '1234567890123456',
      '-1',
      '1e3',
      ' 7',
      '',
      '42',
    ])
    // The general parser (a command cut in two) gives the text; parseId makes the same id of both.
    const whole = command('BURROW.FETCH', '314', 'ns', 'k')
    const reader: CommandArgs[] = []
    const cut = new CommandReader({
      maxFrameBytes: 1 << 20,
      lookup: (name) => shapes[name.toUpperCase()],
      onCommand: (_, args) => reader.push(args),
      onInvalid: () => {},
    })
    cut.feed(whole.subarray(0, 10))
    cut.feed(whole.subarray(10))
    expect(reader[0]![1]).toBe('314')
    expect(parseId(reader[0]![1] as string)).toBe(parseId(read(whole)[0]![1] as number))
    expect(parseId('007')).toBe(7)
  })
})
