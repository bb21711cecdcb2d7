/**
 * RESP2, the Redis serialization protocol, as burrow's peers speak it over pipelined TCP
 * connections (so redis-cli and redis-benchmark can talk to a node): an incremental
 * {@link RespParser} used by both ends (the server parses commands, the client parses replies),
 * one-shot encoders, and a {@link RespWriter} that builds a reply of several parts into one Buffer.
 *
 * @module
 */
import { Buffer, constants } from 'node:buffer'
import { BurrowError, describe, type ErrorCode } from '../errors.ts'

const LF = 10
const CR = 13
const TAB = 9
const SPACE = 32
const DOLLAR = 36
const STAR = 42
const PLUS = 43
const MINUS = 45
const COLON = 58
const ZERO = 48
const NINE = 57

/** The longest header (or inline) line, without its line ending, as Redis bounds inline commands. */
const MAX_LINE_BYTES = 64 * 1024
/** Arrays announced longer than this grow as elements arrive rather than being allocated up front. */
const PREALLOCATE_MAX = 4096

/**
 * An error reply (`-message\r\n`) as a value. It is what the other side answered, not something
 * thrown, so it is a plain class rather than an `Error` (no stack trace to capture).
 */
export class RespError {
  /** The text after the `-`, e.g. `ERR unknown command`. */
  readonly message: string

  constructor(message: string) {
    this.message = message
  }
}

/**
 * One parsed RESP2 value: a simple string (`string`), an integer (`number`), a bulk string
 * (`Buffer`, a copy that owns its memory), a null bulk string or null array (`null`), an error
 * reply ({@link RespError}), or an array of values.
 */
export type RespValue = string | number | Buffer | null | RespError | RespValue[]

/** Limits and modes of a {@link RespParser}; every limit is checked as bytes arrive. */
export interface RespParserOptions {
  /**
   * The largest frame (one top-level value, headers included) and so also the largest bulk
   * string. A bulk header announcing more is refused at once, before its payload arrives, which
   * also bounds the memory one connection can make the parser allocate.
   * Over: `BURROW_ERR_FRAME_TOO_LARGE`.
   * @default 33554432 (32 MiB)
   */
  maxFrameBytes?: number
  /**
   * The most array elements one frame may announce, summed over every nesting level (so nesting
   * cannot multiply it). Over: `BURROW_ERR_FRAME_TOO_LARGE`.
   * @default 1048576
   */
  maxArrayLength?: number
  /** The most levels of nested arrays; a command is one level. Over: `BURROW_ERR_PROTOCOL`. @default 8 */
  maxDepth?: number
  /**
   * Accept inline commands, as Redis does from telnet: a top-level frame that does not start with
   * a RESP type byte (`+ - : $ *`) is a line ending in CRLF or LF, split on runs of spaces and tabs
   * into an array of Buffers. Empty lines are skipped. A line is at most 64 KiB, else
   * `BURROW_ERR_FRAME_TOO_LARGE`. Servers turn this on; clients leave it off.
   * @default false
   */
  inline?: boolean
  /**
   * When true, a bulk string that lies whole inside the chunk being fed is handed over as a view
   * of that chunk (no copy), valid only until `onValue` returns; the caller copies what it keeps.
   * A bulk split across chunks is always its own Buffer.
   * @default false
   */
  views?: boolean
  /**
   * When true, every bulk string (and inline argument) is handed over as a JS string decoded from
   * UTF-8, with no Buffer in between: what a server wants for commands whose arguments are text.
   * Takes precedence over `views`.
   * @default false
   */
  strings?: boolean
}

