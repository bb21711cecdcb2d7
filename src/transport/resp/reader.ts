/**
 * The general incremental reader of RESP2, the Redis serialization protocol, as burrow's peers
 * speak it over pipelined TCP connections (so redis-cli and redis-benchmark can talk to a node).
 * Both ends read through it: the server's {@link CommandReader} and the client's
 * {@link ReplyReader} decode what lies whole in a chunk themselves and hand everything else
 * (frames split across chunks, inline commands, unusual or malformed frames) to this parser.
 *
 * @module
 */
import { Buffer, constants } from 'node:buffer'
import { BurrowError, describe, type ErrorCode } from '../../errors.ts'
import { copyInto, copyOf, snippet, textOf } from './bytes.ts'
import {
  COLON,
  CR,
  DEFAULT_MAX_FRAME_BYTES,
  DOLLAR,
  LF,
  MAX_LINE_BYTES,
  MINUS,
  NINE,
  PLUS,
  SPACE,
  STAR,
  TAB,
  ZERO,
} from './constants.ts'

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
 * A bulk string that did not fit in `maxFrameBytes` and was skipped, in a parser whose
 * `oversized` option is `'skip'`: its bytes were read past and dropped.
 */
export class OversizedBulk {
  /** The length the bulk string announced. */
  readonly length: number

  constructor(length: number) {
    this.length = length
  }
}

/**
 * One parsed RESP2 value: a simple string (`string`), an integer (`number`), a bulk string
 * (`Buffer` in memory of its own, or a `string` where command mode says so), a nil bulk string or
 * nil array (`null`), an error reply ({@link RespError}), a skipped bulk string
 * ({@link OversizedBulk}), or an array of values.
 */
export type RespValue = string | number | Buffer | null | RespError | OversizedBulk | RespValue[]

/** Limits and modes of a {@link RespParser}; every limit is checked as bytes arrive. */
export interface RespParserOptions {
  /**
   * The largest frame (one top-level value, headers included) and so also the largest bulk
   * string. A bulk header announcing more is refused at once, before its payload arrives. Memory
   * for a payload is taken as its bytes arrive, not when its length is announced.
   * Over: `BURROW_ERR_FRAME_TOO_LARGE` (see `oversized`).
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
   * into an array of words. Empty lines are skipped. A line is at most 64 KiB, else
   * `BURROW_ERR_FRAME_TOO_LARGE`. Servers turn this on; clients leave it off.
   * @default false
   */
  inline?: boolean
  /**
   * Command mode. Given, the bulk strings of a top-level array (and the words of an inline
   * command) are JS strings decoded from UTF-8 up to the index this returns for the first one,
   * the command's name, and Buffers from that index on. It is called once per command.
   * Without it, every bulk string is a Buffer. A simple string in a command is read as the bulk
   * string of the same bytes. Bytes that are not UTF-8 are not replaced: each becomes a lone
   * surrogate (U+DC80 to U+DCFF), so the text is not well-formed and different bytes never
   * decode to the same text.
   */
  binaryFrom?: (name: string) => number
  /**
   * What a bulk string that does not fit in `maxFrameBytes` does: `'fail'` the stream with
   * `BURROW_ERR_FRAME_TOO_LARGE`, or `'skip'` its bytes and stand in the frame as an
   * {@link OversizedBulk}, so that a client fails only the reply that holds it.
   * @default 'fail'
   */
  oversized?: 'fail' | 'skip'
}

