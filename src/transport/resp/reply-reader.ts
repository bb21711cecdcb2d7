/**
 * The peer client's reader of tagged replies, `*N :id +status payload [fields...]` with N >= 3
 * (docs/protocol.md). A reply lying whole in a chunk is read straight from it: no array, no
 * Buffer view and no error object per reply, and a string value is decoded from the chunk in one
 * step. A reply split across chunks (or unusual in any way) goes through the general
 * {@link RespParser} and is then checked and adapted here, so both paths answer alike.
 *
 * Versioning: fields this reader does not know, after the ones it does, are skipped; a known
 * field that is missing takes its documented default. A value that does not fit in
 * `maxFrameBytes` fails its own reply (`BURROW_ERR_FRAME_TOO_LARGE`); its bytes are skipped and
 * the connection goes on.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { utf8Text } from '../../buffer-text.ts'
import { BurrowError } from '../../errors.ts'
import { DO_NOT_KEEP, NO_EXPIRY } from '../served.ts'
import { copyOf, lineEnd, readDecimal, skipLine } from './bytes.ts'
import { COLON, CR, DOLLAR, LF, MINUS, ONE, PLUS, STAR } from './constants.ts'
import { OversizedBulk, RespError, RespParser, type RespValue } from './reader.ts'

/**
 * What a reply says: `s` a string value, `b` a bytes value, `n` not found, `m` not in the cache
 * (a peek's miss), `k` done, `e` an error (the value is its text, `CODE message`).
 */
export type ReplyStatus = 's' | 'b' | 'n' | 'm' | 'k' | 'e'

/**
 * Receives each complete reply: `value` is the string, the bytes, `undefined` (`n`, `k`) or the
 * error text (`e`); `ttl` is the reply's ttl field, `NO_EXPIRY` (-1) when it has none.
 */
export type OnReply = (
  id: number,
  status: ReplyStatus,
  value: string | Buffer | undefined,
  ttl: number,
) => void

/** The most elements of a reply the fast path reads; longer ones go to the general parser. */
const FAST_MAX_ELEMENTS = 16
/** The status letters, as bytes. */
const S = 0x73
const B = 0x62
const N = 0x6e
const M = 0x6d
const K = 0x6b
const E = 0x65

/**
 * Reads the replies of one connection, in order. Throws BurrowError `BURROW_ERR_PROTOCOL` on
 * anything that is not a valid reply (or `BURROW_ERR_FRAME_TOO_LARGE` on an over-long line);
 * then the connection must close.
 *
 * @example
 * const reader = new ReplyReader(maxFrameBytes, (id, status, value, ttl) => settle(id, status, value, ttl))
 * socket.on('data', (chunk) => reader.feed(chunk))
 */
export class ReplyReader {
  readonly #maxFrameBytes: number
  readonly #onReply: OnReply
  readonly #parser: RespParser

  constructor(maxFrameBytes: number, onReply: OnReply) {
    this.#maxFrameBytes = maxFrameBytes
    this.#onReply = onReply
    this.#parser = new RespParser({ maxFrameBytes, oversized: 'skip' })
  }

  /** Reads the next chunk of the stream, delivering every reply it completes. */
  feed(chunk: Buffer): void {
    const pos = this.#parser.idle ? this.#fast(chunk) : 0
    if (pos < chunk.length) this.#parser.feed(pos === 0 ? chunk : chunk.subarray(pos), this.#onValue)
  }