/**
 * An incremental RESP2 parser for one connection. Feed it chunks as they arrive; it calls back
 * once per complete top-level value, in order. A value split across chunks is resumed where it
 * stopped: arrays being filled stay on a stack, a bulk payload is copied straight into its final
 * Buffer, and only an incomplete header line (at most 64 KiB) is held back as bytes. The parser
 * never keeps a reference to a chunk after `feed` returns (unless `views` is on), so a caller may reuse its read buffer.
 *
 * After it throws, the parser is poisoned: the stream position is lost, every later `feed` throws
 * the same error, and the caller should close the connection.
 *
 * @example
 * const parser = new RespParser({ inline: true })
 * socket.on('data', (chunk) => {
 *   try {
 *     parser.feed(chunk, (command) => handle(command))
 *   } catch (err) {
 *     socket.destroy(err as Error)
 *   }
 * })
 */
export class RespParser {
  readonly #maxFrameBytes: number
  readonly #maxArrayLength: number
  readonly #maxDepth: number
  readonly #inline: boolean
  readonly #views: boolean
  readonly #strings: boolean
  readonly #maxLineBytes: number

  /** Arrays being filled, outermost first, with how many elements each holds and expects. */
  readonly #arrays: RespValue[][] = []
  readonly #filled: number[] = []
  readonly #lengths: number[] = []
  /** A bulk payload being received, and how many of its bytes (then of its CRLF) arrived. */
  #bulk: Buffer | null = null
  #bulkFilled = 0
  /** The start of a header line whose end has not arrived yet (a copy, never the caller's chunk). */
  #partial: Buffer | null = null
  /** Bytes after a value whose `onValue` threw, parsed first by the next `feed`. */
  #backlog: Buffer | null = null
  /** Bytes of the current frame consumed in earlier chunks, and array elements it announced. */
  #frameBytes = 0
  #frameElements = 0
  /** Where `#readInt` stopped: just past the CRLF, or -1 when the line is incomplete. */
  #next = 0
  #failure: BurrowError | null = null

  /**
   * @throws BurrowError `BURROW_ERR_BAD_OPTION` if an option is not a positive integer (or, for
   * `inline`, not a boolean).
   */
  constructor(options: RespParserOptions = {}) {
    this.#maxFrameBytes = positiveInteger('maxFrameBytes', options.maxFrameBytes, 32 * 1024 * 1024)
    if (this.#maxFrameBytes > constants.MAX_LENGTH) {
      throw new BurrowError(
        'BURROW_ERR_BAD_OPTION',
        `maxFrameBytes must be at most ${constants.MAX_LENGTH}, received ${this.#maxFrameBytes}`,
      )
    }
    this.#maxArrayLength = positiveInteger('maxArrayLength', options.maxArrayLength, 1_048_576)
    this.#maxDepth = positiveInteger('maxDepth', options.maxDepth, 8)
    const inline = options.inline ?? false
    if (typeof inline !== 'boolean') {
      throw new BurrowError('BURROW_ERR_BAD_OPTION', `inline must be a boolean, received ${describe(inline)}`)
    }
    this.#inline = inline
    this.#views = options.views === true
    this.#strings = options.strings === true
    this.#maxLineBytes = Math.min(MAX_LINE_BYTES, this.#maxFrameBytes)
  }

  /**
   * Bytes of the current, incomplete frame received so far (0 between frames), plus any bytes
   * left unparsed because an `onValue` threw.
   */
  get bufferedBytes(): number {
    return this.#frameBytes + (this.#partial?.length ?? 0) + (this.#backlog?.length ?? 0)
  }