/**
 * An incremental RESP2 parser for one connection. Feed it chunks as they arrive; it calls back
 * once per complete top-level value, in order. A value split across chunks is resumed where it
 * stopped: arrays being filled stay on a stack, a bulk payload is copied into a Buffer that grows
 * with the bytes that arrive (to its announced length, at most), and only an incomplete header or
 * inline line (at most 64 KiB) is held back as bytes. The work is linear in the bytes fed, however
 * they are cut. The parser never keeps a reference to a chunk after `feed` returns, so a caller
 * may reuse its read buffer.
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
  readonly #binaryFrom: ((name: string) => number) | undefined
  readonly #skipOversized: boolean
  readonly #maxLineBytes: number

  /** Arrays being filled, outermost first, with how many elements each holds and expects. */
  readonly #arrays: RespValue[][] = []
  readonly #filled: number[] = []
  readonly #lengths: number[] = []
  /** In command mode: elements of the top-level array below this index are text. */
  #textUntil = 1
  /**
   * A bulk payload being received: its bytes so far (in a Buffer that grows as they arrive), its
   * announced length, and how many of its bytes (then of its CRLF) arrived.
   */
  #bulk: Buffer | null = null
  #bulkLength = 0
  #bulkFilled = 0
  /** Bytes still to skip of an oversized bulk (payload, then CRLF), and its announced length. */
  #skipLeft = 0
  #skipLength = 0
  /**
   * The start of a header or inline line whose LF has not arrived yet: its first `#heldBytes`
   * bytes, copied (never the caller's chunk) into a Buffer that grows as they arrive.
   */
  #held: Buffer | null = null
  #heldBytes = 0
  /** Bytes after a value whose `onValue` threw, parsed first by the next `feed`. */
  #backlog: Buffer | null = null
  /** Bytes of the current frame consumed in earlier chunks (skipped bytes not counted), and array elements it announced. */
  #frameBytes = 0
  #frameElements = 0
  /** Where `#readInt` stopped: just past the CRLF, or -1 when the line is incomplete. */
  #next = 0
  #failure: BurrowError | null = null

  /**
   * @throws BurrowError `BURROW_ERR_BAD_OPTION` if a limit is not a positive integer, `inline`
   * not a boolean or `oversized` neither `'fail'` nor `'skip'`.
   */
  constructor(options: RespParserOptions = {}) {
    this.#maxFrameBytes = positiveInteger('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES)
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
    const oversized = options.oversized ?? 'fail'
    if (oversized !== 'fail' && oversized !== 'skip') {
      throw new BurrowError(
        'BURROW_ERR_BAD_OPTION',
        `oversized must be 'fail' or 'skip', received ${describe(oversized)}`,
      )
    }
    this.#skipOversized = oversized === 'skip'
    this.#binaryFrom = options.binaryFrom
    this.#maxLineBytes = Math.min(MAX_LINE_BYTES, this.#maxFrameBytes)
  }

  /** True between frames: nothing is held back, so the next byte fed starts a new frame. */
  get idle(): boolean {
    return (
      this.#arrays.length === 0 &&
      this.#bulk === null &&
      this.#skipLeft === 0 &&
      this.#heldBytes === 0 &&
      this.#backlog === null
    )
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
    if (this.#heldBytes === 0) {
      this.#run(chunk, 0, onValue)
      return
    }
    const lf = chunk.indexOf(LF)
    if (lf === -1) return this.#holdMore(chunk, onValue)
    // Join the held line with only the rest of that line, so the chunk itself is not copied.
    const line = Buffer.concat([this.#held!.subarray(0, this.#heldBytes), chunk.subarray(0, lf + 1)])
    this.#release()
    try {
      this.#run(line, 0, onValue)
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
        pos = this.#resumeBulk(buf, pos, end)
        if (this.#bulkFilled < this.#bulkLength + 2) break
        const bulk = this.#bulk
        this.#bulk = null
        value = this.#isText() ? textOf(bulk, 0, bulk.length) : bulk
      } else if (this.#skipLeft > 0) {
        const from = pos
        pos = this.#resumeSkip(buf, pos, end)
        // Skipped bytes do not count toward the frame: only what is kept does.
        this.#frameBytes -= pos - from
        if (this.#skipLeft > 0) break
        value = new OversizedBulk(this.#skipLength)
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
            const frame = this.#frameBytes + (payload - frameStart) + length + 2
            if (this.#skipOversized && (length > this.#maxFrameBytes || frame > this.#maxFrameBytes)) {
              this.#skipLeft = length + 2
              this.#skipLength = length
              pos = payload
              continue
            }
            if (length > this.#maxFrameBytes) {
              throw this.#fail(
                'BURROW_ERR_FRAME_TOO_LARGE',
                `bulk string of ${length} bytes is over maxFrameBytes (${this.#maxFrameBytes})`,
              )
            }
            this.#checkFrameSize(frame)
            const after = payload + length
            if (after + 2 <= end) {
              if (buf[after] !== CR || buf[after + 1] !== LF) {
                throw this.#protocol(`bulk string of ${length} bytes is not followed by CRLF`)
              }
              value = this.#isText() ? textOf(buf, payload, after) : copyOf(buf, payload, after)
              pos = after + 2
            } else {
              // The payload continues in later chunks: its Buffer follows the bytes that arrive.
              this.#bulkLength = length
              this.#bulk = Buffer.allocUnsafeSlow(this.#bulkCapacity(end - payload))
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
            this.#frameElements += length
            if (this.#frameElements > this.#maxArrayLength) {
              throw this.#fail(
                'BURROW_ERR_FRAME_TOO_LARGE',
                `array of ${length} elements takes the frame over maxArrayLength (${this.#maxArrayLength})`,
              )
            }
            if (length > 0) {
              if (arrays.length === 0) this.#textUntil = 1
              // A huge announced length grows as elements arrive rather than being allocated up front.
              arrays.push(length <= PREALLOCATE_MAX ? new Array(length) : [])
              this.#filled.push(0)
              this.#lengths.push(length)
              continue
            }
            value = []
          }
        } else if (type === COLON) {
          const n = this.#readInt(buf, pos + 1, end)
          const next = this.#next
          if (next === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          value = n
          pos = next
        } else if (type === PLUS || type === MINUS) {
          const cr = this.#lineEnd(buf, pos + 1, end)
          if (cr === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          if (type === MINUS) value = new RespError(buf.toString('utf8', pos + 1, cr))
          else if (this.#binaryFrom === undefined || arrays.length !== 1)
            value = buf.toString('utf8', pos + 1, cr)
          // In a command, a simple string stands for the bulk string of the same bytes.
          else value = this.#isText() ? textOf(buf, pos + 1, cr) : copyOf(buf, pos + 1, cr)
          pos = cr + 2
        } else if (this.#inline && arrays.length === 0) {
          const lf = buf.indexOf(LF, pos)
          if (lf === -1) {
            this.#suspendLine(buf, pos, end, frameStart)
            return
          }
          if (lf - pos > this.#maxLineBytes + 1) throw this.#lineTooLong()
          const args = this.#splitInline(buf, pos, buf[lf - 1] === CR && lf > pos ? lf - 1 : lf)
          pos = lf + 1
          if (args.length === 0) {
            frameStart = pos
            continue
          }
          value = args
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
          // Checked here too, not only where a chunk ends: a frame is refused however it is cut.
          this.#checkFrameSize(this.#frameBytes + (pos - frameStart))
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
        // In command mode the name, once known, says which arguments after it are text.
        if (index === 0 && depth === 1 && this.#binaryFrom !== undefined && typeof value === 'string') {
          this.#textUntil = this.#binaryFrom(value)
        }
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
    if (!this.idle) {
      this.#frameBytes += end - frameStart
      this.#checkFrameSize(this.#frameBytes)
    }
  }

  /** In command mode, is the bulk string being read an argument that is text? */
  #isText(): boolean {
    return this.#binaryFrom !== undefined && this.#arrays.length === 1 && this.#filled[0]! < this.#textUntil
  }

  /** Copy what this chunk holds of the pending bulk payload, then check its CRLF; the new position. */
  #resumeBulk(buf: Buffer, pos: number, end: number): number {
    const length = this.#bulkLength
    let filled = this.#bulkFilled
    if (filled < length) {
      const n = Math.min(length - filled, end - pos)
      const bulk = filled + n > this.#bulk!.length ? this.#growBulk(filled + n) : this.#bulk!
      buf.copy(bulk, filled, pos, pos + n)
      filled += n
      pos += n
    }
    while (filled >= length && filled < length + 2 && pos < end) {
      if (buf[pos] !== (filled === length ? CR : LF)) {
        throw this.#protocol(`bulk string of ${length} bytes is not followed by CRLF`)
      }
      pos++
      filled++
    }
    this.#bulkFilled = filled
    return pos
  }

  /** Moves the pending payload to a Buffer that holds at least `bytes`. */
  #growBulk(bytes: number): Buffer {
    const grown = Buffer.allocUnsafeSlow(this.#bulkCapacity(bytes))
    this.#bulk!.copy(grown, 0, 0, this.#bulkFilled)
    this.#bulk = grown
    return grown
  }

  /**
   * The size of the pending payload's Buffer once `arrived` of its bytes are here: a few times
   * that (so most values are allocated once or twice, and copies add up to less than the value),
   * never more than the announced length (so the last Buffer is the value's own memory). A
   * header alone thus costs at most a read's worth, whatever length it announces.
   */
  #bulkCapacity(arrived: number): number {
    return Math.min(this.#bulkLength, Math.max(BULK_FIRST_BYTES, BULK_GROWTH * arrived))
  }

  /** Read past what this chunk holds of an oversized bulk payload, then check its CRLF; the new position. */
  #resumeSkip(buf: Buffer, pos: number, end: number): number {
    let left = this.#skipLeft
    if (left > 2) {
      const n = Math.min(left - 2, end - pos)
      pos += n
      left -= n
    }
    while (left <= 2 && left > 0 && pos < end) {
      if (buf[pos] !== (left === 2 ? CR : LF)) {
        throw this.#protocol(`bulk string of ${this.#skipLength} bytes is not followed by CRLF`)
      }
      pos++
      left--
    }
    this.#skipLeft = left
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
        // Only zeros could pad a line this long; refusing it keeps a held integer line short.
        if (pos - digits >= MAX_INTEGER_DIGITS)
          throw this.#protocol(`integer of more than ${MAX_INTEGER_DIGITS} digits`)
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

  /**
   * The words of an inline command in `buf[start, end)`, split on runs of spaces and tabs: in
   * command mode text up to the command's first binary argument, otherwise Buffers.
   */
  #splitInline(buf: Buffer, start: number, end: number): (string | Buffer)[] {
    const words: (string | Buffer)[] = []
    let textUntil = this.#binaryFrom === undefined ? 0 : 1
    let word = -1
    for (let i = start; i <= end; i++) {
      const c = i < end ? buf[i] : SPACE
      if (c === SPACE || c === TAB) {
        if (word === -1) continue
        if (words.length < textUntil) {
          const text = textOf(buf, word, i)
          if (words.length === 0) textUntil = this.#binaryFrom!(text)
          words.push(text)
        } else {
          words.push(copyOf(buf, word, i))
        }
        word = -1
      } else if (word === -1) {
        word = i
      }
    }
    return words
  }

  /** Keep the incomplete line that starts at `lineStart` for the next chunk, counting what precedes it. */
  #suspendLine(buf: Buffer, lineStart: number, end: number, frameStart: number): void {
    this.#frameBytes += lineStart - frameStart
    this.#hold(buf, lineStart, end)
  }

  /**
   * A chunk without LF while a line is held: keep it too, and refuse now what no LF could make a
   * valid line, looking only at the new bytes (so a line sent a byte at a time costs linear time).
   */
  #holdMore(chunk: Buffer, onValue: (value: RespValue) => void): void {
    if (chunk.length === 0) return
    const held = this.#held!
    const type = held[0]
    if (type === DOLLAR || type === STAR || type === COLON) {
      // An integer line is short (#readInt refuses more digits), so parsing it again whole is cheap.
      const line = Buffer.concat([held.subarray(0, this.#heldBytes), chunk])
      this.#release()
      this.#run(line, 0, onValue)
      return
    }
    if (type === PLUS || type === MINUS) {
      const cr = chunk.indexOf(CR)
      if (held[this.#heldBytes - 1] === CR || (cr !== -1 && cr < chunk.length - 1)) {
        throw this.#protocol(`line has a CR without LF: ${snippet(held, 0, this.#heldBytes)}`)
      }
    }
    this.#hold(chunk, 0, chunk.length)
  }

  /** Adds `buf[start, end)` to the held line, growing its Buffer by doubling up to the longest line. */
  #hold(buf: Buffer, start: number, end: number): void {
    const bytes = this.#heldBytes + (end - start)
    // +2: the type byte, and the CR of a line whose LF has not arrived yet.
    if (bytes > this.#maxLineBytes + 2) throw this.#lineTooLong()
    let held = this.#held
    if (held === null || bytes > held.length) {
      const grown = Buffer.allocUnsafeSlow(
        Math.min(this.#maxLineBytes + 2, Math.max(bytes, 2 * (held?.length ?? 0), HELD_FIRST_BYTES)),
      )
      if (held !== null) held.copy(grown, 0, 0, this.#heldBytes)
      this.#held = held = grown
    }
    copyInto(held, this.#heldBytes, buf, start, end)
    this.#heldBytes = bytes
    this.#checkFrameSize(this.#frameBytes + bytes)
  }

  /** Lets go of the held line (an idle connection keeps no line Buffer). */
  #release(): void {
    this.#held = null
    this.#heldBytes = 0
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
    this.#release()
    this.#backlog = null
    this.#bulk = null
    this.#skipLeft = 0
    return this.#failure
  }
}

/** Arrays announced longer than this grow as elements arrive rather than being allocated up front. */
const PREALLOCATE_MAX = 4096
/** The least a held line's Buffer starts at. */
const HELD_FIRST_BYTES = 64
/** The least a split bulk payload's Buffer starts at (a socket read's worth), unless it is shorter. */
const BULK_FIRST_BYTES = 64 * 1024
/** A split bulk payload's Buffer is at most this many times the bytes that arrived (or the above). */
const BULK_GROWTH = 4
/** The most digits of an integer line; a safe integer has 16. */
const MAX_INTEGER_DIGITS = 20

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
