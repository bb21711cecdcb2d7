/**
 * Byte primitives shared by the RESP readers: the general parser and the fast paths inside the
 * command and reply readers.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { CR, LF, MAX_LINE_BYTES, NINE, ZERO } from './constants.ts'

/** The most digits {@link readDecimal} reads: every 15-digit number is a safe integer. */
const MAX_DIGITS = 15
/** Up to this many bytes, a loop copies faster than the native call it saves. */
const LOOP_COPY_BYTES = 32

/**
 * A copy of `buf[start, end)` in memory of its own, so that a value kept in a cache pins neither
 * the chunk it came in nor a slab of Node's Buffer pool.
 */
export function copyOf(buf: Buffer, start: number, end: number): Buffer {
  const length = end - start
  const out = Buffer.allocUnsafeSlow(length)
  if (length <= LOOP_COPY_BYTES) for (let i = 0; i < length; i++) out[i] = buf[start + i]!
  else buf.copy(out, 0, start, end)
  return out
}

/**
 * The decimal number of 1 to 15 digits at `p` that is followed by CRLF before `end`, or -1 when
 * anything else is there (a sign, another byte, or the end of the chunk). The fast paths read
 * their headers with it and leave whatever it refuses to the general parser.
 */
export function readDecimal(buf: Buffer, p: number, end: number): number {
  let n = 0
  const stop = Math.min(end, p + MAX_DIGITS + 1)
  for (let i = p; i < stop; i++) {
    const c = buf[i]!
    if (c === CR) return i > p && i + 1 < end && buf[i + 1] === LF ? n : -1
    if (c < ZERO || c > NINE) return -1
    n = n * 10 + (c - ZERO)
  }
  return -1
}

/** The position after the CRLF that ends the line at `p`, once {@link readDecimal} accepted it. */
export function skipLine(buf: Buffer, p: number): number {
  while (buf[p] !== CR) p++
  return p + 2
}

/**
 * The index of the CR of the CRLF ending the line that starts at `from`, or -1 when the line is
 * incomplete, holds a bare CR or LF, or is longer than a header line may be.
 */
export function lineEnd(buf: Buffer, from: number, end: number): number {
  const stop = Math.min(end - 1, from + MAX_LINE_BYTES)
  for (let i = from; i < stop; i++) {
    const c = buf[i]
    if (c === CR) return buf[i + 1] === LF ? i : -1
    if (c === LF) return -1
  }
  return -1
}

/** Up to 32 bytes from `start`, quoted, for an error message. */
export function snippet(buf: Buffer, start: number, end: number): string {
  return JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 32)))
}