  /**
   * Parse the next chunk of the stream, calling `onValue` once per complete top-level value, in
   * order. If `onValue` throws, the error propagates and the bytes after that value are kept for
   * the next `feed`.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` on malformed input or nesting deeper than
   * `maxDepth`; `BURROW_ERR_FRAME_TOO_LARGE` when a frame, bulk string, array or line is over its
   * limit. The parser is then poisoned.
   */
  feed(chunk: Buffer, onValue: (value: RespValue) => void): void {
    if (this.#failure !== null) throw this.#failure
    if (this.#backlog !== null) {
      chunk = Buffer.concat([this.#backlog, chunk])
      this.#backlog = null
    }
    const partial = this.#partial
    if (partial === null) {
      this.#run(chunk, 0, onValue)
      return
    }
    // Join the held-back line with only the rest of that line, so the chunk itself is not copied.
    const lf = chunk.indexOf(LF)
    this.#partial = null
    if (lf === -1) {
      // Still no line end: parse again what there is, so bad bytes are refused now, not at the LF.
      if (partial.length + chunk.length > this.#maxLineBytes + 2) throw this.#lineTooLong()
      this.#run(Buffer.concat([partial, chunk]), 0, onValue)
      return
    }
    try {
      this.#run(Buffer.concat([partial, chunk.subarray(0, lf + 1)]), 0, onValue)
    } catch (err) {
      if (this.#backlog !== null) this.#backlog = Buffer.concat([this.#backlog, chunk.subarray(lf + 1)])
      throw err
    }
    this.#run(chunk, lf + 1, onValue)
  }

  #run(buf: Buffer, start: number, onValue: (value: RespValue) => void): void {
    const end = buf.length
    const arrays = this.#arrays
    let pos = start
    let frameStart = start
    while (pos < end) {
      let value: RespValue
      if (this.#bulk !== null) {
        const bulk = this.#bulk
        pos = this.#resumeBulk(buf, pos, end)
        if (this.#bulk !== null) break
        value = this.#strings ? bulk.toString('utf8') : bulk
      } else {
        const type = buf[pos]!
        if (type === DOLLAR) {
          const length = this.#readInt(buf, pos + 1, end)
          const payload = this.#next
          if (payload === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          if (length < 0) {
            if (length !== -1) throw this.#protocol(`bulk string length ${length} is invalid`)
            value = null
            pos = payload
          } else {
            if (length > this.#maxFrameBytes) {
              throw this.#fail(
                'BURROW_ERR_FRAME_TOO_LARGE',
                `bulk string of ${length} bytes is over maxFrameBytes (${this.#maxFrameBytes})`,
              )
            }
            this.#checkFrameSize(this.#frameBytes + (payload - frameStart) + length + 2)
            const after = payload + length
            if (after + 2 <= end) {
              if (buf[after] !== CR || buf[after + 1] !== LF) {
                throw this.#protocol(`bulk string of ${length} bytes is not followed by CRLF`)
              }
              value = this.#strings
                ? buf.toString('utf8', payload, after)
                : this.#views
                  ? buf.subarray(payload, after)
                  : copyOf(buf, payload, after)
              pos = after + 2
            } else {
              // The payload continues in later chunks: collect it straight into its own Buffer.
              this.#bulk = Buffer.allocUnsafe(length)
              this.#bulkFilled = 0
              pos = payload
              continue
            }
          }
        } else if (type === STAR) {
          const length = this.#readInt(buf, pos + 1, end)
          const next = this.#next
          if (next === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          pos = next
          if (length < 0) {
            if (length !== -1) throw this.#protocol(`array length ${length} is invalid`)
            value = null
          } else {
            if (arrays.length >= this.#maxDepth) {
              throw this.#protocol(`arrays are nested deeper than maxDepth (${this.#maxDepth})`)
            }
            if (length === 0) {
              value = []
            } else {
              this.#frameElements += length
              if (this.#frameElements > this.#maxArrayLength) {
                throw this.#fail(
                  'BURROW_ERR_FRAME_TOO_LARGE',
                  `frame announces ${this.#frameElements} array elements, over maxArrayLength (${this.#maxArrayLength})`,
                )
              }
              arrays.push(length <= PREALLOCATE_MAX ? new Array(length) : [])
              this.#filled.push(0)
              this.#lengths.push(length)
              continue
            }
          }
        } else if (type === COLON) {
          value = this.#readInt(buf, pos + 1, end)
          const next = this.#next
          if (next === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          pos = next
        } else if (type === PLUS || type === MINUS) {
          const cr = this.#lineEnd(buf, pos + 1, end)
          if (cr === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          const text = buf.toString('utf8', pos + 1, cr)
          value = type === PLUS ? text : new RespError(text)
          pos = cr + 2
        } else if (this.#inline && arrays.length === 0) {
          const lf = buf.indexOf(LF, pos)
          if (lf === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          if (lf - pos > this.#maxLineBytes + 1) throw this.#lineTooLong()
          const args = splitInline(buf, pos, buf[lf - 1] === CR && lf > pos ? lf - 1 : lf)
          pos = lf + 1
          if (args.length === 0) {
            frameStart = pos
            continue
          }
          value = this.#strings ? args.map((arg) => arg.toString('utf8')) : args
        } else {
          throw this.#protocol(
            `unexpected byte 0x${type.toString(16).padStart(2, '0')} ${snippet(buf, pos, end)}`,
          )
        }
      }

      // Put the value in the array being filled; a filled array is in turn a value of its parent.
      for (;;) {
        const depth = arrays.length
        if (depth === 0) {
          this.#frameBytes = 0
          this.#frameElements = 0
          frameStart = pos
          try {
            onValue(value)
          } catch (err) {
            this.#backlog = copyOf(buf, pos, end)
            throw err
          }
          break
        }
        const array = arrays[depth - 1]!
        const index = this.#filled[depth - 1]!
        array[index] = value
        if (index + 1 < this.#lengths[depth - 1]!) {
          this.#filled[depth - 1] = index + 1
          break
        }
        arrays.pop()
        this.#filled.pop()
        this.#lengths.pop()
        value = array
      }
    }
    if (arrays.length > 0 || this.#bulk !== null) {
      this.#frameBytes += end - frameStart
      this.#checkFrameSize(this.#frameBytes)
    }
  }

  /** Copy what this chunk holds of the pending bulk payload, then check its CRLF; the new position. */
  #resumeBulk(buf: Buffer, pos: number, end: number): number {
    const bulk = this.#bulk!
    const length = bulk.length
    let filled = this.#bulkFilled
    if (filled < length) {
      const n = Math.min(length - filled, end - pos)
      buf.copy(bulk, filled, pos, pos + n)
      filled += n
      pos += n
    }
    while (filled >= length && pos < end) {
      if (buf[pos] !== (filled === length ? CR : LF)) {
        throw this.#protocol(`bulk string of ${length} bytes is not followed by CRLF`)
      }
      pos++
      if (++filled === length + 2) {
        this.#bulk = null
        return pos
      }
    }
    this.#bulkFilled = filled
    return pos
  }

  /**
   * Read `[-]digits\r\n` from `pos`; sets `#next` past the CRLF, or to -1 if the chunk ends first.
   * Only safe integers are accepted: a number could not hold larger ones exactly.
   */
  #readInt(buf: Buffer, pos: number, end: number): number {
    const negative = pos < end && buf[pos] === MINUS
    if (negative) pos++
    const digits = pos
    let n = 0
    for (; pos < end; pos++) {
      const c = buf[pos]!
      if (c >= ZERO && c <= NINE) {
        n = n * 10 + (c - ZERO)
        if (n > Number.MAX_SAFE_INTEGER) throw this.#protocol(`integer is out of the safe range`)
        continue
      }
      if (c !== CR || pos === digits) throw this.#protocol(`invalid integer ${snippet(buf, digits, end)}`)
      if (pos + 1 === end) break
      if (buf[pos + 1] !== LF) throw this.#protocol(`integer line ends in CR without LF`)
      this.#next = pos + 2
      return negative ? 0 - n : n
    }
    this.#next = -1
    return 0
  }

  /**
   * The index of the CRLF ending the line whose text starts at `from`, or -1 if the chunk ends
   * first. Scanned here rather than with `indexOf`: most lines are a few bytes long.
   */
  #lineEnd(buf: Buffer, from: number, end: number): number {
    const stop = Math.min(end, from + this.#maxLineBytes + 1)
    let i = from
    for (; i < stop; i++) {
      const c = buf[i]
      if (c === CR) {
        if (i + 1 === end) return -1
        if (buf[i + 1] !== LF) {
          throw this.#protocol(`line has a CR without LF: ${snippet(buf, from - 1, end)}`)
        }
        return i
      }
      if (c === LF) throw this.#protocol(`line ends in a bare LF: ${snippet(buf, from - 1, i)}`)
    }
    if (i - from > this.#maxLineBytes) throw this.#lineTooLong()
    return -1
  }

  /** Keep the incomplete line that starts at `lineStart` for the next chunk, counting what precedes it. */
  #suspendLine(buf: Buffer, lineStart: number, end: number, frameStart: number): void {
    // +2: the type byte, and the CR of a line whose LF has not arrived yet.
    if (end - lineStart > this.#maxLineBytes + 2) throw this.#lineTooLong()
    this.#frameBytes += lineStart - frameStart
    this.#partial = copyOf(buf, lineStart, end)
    this.#checkFrameSize(this.#frameBytes + this.#partial.length)
  }

  #checkFrameSize(bytes: number): void {
    if (bytes > this.#maxFrameBytes) {
      throw this.#fail(
        'BURROW_ERR_FRAME_TOO_LARGE',
        `frame of more than ${this.#maxFrameBytes} bytes is over maxFrameBytes`,
      )
    }
  }

  #lineTooLong(): BurrowError {
    return this.#fail(
      'BURROW_ERR_FRAME_TOO_LARGE',
      `line of more than ${this.#maxLineBytes} bytes without CRLF`,
    )
  }

  #protocol(message: string): BurrowError {
    return this.#fail('BURROW_ERR_PROTOCOL', `malformed RESP: ${message}`)
  }

  #fail(code: ErrorCode, message: string): BurrowError {
    this.#failure = new BurrowError(code, message)
    this.#partial = null
    this.#backlog = null
    this.#bulk = null
    return this.#failure
  }
}

/**
 * Encode a command as an array of bulk strings, the form Redis servers expect. Strings are
 * encoded as UTF-8.
 *
 * @example
 * socket.write(encodeCommand(['BURROW.GET', 'users', 'u:42']))
 * // *3\r\n$10\r\nBURROW.GET\r\n$5\r\nusers\r\n$4\r\nu:42\r\n
 * @throws BurrowError `BURROW_ERR_PROTOCOL` if an argument is not a string or a Uint8Array.
 */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Buffer {
  // Check every argument first so that a bad one leaves nothing half-written in the shared writer.
  for (const arg of args) checkBulk(arg)
  shared.arrayHeader(args.length)
  for (const arg of args) shared.bulk(arg)
  return shared.take()
}

/**
 * Encode a simple string: `+s\r\n`.
 *
 * @throws BurrowError `BURROW_ERR_PROTOCOL` if `s` contains CR or LF, which would end it early.
 */
export function encodeSimple(s: string): Buffer {
  return shared.simple(s).take()
}

/** Encode an error reply: `-message\r\n`. CR and LF in `message` become spaces. */
export function encodeError(message: string): Buffer {
  return shared.error(message).take()
}

/**
 * Encode an integer: `:n\r\n`.
 *
 * @throws BurrowError `BURROW_ERR_PROTOCOL` if `n` is not a safe integer.
 */
export function encodeInteger(n: number): Buffer {
  return shared.integer(n).take()
}

/**
 * Encode a bulk string: `$length\r\n` then the bytes (a string as UTF-8) then `\r\n`.
 *
 * @throws BurrowError `BURROW_ERR_PROTOCOL` if `value` is not a string or a Uint8Array.
 */
export function encodeBulk(value: string | Uint8Array): Buffer {
  return shared.bulk(value).take()
}

/** The null bulk string, `$-1\r\n`: "no value". Shared; do not modify it. */
export const NULL_BULK: Buffer = Buffer.from('$-1\r\n', 'latin1')

/**
 * Encode the header of an array of `length` elements, `*length\r\n`, to be followed by the
 * elements. `-1` encodes the null array, `*-1\r\n`.
 *
 * @throws BurrowError `BURROW_ERR_PROTOCOL` if `length` is not a safe integer of at least -1.
 */
export function encodeArrayHeader(length: number): Buffer {
  return shared.arrayHeader(length).take()
}

/**
 * What a {@link RespWriter} allocates at a time, from a first slab of 1 KiB (taken from Node's
 * Buffer pool, so a writer made for one reply costs little) doubling to 16 KiB as it is reused.
 */
const FIRST_SLAB_BYTES = 1024
const SLAB_BYTES = 16 * 1024
const EMPTY = Buffer.alloc(0)

/**
 * Builds one Buffer out of the parts of a reply, without an intermediate Buffer per part. Parts
 * are written into a slab that `take()` hands out piece by piece (as Node's Buffer pool does):
 * a taken Buffer is never written again, so the caller owns it, but it may keep the slab alive.
 *
 * @example
 * const writer = new RespWriter()
 * socket.write(writer.arrayHeader(2).simple('v').bulk(value).take())
 */
export class RespWriter {
  #buf: Buffer = EMPTY
  /** The first byte not yet taken, and the next byte to write. */
  #start = 0
  #end = 0
  #slabBytes = FIRST_SLAB_BYTES

