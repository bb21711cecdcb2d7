/**
 * The one writer of RESP2, used by both ends: the peer client writes its commands with it, the
 * server its replies. Each connection has one writer; everything written in a tick goes to the
 * socket in one `write` (see {@link RespWriter.take}).
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { BurrowError, describe } from '../../errors.ts'
import { copyInto } from './bytes.ts'
import { COLON, CR, DOLLAR, LF, MINUS, ONE, PERCENT, PLUS, STAR, UNDERSCORE, ZERO } from './constants.ts'

/** A writer's first slab; it doubles, up to {@link MAX_SLAB_BYTES}, when a tick needs more. */
const FIRST_SLAB_BYTES = 4096
/** The largest slab a writer keeps; a larger one, made for one big tick, is dropped once taken. */
const MAX_SLAB_BYTES = 128 * 1024
/** Error lines are cut to this many characters, so that one error cannot make a huge line. */
const MAX_ERROR_CHARS = 1024
/** Strings up to this length are tried as ASCII, written by a loop rather than a native call. */
const SHORT_STRING = 48
/**
 * Strings up to this length are encoded in one pass into room for their longest encoding (three
 * times their length, 24 KiB at most, so a slab never grows past 32 KiB for the room alone);
 * longer ones are measured first.
 */
const ONE_PASS_CHARS = 8 * 1024
const EMPTY = Buffer.alloc(0)

/**
 * Appends RESP into one growing Buffer, with no intermediate Buffer or string per part: each part
 * is sized exactly (a string by its UTF-8 byte length) before it is written. `take()` hands out
 * what was written since the last `take()`; a taken Buffer is never written again, so the socket
 * may hold it while the writer goes on in the rest of the slab.
 *
 * Every method checks its input before writing anything of that part, so a refused part leaves
 * nothing half-written.
 *
 * A command is an array of bulk strings, a reply any mix of the parts.
 *
 * @example
 * const writer = new RespWriter()
 * writer.arrayHeader(4).bulk('BURROW.FETCH').bulk(7).bulk('test').bulk('6.824')
 * writer.arrayHeader(4).integer(7).simple('s').bulk('MIT').integer(-1)
 * socket.write(writer.take())
 */
export class RespWriter {
  #buf: Buffer = EMPTY
  /** The first byte not yet taken, and the next byte to write. */
  #start = 0
  #end = 0
  #slabBytes = FIRST_SLAB_BYTES
  /** How many bytes the last `take()` handed out (up to the largest slab): what the next tick will likely need. */
  #lastTaken = 0

  /** Bytes written since the last `take()`. */
  get length(): number {
    return this.#end - this.#start
  }

  /**
   * Appends `*n\r\n`, the header of an array of `n` elements; `-1` is the nil array.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `n` is not a safe integer of at least -1.
   */
  arrayHeader(n: number): this {
    if (!Number.isSafeInteger(n) || n < -1) throw unencodable(n, 'an array length')
    this.#header(STAR, n)
    return this
  }

  /**
   * Appends `:n\r\n`.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `n` is not a safe integer.
   */
  integer(n: number): this {
    if (!Number.isSafeInteger(n)) throw unencodable(n, 'an integer (a safe integer)')
    this.#header(COLON, n)
    return this
  }

  /**
   * Appends `+text\r\n`.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `text` is not a string or contains CR or LF.
   */
  simple(text: string): this {
    if (typeof text !== 'string') throw unencodable(text, 'a simple string')
    if (!this.#shortLine(PLUS, text)) {
      if (/[\r\n]/.test(text)) throw unencodable(text, 'a simple string (no CR or LF)')
      this.#line(PLUS, text)
    }
    return this
  }

