/**
 * The server's reader of commands. Whole commands (`*N` arrays of `$len` bulk strings) lying in
 * one chunk are decoded straight from it, which is how almost every peer command arrives; the
 * general {@link RespParser} takes over from the first frame the fast path does not read itself
 * (inline, split across chunks, another type, too large or malformed) until the end of that chunk,
 * and refuses what is bad.
 *
 * A command arrives as its arguments, its name first: text (JS strings decoded from UTF-8, bytes
 * that are not UTF-8 kept apart as lone surrogates, see {@link textOf}) up to the command's first
 * binary argument, Buffers in memory of their own from there. The command
 * table says where that is; the reader looks each command up once, by its name.
 *
 * @module
 */
import type { Buffer } from 'node:buffer'
import { copyOf, readDecimal, skipLine, textOf } from './bytes.ts'
import { CR, DOLLAR, LF, STAR } from './constants.ts'
import { RespParser, type RespValue } from './reader.ts'

/**
 * A command's arguments, its name first: text up to its first binary argument, bytes from there;
 * a tagged command's id (index 1) may come as a number.
 */
export type CommandArgs = readonly (string | Buffer | number)[]

/** What the reader needs to know of a command: the index of its first binary argument, and whether it is tagged. */
export interface CommandShape {
  /** Arguments from this index on are Buffers; `Infinity` when every argument is text. */
  readonly binaryFrom: number
  /**
   * A peer command, whose `args[1]` is its id: the fast path delivers an id of 1 to 15 digits
   * with no leading zero as a number (whose text is the id as sent), anything else as text.
   */
  readonly tagged?: boolean
}

/** Where a {@link CommandReader} finds commands and delivers them. */
export interface CommandReaderOptions<C extends CommandShape> {
  /** The largest command, headers included. Over: `BURROW_ERR_FRAME_TOO_LARGE`. */
  maxFrameBytes: number
  /** The command named `name` (in any case), or `undefined` when there is none. */
  lookup(name: string): C | undefined
  /** Receives each command, `undefined` when its name is unknown (then every argument is text). */
  onCommand(command: C | undefined, args: CommandArgs): void
  /** Receives each frame that is not a command: not a non-empty array of bulk strings. */
  onInvalid(): void
}

/** The most arguments the fast path reads; longer commands go to the general parser. */
const FAST_MAX_ARGS = 16
/**
 * The arguments compared with the last command's at the same place: the name (0), and the first
 * after it (1), or after a tagged command's id (2), which is a namespace in burrow's commands.
 * Keys are not: comparing a key with the last one fails, costing as much as the decode it did not save.
 */
const REPEATED_ARGS = 3
/** The longest argument kept for the next command to compare with. */
const REPEATED_MAX_BYTES = 64

/**
 * Reads the commands of one connection, in order. Throws (and is then poisoned) as
 * {@link RespParser.feed} does; the connection should answer with an error and close.
 *
 * @example
 * const reader = new CommandReader({ maxFrameBytes, lookup, onCommand, onInvalid })
 * socket.on('data', (chunk) => reader.feed(chunk))
 */
export class CommandReader<C extends CommandShape> {
  readonly #maxFrameBytes: number
  readonly #lookup: (name: string) => C | undefined
  readonly #onCommand: (command: C | undefined, args: CommandArgs) => void
  readonly #onInvalid: () => void
  readonly #parser: RespParser
  /** The command the general parser looked up for the frame it is reading. */
  #command: C | undefined = undefined
  /**
   * The text of the name and the namespace of the last command the fast path read, by index:
   * pipelined commands mostly repeat one name and one namespace, and comparing their bytes costs
   * less than decoding them (see `#repeatedText`).
   */
  readonly #lastTexts: string[] = new Array<string>(REPEATED_ARGS).fill('')
  /** The name the command below was looked up by. */
  #lastName = ''
  #lastCommand: C | undefined = undefined