  /** Bytes written since the last `take()`. */
  get length(): number {
    return this.#end - this.#start
  }

  /**
   * Append `*n\r\n`; `-1` is the null array.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `n` is not a safe integer of at least -1.
   */
  arrayHeader(n: number): this {
    if (!Number.isSafeInteger(n) || n < -1) throw unencodable(n, 'an array length')
    this.#reserve(24)
    this.#end = writeHeader(this.#buf, this.#end, STAR, n)
    return this
  }

  /**
   * Append `+s\r\n`.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `s` contains CR or LF.
   */
  simple(s: string): this {
    if (typeof s !== 'string' || /[\r\n]/.test(s)) throw unencodable(s, 'a simple string (no CR or LF)')
    this.#line(PLUS, s)
    return this
  }

  /** Append `-msg\r\n`, with CR and LF in `msg` replaced by spaces. */
  error(msg: string): this {
    this.#line(MINUS, String(msg).replace(/[\r\n]/g, ' '))
    return this
  }

  /**
   * Append `:n\r\n`.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `n` is not a safe integer.
   */
  integer(n: number): this {
    if (!Number.isSafeInteger(n)) throw unencodable(n, 'an integer (a safe integer)')
    this.#reserve(24)
    this.#end = writeHeader(this.#buf, this.#end, COLON, n)
    return this
  }