  /** Appends `-message\r\n`, with CR and LF replaced by spaces and the message cut to 1,024 characters. */
  error(message: string): this {
    const text = String(message)
    const line = text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 3)}...` : text
    this.#line(MINUS, line.replace(/[\r\n]/g, ' '))
    return this
  }

  /**
   * Appends a bulk string: a string as UTF-8, a number as its decimal digits, bytes as they are.
   *
   * @throws BurrowError `BURROW_ERR_PROTOCOL` if `value` is a number that is not a safe integer,
   * or neither a string, a number nor a Uint8Array.
   */
  bulk(value: string | number | Uint8Array): this {
    if (typeof value === 'string') this.#bulkString(value)
    else if (typeof value === 'number') this.#bulkInteger(value)
    else if (value instanceof Uint8Array) this.#bulkBytes(value)
    else throw unencodable(value, 'a bulk string (a string, a number or a Uint8Array)')
    return this
  }

  /**
   * Appends `bytes` as they are: parts encoded once and sent often, such as a command's array
   * header and name, or a namespace as a bulk string. The caller vouches that they are RESP.
   */
  raw(bytes: Buffer): this {
    const length = bytes.length
    this.#reserve(length)
    copyInto(this.#buf, this.#end, bytes, 0, length)
    this.#end += length
    return this
  }

  /**
   * Writes RESP3 where it differs from RESP2 (a connection that asked `HELLO 3`): nil as `_`, and
   * maps as `%`. Everything else is the same in both.
   */
  resp3 = false

  /**
   * Appends the header of a map of `n` pairs: `%n\r\n` in RESP3, else `*2n\r\n` (names and values in
   * turn, RESP2's way to send a map).
   */
  mapHeader(n: number): this {
    if (!this.resp3) return this.arrayHeader(2 * n)
    if (!Number.isSafeInteger(n) || n < 0) throw unencodable(n, 'a map size')
    this.#header(PERCENT, n)
    return this
  }

  /** Appends the nil bulk string, `$-1\r\n`: "no value" (`_\r\n` in RESP3). */
  nil(): this {
    if (this.resp3) {
      this.#line(UNDERSCORE, '')
      return this
    }
    this.#reserve(5)
    const buf = this.#buf
    const at = this.#end
    buf[at] = DOLLAR
    buf[at + 1] = MINUS
    buf[at + 2] = ONE
    buf[at + 3] = CR
    buf[at + 4] = LF
    this.#end = at + 5
    return this
  }

  /**
   * The bytes written since the last `take()`, which the caller now owns (an empty Buffer when
   * there are none); the writer goes on after them, unless told by {@link RespWriter.reuse} that
   * they were consumed.
   */
  take(): Buffer {
    if (this.#end === this.#start) return EMPTY
    const out = this.#buf.subarray(this.#start, this.#end)
    this.#start = this.#end
    this.#lastTaken = Math.min(out.length, MAX_SLAB_BYTES)
    // A buffer grown for one big tick is left to that tick rather than kept for small ones.
    if (this.#buf.length > MAX_SLAB_BYTES) {
      this.#buf = EMPTY
      this.#start = 0
      this.#end = 0
    }
    return out
  }

  /**
   * Says that every Buffer taken so far has been consumed and is held by no one (a socket wrote it
   * all to the kernel at once: its `writableLength` is 0 after the `write`), so the next parts are
   * written over them, from the slab's start: memory that is still in the CPU's caches, and no new
   * slab. A taken Buffer's bytes change after this; nothing happens while parts are pending.
   */
  reuse(): void {
    if (this.#start !== this.#end) return
    this.#start = 0
    this.#end = 0
  }

  #bulkString(value: string): void {
    const chars = value.length
    if (chars <= SHORT_STRING) {
      // Most names, keys and short values are ASCII: their byte length is their length.
      this.#reserve(headerBytes(chars) + chars + 2)
      const buf = this.#buf
      let at = writeHeader(buf, this.#end, DOLLAR, chars)
      let i = 0
      for (; i < chars; i++) {
        const c = value.charCodeAt(i)
        if (c > 0x7f) break
        buf[at + i] = c
      }
      if (i === chars) {
        at += chars
        buf[at] = CR
        buf[at + 1] = LF
        this.#end = at + 2
        return
      }
    }
    if (chars <= ONE_PASS_CHARS) {
      // One pass: encoded straight after a header sized as if every character were ASCII, into
      // room for the worst case (3 bytes per UTF-16 unit). The bytes written equal the characters
      // exactly when all are ASCII (any other unit takes 2 bytes or more); otherwise the header is
      // rewritten for the real length, the bytes moved if its width changed. Measuring the length
      // first costs a second pass, and on a sliced string (what `slice` of a longer one makes) a
      // slow one (bench/write-costs.mjs).
      const guess = headerBytes(chars)
      const room = 3 * chars
      this.#reserve(headerBytes(room) + room + 2)
      const buf = this.#buf
      const start = this.#end
      const written = buf.write(value, start + guess, room, 'utf8')
      let at = start + guess
      if (written !== chars) {
        const header = headerBytes(written)
        if (header !== guess) buf.copyWithin(start + header, at, at + written)
        at = start + header
      }
      writeHeader(buf, start, DOLLAR, written)
      at += written
      buf[at] = CR
      buf[at + 1] = LF
      this.#end = at + 2
      return
    }
    const length = Buffer.byteLength(value, 'utf8')
    this.#reserve(headerBytes(length) + length + 2)
    const buf = this.#buf
    const at = writeHeader(buf, this.#end, DOLLAR, length)
    const written = buf.write(value, at, length, length === chars ? 'latin1' : 'utf8')
    // Buffer.write stops silently when the room runs out: a miscount must not cut a value short.
    if (written !== length)
      throw new Error(`burrow bug: a string of ${length} bytes was written as ${written}`)
    buf[at + length] = CR
    buf[at + length + 1] = LF
    this.#end = at + length + 2
  }

  #bulkInteger(n: number): void {
    if (!Number.isSafeInteger(n)) throw unencodable(n, 'a bulk string (a safe integer)')
    const chars = integerChars(n)
    this.#reserve(headerBytes(chars) + chars + 2)
    const at = writeHeader(this.#buf, this.#end, DOLLAR, chars)
    this.#end = writeInteger(this.#buf, at, n)
  }

  #bulkBytes(value: Uint8Array): void {
    const length = value.length
    this.#reserve(headerBytes(length) + length + 2)
    const buf = this.#buf
    const at = writeHeader(buf, this.#end, DOLLAR, length)
    buf.set(value, at)
    buf[at + length] = CR
    buf[at + length + 1] = LF
    this.#end = at + length + 2
  }

  /** `<type><n>\r\n`. */
  #header(type: number, n: number): void {
    this.#reserve(1 + integerChars(n) + 2)
    this.#end = writeInteger(this.#buf, writeType(this.#buf, this.#end, type), n)
  }

  /**
   * Writes `<type>text\r\n` when `text` is short ASCII without CR or LF (a status, `OK`, `PONG`);
   * false, with nothing written, otherwise.
   */
  #shortLine(type: number, text: string): boolean {
    const chars = text.length
    if (chars > SHORT_STRING) return false
    this.#reserve(chars + 3)
    const buf = this.#buf
    const at = this.#end + 1
    for (let i = 0; i < chars; i++) {
      const c = text.charCodeAt(i)
      if (c > 0x7f || c === CR || c === LF) return false
      buf[at + i] = c
    }
    buf[at - 1] = type
    buf[at + chars] = CR
    buf[at + chars + 1] = LF
    this.#end = at + chars + 2
    return true
  }

  /** `<type>text\r\n` for any text without CR or LF. */
  #line(type: number, text: string): void {
    const length = Buffer.byteLength(text, 'utf8')
    this.#reserve(length + 3)
    const buf = this.#buf
    const at = this.#end + 1
    const written = buf.write(text, at, length, 'utf8')
    if (written !== length) throw new Error(`burrow bug: a line of ${length} bytes was written as ${written}`)
    buf[at - 1] = type
    buf[at + length] = CR
    buf[at + length + 1] = LF
    this.#end = at + length + 2
  }

  /** Makes room for `n` more bytes, moving the bytes not yet taken to a new slab if needed. */
  #reserve(n: number): void {
    const end = this.#end
    if (end + n <= this.#buf.length) {
      // The first part of a tick: a slab with less room left than the last tick took is left now
      // for a fresh one, rather than this tick's first parts copied over when it runs out halfway.
      if (end !== this.#start || this.#buf.length - end >= this.#lastTaken) return
    }
    const pending = end - this.#start
    // A tick starting on a new slab gets room for one like the last; one under way, for this part.
    const need = pending === 0 ? Math.max(n, this.#lastTaken) : pending + n
    // Room for twice what is needed now, so the next few parts fit too: a string's part reserves
    // three times its length, and a slab sized for one would be left after every reply.
    while (this.#slabBytes < 2 * need && this.#slabBytes < MAX_SLAB_BYTES) this.#slabBytes *= 2
    // Beyond the largest slab, grow by half of what is pending so a long tick is amortized.
    const next = Buffer.allocUnsafe(need <= this.#slabBytes ? this.#slabBytes : need + (pending >> 1))
    this.#buf.copy(next, 0, this.#start, this.#end)
    this.#buf = next
    this.#start = 0
    this.#end = pending
  }
}

/** 10^i for i in 0..15: a safe integer has at most 16 digits. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i)

/** The characters of `n` (a safe integer) in decimal, its sign included: compared, not divided. */
function integerChars(n: number): number {
  const magnitude = n < 0 ? -n : n
  let digits = 1
  while (digits < 16 && magnitude >= POWERS_OF_TEN[digits]!) digits++
  return n < 0 ? digits + 1 : digits
}

/** The bytes of the header `$<length>\r\n`. */
function headerBytes(length: number): number {
  return 1 + integerChars(length) + 2
}

function writeType(buf: Buffer, at: number, type: number): number {
  buf[at] = type
  return at + 1
}

/** Writes `<type><length>\r\n` at `at`; the position after it. */
function writeHeader(buf: Buffer, at: number, type: number, length: number): number {
  return writeInteger(buf, writeType(buf, at, type), length)
}

/** Writes `[-]digits\r\n` at `at`; the position after it. */
function writeInteger(buf: Buffer, at: number, n: number): number {
  if (n < 0) {
    buf[at++] = MINUS
    n = -n
  }
  const stop = at + integerChars(n)
  let i = stop
  // Below 2^31 in 32-bit integers, where dividing by ten compiles to a multiply.
  for (; n > 0x7fffffff; n = Math.floor(n / 10)) buf[--i] = ZERO + (n % 10)
  let small = n | 0
  do {
    const tenth = (small / 10) | 0
    buf[--i] = ZERO + small - tenth * 10
    small = tenth
  } while (small > 0)
  buf[stop] = CR
  buf[stop + 1] = LF
  return stop + 2
}

function unencodable(value: unknown, as: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `cannot encode ${describe(value)} as ${as}`)
}
