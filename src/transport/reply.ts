/**
 * The peer client's reader of `BURROW.FETCH` replies. A reply has one shape,
 * `*3 :id +status payload`, so this reader parses exactly that, straight from the socket's chunks:
 * no array, no Buffer view and no error object per reply, and a string value is decoded from the
 * chunk in one step. Anything else on the wire is a protocol error. A value split across chunks
 * is collected into a Buffer of its exact size, so a large value costs O(n).
 *
 * @module
 */
import { BurrowError } from '../errors.ts'

/** What a reply says: a string, bytes, not found, or an error (`CODE message`). */
export type ReplyStatus = 's' | 'b' | 'n' | 'e'

/** Receives each complete reply; `value` is the string, the bytes or the error text. */
export type OnReply = (id: number, status: ReplyStatus, value: string | Buffer | undefined) => void

const CR = 13
const LF = 10
/** The longest header or error line accepted. */
const MAX_LINE = 64 * 1024

/** A value arriving over several chunks. */
interface Partial {
  id: number
  status: 's' | 'b'
  data: Buffer
  /** Bytes of the payload and then of its CRLF received so far. */
  filled: number
}

/** Reads replies from one connection. Throws BurrowError on malformed input; then the connection must close. */
export class ReplyReader {
  #rest: Buffer | null = null
  #partial: Partial | null = null
  /** Bytes of a value too large to accept, still to be skipped (payload and CRLF). */
  #skip = 0
  #maxFrameBytes: number

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  feed(chunk: Buffer, onReply: OnReply): void {
    let buf = chunk
    let pos = 0
    if (this.#skip > 0) {
      pos = Math.min(this.#skip, buf.length)
      this.#skip -= pos
      if (this.#skip > 0) return
    }
    if (this.#partial !== null) {
      pos = this.#fill(buf, onReply)
      if (this.#partial !== null) return
    }
    if (this.#rest !== null) {
      buf = Buffer.concat([this.#rest, buf.subarray(pos)])
      pos = 0
      this.#rest = null
    }
    const end = buf.length
    while (pos < end) {
      const next = this.#one(buf, pos, end, onReply)
      if (next === -1) {
        if (end - pos > MAX_LINE * 2) throw protocol('a reply header that does not end')
        this.#rest = Buffer.from(buf.subarray(pos)) // a copy: the chunk is not kept alive
        return
      }
      pos = next
      if (this.#partial !== null || this.#skip > 0) return
    }
  }

  /** Parses one reply at `pos`: the position after it, or -1 when the header is incomplete. */
  #one(buf: Buffer, pos: number, end: number, onReply: OnReply): number {
    if (end - pos < 4) return -1
    if (buf[pos] !== 0x2a || buf[pos + 1] !== 0x33 || buf[pos + 2] !== CR || buf[pos + 3] !== LF) {
      throw protocol('a reply that is not a 3-element array')
    }
    let p = pos + 4
    if (p >= end) return -1
    if (buf[p] !== 0x3a) throw protocol('a reply without an integer id')
    const idEnd = lineEnd(buf, p + 1, end)
    if (idEnd === -1) return -1
    const id = digits(buf, p + 1, idEnd)
    if (id < 0) throw protocol('a reply with a malformed id')
    p = idEnd + 2
    if (end - p < 4) return -1
    if (buf[p] !== 0x2b || buf[p + 2] !== CR || buf[p + 3] !== LF) throw protocol('a reply without a status')
    const status = String.fromCharCode(buf[p + 1]!) as ReplyStatus
    p += 4
    if (p >= end) return -1
    if (status === 'e') {
      if (buf[p] !== 0x2d) throw protocol('an error reply without an error')
      const textEnd = lineEnd(buf, p + 1, end)
      if (textEnd === -1) return -1
      onReply(id, 'e', buf.toString('utf8', p + 1, textEnd))
      return textEnd + 2
    }
    if (buf[p] !== 0x24) throw protocol('a reply without a bulk value')
    const lenEnd = lineEnd(buf, p + 1, end)
    if (lenEnd === -1) return -1
    if (status === 'n') {
      if (lenEnd !== p + 3 || buf[p + 1] !== 0x2d || buf[p + 2] !== 0x31)
        throw protocol('a not-found reply with a value')
      onReply(id, 'n', undefined)
      return lenEnd + 2
    }
    if (status !== 's' && status !== 'b') throw protocol(`a reply with status ${JSON.stringify(status)}`)
    const length = digits(buf, p + 1, lenEnd)
    if (length < 0) throw protocol('a reply with a malformed length')
    const start = lenEnd + 2
    if (length > this.#maxFrameBytes) {
      // Refuse this value alone: its request fails, the connection and the others go on.
      onReply(id, 'e', `BURROW_ERR_FRAME_TOO_LARGE the value is ${length} bytes, over maxFrameBytes`)
      const skipped = Math.min(length + 2, end - start)
      this.#skip = length + 2 - skipped
      return start + skipped
    }
    const stop = start + length
    if (stop + 2 <= end) {
      if (buf[stop] !== CR || buf[stop + 1] !== LF) throw protocol('a value not followed by CRLF')
      if (status === 's') onReply(id, 's', buf.toString('utf8', start, stop))
      else onReply(id, 'b', copy(buf, start, stop))
      return stop + 2
    }
    // The value goes on in later chunks: collect it into memory of its own.
    this.#partial = { id, status, data: Buffer.allocUnsafeSlow(length), filled: 0 }
    return this.#fill(buf.subarray(start), onReply) + start
  }

  /** Copies what `buf` holds of the partial value; returns how many bytes of `buf` it used. */
  #fill(buf: Buffer, onReply: OnReply): number {
    const partial = this.#partial!
    const length = partial.data.length
    let pos = 0
    if (partial.filled < length) {
      const n = Math.min(length - partial.filled, buf.length)
      buf.copy(partial.data, partial.filled, 0, n)
      partial.filled += n
      pos = n
    }
    while (partial.filled >= length && pos < buf.length) {
      if (buf[pos] !== (partial.filled === length ? CR : LF)) throw protocol('a value not followed by CRLF')
      pos++
      if (++partial.filled === length + 2) {
        this.#partial = null
        onReply(
          partial.id,
          partial.status,
          partial.status === 's' ? partial.data.toString('utf8') : partial.data,
        )
        break
      }
    }
    return pos
  }
}

/** The index of the CR of the line starting at `from`, or -1 if it has not arrived. */
function lineEnd(buf: Buffer, from: number, end: number): number {
  const cr = buf.indexOf(CR, from)
  // The same limit whether the line came in one chunk or several.
  if (cr - from > MAX_LINE || (cr === -1 && end - from > MAX_LINE)) throw protocol('a reply line over 64 KiB')
  if (cr === -1 || cr + 1 >= end) return -1
  if (buf[cr + 1] !== LF) throw protocol('a CR not followed by LF')
  return cr
}

/** The decimal number in `buf[from, to)`, or -1 when it is not 1 to 15 digits. */
function digits(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1
  let n = 0
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/** Bytes copied out of the chunk into memory of their own (not a pooled slab). */
function copy(buf: Buffer, start: number, stop: number): Buffer {
  const out = Buffer.allocUnsafeSlow(stop - start)
  buf.copy(out, 0, start, stop)
  return out
}

function protocol(what: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `a peer sent ${what}`)
}