  /**
   * Append a bulk string; a string is encoded as UTF-8.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `value` is not a string or a Uint8Array.
   */
  bulk(value: string | Uint8Array): this {
    checkBulk(value)
    if (typeof value === 'string') {
      const length = Buffer.byteLength(value, 'utf8')
      this.#reserve(length + 24)
      const at = writeHeader(this.#buf, this.#end, DOLLAR, length)
      this.#end = writeCrlf(this.#buf, at + this.#buf.write(value, at, length, 'utf8'))
    } else {
      this.#reserve(value.length + 24)
      const at = writeHeader(this.#buf, this.#end, DOLLAR, value.length)
      this.#buf.set(value, at)
      this.#end = writeCrlf(this.#buf, at + value.length)
    }
    return this
  }

  /** Append the null bulk string, `$-1\r\n`. */
  nullBulk(): this {
    this.#reserve(NULL_BULK.length)
    this.#buf.set(NULL_BULK, this.#end)
    this.#end += NULL_BULK.length
    return this
  }

  /** The bytes written since the last `take()`, which the caller now owns; the writer starts over. */
  take(): Buffer {
    const out = this.#buf.subarray(this.#start, this.#end)
    this.#start = this.#end
    // A slab grown for one big reply is left to that reply rather than kept for small ones.
    if (this.#buf.length > SLAB_BYTES) {
      this.#buf = EMPTY
      this.#start = 0
      this.#end = 0
    }
    return out
  }

  #line(type: number, text: string): void {
    const length = Buffer.byteLength(text, 'utf8')
    this.#reserve(length + 3)
    const buf = this.#buf
    buf[this.#end] = type
    this.#end = writeCrlf(buf, this.#end + 1 + buf.write(text, this.#end + 1, length, 'utf8'))
  }

  /** Make room for `n` more bytes, moving the bytes not yet taken to a new slab if needed. */
  #reserve(n: number): void {
    if (this.#end + n <= this.#buf.length) return
    const pending = this.#end - this.#start
    // Grow by half of what is pending so a long reply is amortized, yet one big part fits tightly.
    const next = Buffer.allocUnsafe(Math.max(this.#slabBytes, pending + n + (pending >> 1)))
    this.#slabBytes = Math.min(SLAB_BYTES, this.#slabBytes * 2)
    this.#buf.copy(next, 0, this.#start, this.#end)
    this.#buf = next
    this.#start = 0
    this.#end = pending
  }
}

/** The writer behind the one-shot encoders; each of them leaves it empty. */
const shared = new RespWriter()

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `${name} must be a positive integer, received ${describe(value)}`,
    )
  }
  return value
}

function checkBulk(value: unknown): void {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw unencodable(value, 'a bulk string (a string or a Uint8Array)')
  }
}

function unencodable(value: unknown, as: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `cannot encode ${describe(value)} as ${as}`)
}