  constructor(options: CommandReaderOptions<C>) {
    this.#maxFrameBytes = options.maxFrameBytes
    this.#lookup = options.lookup
    this.#onCommand = options.onCommand
    this.#onInvalid = options.onInvalid
    this.#parser = new RespParser({
      maxFrameBytes: options.maxFrameBytes,
      inline: true,
      binaryFrom: (name) => {
        this.#command = this.#lookup(name)
        return this.#command?.binaryFrom ?? Number.POSITIVE_INFINITY
      },
    })
  }

  /** True between commands: no command is half-read. */
  get idle(): boolean {
    return this.#parser.idle
  }

  /** Reads the next chunk of the stream, delivering every command it completes. */
  feed(chunk: Buffer): void {
    const pos = this.#parser.idle ? this.#fast(chunk) : 0
    if (pos < chunk.length) this.#parser.feed(pos === 0 ? chunk : chunk.subarray(pos), this.#onValue)
  }

  /** Reads the whole commands at the start of `buf`; returns where it stopped. */
  #fast(buf: Buffer): number {
    const end = buf.length
    const max = this.#maxFrameBytes
    let pos = 0
    while (pos < end) {
      if (buf[pos] !== STAR) return pos
      const count = readDecimal(buf, pos + 1, end)
      if (count <= 0 || count > FAST_MAX_ARGS) return pos
      let p = skipLine(buf, pos + 1)
      const args: (string | Buffer | number)[] = new Array(count)
      let command: C | undefined
      let binaryFrom = 1
      let tagged = false
      for (let i = 0; i < count; i++) {
        if (p >= end || buf[p] !== DOLLAR) return pos
        const length = readDecimal(buf, p + 1, end)
        if (length < 0) return pos
        const start = skipLine(buf, p + 1)
        const stop = start + length
        if (stop + 2 > end || stop + 2 - pos > max || buf[stop] !== CR || buf[stop + 1] !== LF) return pos
        if (i === 0) {
          const name = this.#repeatedText(0, buf, start, stop)
          if (name !== this.#lastName) {
            this.#lastName = name
            this.#lastCommand = this.#lookup(name)
          }
          command = this.#lastCommand
          binaryFrom = command === undefined ? Number.POSITIVE_INFINITY : command.binaryFrom
          tagged = command?.tagged === true
          args[0] = name
        } else if (i === 1 && tagged && i < binaryFrom) {
          args[1] = decimalOf(buf, start, stop) ?? textOf(buf, start, stop)
        } else if (i < binaryFrom) {
          args[i] =
            i === (tagged ? 2 : 1) ? this.#repeatedText(i, buf, start, stop) : textOf(buf, start, stop)
        } else {
          args[i] = copyOf(buf, start, stop)
        }
        p = stop + 2
      }
      this.#onCommand(command, args)
      pos = p
    }
    return pos
  }

  /**
   * The text of argument `i`: the one read last at that place when the bytes are the same ASCII,
   * else decoded (and kept for the next command). A name or namespace comes again and again.
   */
  #repeatedText(i: number, buf: Buffer, start: number, stop: number): string {
    const last = this.#lastTexts[i]!
    const length = stop - start
    if (last.length === length) {
      let j = 0
      for (; j < length; j++) {
        const c = buf[start + j]!
        // ASCII only: a byte of 0x80 or more is not the character of the same code.
        if (c >= 0x80 || c !== last.charCodeAt(j)) break
      }
      if (j === length) return last
    }
    const text = textOf(buf, start, stop)
    // Only short texts are kept: a long argument is no namespace, and would stay in memory.
    if (length <= REPEATED_MAX_BYTES) this.#lastTexts[i] = text
    return text
  }

  readonly #onValue = (value: RespValue): void => {
    const command = this.#command
    this.#command = undefined
    if (!isCommand(value)) return this.#onInvalid()
    this.#onCommand(command, value)
  }
}

/**
 * The number written by bytes `start` to `stop` when they are 1 to 15 decimal digits with no
 * leading zero (so the number's text is those bytes again), else `undefined`.
 */
function decimalOf(buf: Buffer, start: number, stop: number): number | undefined {
  if (stop <= start || stop - start > 15 || (buf[start] === 48 && stop - start > 1)) return undefined
  let n = 0
  for (let i = start; i < stop; i++) {
    const digit = buf[i]! - 48
    if (digit < 0 || digit > 9) return undefined
    n = n * 10 + digit
  }
  return n
}

function isCommand(value: RespValue): value is (string | Buffer)[] {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'string') return false
  for (const arg of value) {
    if (typeof arg !== 'string' && !(arg instanceof Uint8Array)) return false
  }
  return true
}