  /**
   * Reads the whole, well-formed replies at the start of `buf` and returns where it stopped: the
   * end, or the first reply it leaves to the general parser. It never throws: what it does not
   * accept, the general parser reads and, if it is bad, refuses.
   */
  #fast(buf: Buffer): number {
    const end = buf.length
    let pos = 0
    while (pos < end) {
      if (buf[pos] !== STAR) return pos
      const count = readDecimal(buf, pos + 1, end)
      if (count < 3 || count > FAST_MAX_ELEMENTS) return pos
      let p = skipLine(buf, pos + 1)
      if (p >= end || buf[p] !== COLON) return pos
      const id = readDecimal(buf, p + 1, end)
      if (id < 0) return pos
      p = skipLine(buf, p + 1)
      if (p + 4 > end || buf[p] !== PLUS || buf[p + 2] !== CR || buf[p + 3] !== LF) return pos
      const status = buf[p + 1]
      p += 4
      // The payload: its bounds now, decoded only once the whole reply is known to be here.
      let start = p
      let stop = p
      if (status === S || status === B) {
        if (p >= end || buf[p] !== DOLLAR) return pos
        const length = readDecimal(buf, p + 1, end)
        if (length < 0) return pos
        start = skipLine(buf, p + 1)
        stop = start + length
        if (stop + 2 > end || buf[stop] !== CR || buf[stop + 1] !== LF) return pos
        p = stop + 2
      } else if (status === N || status === K || status === M) {
        if (!isNil(buf, p, end)) return pos
        p += 5
      } else if (status === E) {
        if (p >= end || buf[p] !== MINUS) return pos
        start = p + 1
        stop = lineEnd(buf, start, end)
        if (stop === -1) return pos
        p = stop + 2
      } else {
        return pos
      }
      let ttl = count > 3 ? NO_EXPIRY : defaultTtl(status === N)
      for (let i = 3; i < count; i++) {
        if (i === 3) {
          if (p + 4 > end || buf[p] !== COLON) return pos
          if (buf[p + 1] === MINUS) {
            if (buf[p + 2] !== ONE || buf[p + 3] !== CR || buf[p + 4] !== LF) return pos
            p += 5
          } else {
            ttl = readDecimal(buf, p + 1, end)
            if (ttl < 0) return pos
            p = skipLine(buf, p + 1)
          }
        } else {
          p = skipSimple(buf, p, end)
          if (p === -1) return pos
        }
      }
      // What does not fit is left to the general parser, which skips the value or refuses the reply.
      if (p - pos > this.#maxFrameBytes) return pos
      if (status === S) this.#onReply(id, 's', utf8Text(buf, start, stop), ttl)
      else if (status === B) this.#onReply(id, 'b', copyOf(buf, start, stop), ttl)
      else if (status === N) this.#onReply(id, 'n', undefined, ttl)
      else if (status === K) this.#onReply(id, 'k', undefined, ttl)
      else if (status === M) this.#onReply(id, 'm', undefined, ttl)
      else this.#onReply(id, 'e', buf.toString('utf8', start, stop), ttl)
      pos = p
    }
    return pos
  }

  /** Checks and adapts a reply the general parser read. */
  readonly #onValue = (reply: RespValue): void => {
    if (!Array.isArray(reply) || reply.length < 3) throw protocol('a reply that is not an array of 3 or more')
    const id = reply[0]
    if (typeof id !== 'number' || id < 0) throw protocol('a reply without an integer id')
    const status = reply[1]
    const payload = reply[2]
    let ttl = defaultTtl(status === 'n')
    if (reply.length > 3) {
      const field = reply[3]
      if (typeof field !== 'number' || field < -1) throw protocol('a reply with a malformed ttl')
      ttl = field
    }
    switch (status) {
      case 's':
      case 'b':
        if (payload instanceof OversizedBulk) {
          const text = `BURROW_ERR_FRAME_TOO_LARGE the value is ${payload.length} bytes, over maxFrameBytes`
          return this.#onReply(id, 'e', text, ttl)
        }
        if (!Buffer.isBuffer(payload)) throw protocol('a value reply without a bulk value')
        return this.#onReply(id, status, status === 's' ? payload.toString('utf8') : payload, ttl)
      case 'n':
      case 'm':
      case 'k':
        if (payload !== null) throw protocol(`a reply of status ${status} with a value`)
        return this.#onReply(id, status, undefined, ttl)
      case 'e':
        if (!(payload instanceof RespError)) throw protocol('an error reply without an error')
        return this.#onReply(id, 'e', payload.message, ttl)
      default:
        throw protocol(`a reply with status ${JSON.stringify(status)}`)
    }
  }
}

/** Is `$-1\r\n` at `p`? */
function isNil(buf: Buffer, p: number, end: number): boolean {
  return (
    p + 5 <= end &&
    buf[p] === DOLLAR &&
    buf[p + 1] === MINUS &&
    buf[p + 2] === ONE &&
    buf[p + 3] === CR &&
    buf[p + 4] === LF
  )
}

/**
 * The position after the simple element (a line, or a bulk string) at `p`, or -1 when it is
 * another type, incomplete or unusual: then the general parser reads the reply.
 */
function skipSimple(buf: Buffer, p: number, end: number): number {
  if (p >= end) return -1
  const type = buf[p]
  if (type === COLON) {
    const digits = buf[p + 1] === MINUS ? p + 2 : p + 1
    return readDecimal(buf, digits, end) < 0 ? -1 : skipLine(buf, digits)
  }
  if (type === PLUS || type === MINUS) {
    const cr = lineEnd(buf, p + 1, end)
    return cr === -1 ? -1 : cr + 2
  }
  if (type !== DOLLAR) return -1
  if (isNil(buf, p, end)) return p + 5
  const length = readDecimal(buf, p + 1, end)
  if (length < 0) return -1
  const stop = skipLine(buf, p + 1) + length
  return stop + 2 <= end && buf[stop] === CR && buf[stop + 1] === LF ? stop + 2 : -1
}

function protocol(what: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `a peer sent ${what}`)
}

/**
 * The ttl of a reply without the field (a node of 0.1 sent none): a value never expires, as
 * values did then; a not-found is not kept, as none were then.
 */
function defaultTtl(notFound: boolean): number {
  return notFound ? DO_NOT_KEEP : NO_EXPIRY
}