/** Write `<type><n>\r\n` at `at`; the position after it. */
function writeHeader(buf: Buffer, at: number, type: number, n: number): number {
  buf[at++] = type
  if (n < 0) {
    buf[at++] = MINUS
    n = -n
  }
  let digits = 1
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++
  let i = at + digits
  do {
    buf[--i] = ZERO + (n % 10)
    n = Math.floor(n / 10)
  } while (n > 0)
  return writeCrlf(buf, at + digits)
}

function writeCrlf(buf: Buffer, at: number): number {
  buf[at] = CR
  buf[at + 1] = LF
  return at + 2
}

/**
 * A copy of `buf[start, end)` that does not keep `buf` alive. Up to 64 bytes it is a Buffer of its
 * own (V8 keeps it on the heap, as cheap as the pool) so a small cached value pins no shared slab;
 * up to 4 KiB it comes from Node's Buffer pool, like `Buffer.from`; above, it is its own too.
 */
function copyOf(buf: Buffer, start: number, end: number): Buffer {
  const length = end - start
  const out = length <= 64 ? Buffer.allocUnsafeSlow(length) : Buffer.allocUnsafe(length)
  // Below a few dozen bytes a loop beats the native copy's call overhead.
  if (length <= 32) for (let i = 0; i < length; i++) out[i] = buf[start + i]!
  else buf.copy(out, 0, start, end)
  return out
}

/** The words of an inline command in `buf[start, end)`, split on runs of spaces and tabs. */
function splitInline(buf: Buffer, start: number, end: number): Buffer[] {
  const args: Buffer[] = []
  let word = -1
  for (let i = start; i <= end; i++) {
    const c = i < end ? buf[i] : SPACE
    if (c === SPACE || c === TAB) {
      if (word !== -1) args.push(copyOf(buf, word, i))
      word = -1
    } else if (word === -1) {
      word = i
    }
  }
  return args
}

/** Up to 32 bytes from `start`, quoted, for an error message. */
function snippet(buf: Buffer, start: number, end: number): string {
  return JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 32)))
}
