/**
 * Byte primitives shared by the RESP readers: the general parser and the fast paths inside the
 * command and reply readers.
 *
 * @module
 */
import { Buffer, isUtf8 } from 'node:buffer'
import { latin1Text } from '../../buffer-text.ts'
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
  const out = Buffer.allocUnsafeSlow(end - start)
  copyInto(out, 0, buf, start, end)
  return out
}

/** Copies `buf[start, end)` into `target` at `at`. */
export function copyInto(target: Buffer, at: number, buf: Buffer, start: number, end: number): void {
  const length = end - start
  if (length <= LOOP_COPY_BYTES) for (let i = 0; i < length; i++) target[at + i] = buf[start + i]!
  else buf.copy(target, at, start, end)
}

/**
 * `buf[start, end)` decoded from UTF-8, as the text arguments of a command are. Bytes that are not
 * UTF-8 are never replaced by U+FFFD, which would make different keys one: each becomes a lone
 * surrogate instead ({@link escapeInvalid}), so different bytes stay different text, and text
 * that is not well-formed (`isWellFormed()`) is what a key check refuses.
 */
export function textOf(buf: Buffer, start: number, end: number): string {
  // ASCII, as almost every name, id, namespace and key is, needs no other check.
  let i = start
  while (i < end && buf[i]! < 0x80) i++
  if (i === end) return latin1Text(buf, start, end)
  const text = buf.toString('utf8', start, end)
  // The decoder put a U+FFFD in place of every byte that is not UTF-8, and one may also be sent as such.
  if (text.indexOf(REPLACEMENT, i - start) === -1 || isUtf8(buf.subarray(start, end))) return text
  return escapeInvalid(buf, start, end)
}

const REPLACEMENT = '\uFFFD'
/** Where the lone surrogates standing for bytes that are not UTF-8 start: byte 0x80 is U+DC80. */
const ESCAPE_BASE = 0xdc00

/**
 * The text of bytes that are not all UTF-8: the well-formed sequences decoded, and every other
 * byte (always 0x80 or more) as the lone surrogate U+DC00 + byte, as Python's `surrogateescape`
 * does. No UTF-8 decodes to a lone surrogate, so the mapping is one to one.
 */
function escapeInvalid(buf: Buffer, start: number, end: number): string {
  let text = ''
  let run = start
  let i = start
  while (i < end) {
    const n = sequenceLength(buf, i, end)
    if (n > 0) {
      i += n
      continue
    }
    text += buf.toString('utf8', run, i) + String.fromCharCode(ESCAPE_BASE + buf[i]!)
    run = ++i
  }
  return text + buf.toString('utf8', run, end)
}

/**
 * The length (1 to 4) of the well-formed UTF-8 sequence at `i`, or 0 when there is none there:
 * the byte ranges of the Unicode Standard's table of well-formed sequences, which leave out
 * overlong forms, surrogates and code points past U+10FFFF.
 */
function sequenceLength(buf: Buffer, i: number, end: number): number {
  const lead = buf[i]!
  if (lead < 0x80) return 1
  let n: number
  let low = 0x80
  let high = 0xbf
  if (lead >= 0xc2 && lead <= 0xdf) n = 2
  else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3
    if (lead === 0xe0) low = 0xa0
    else if (lead === 0xed) high = 0x9f
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4
    if (lead === 0xf0) low = 0x90
    else if (lead === 0xf4) high = 0x8f
  } else return 0
  if (i + n > end) return 0
  const second = buf[i + 1]!
  if (second < low || second > high) return 0
  for (let k = 2; k < n; k++) {
    const next = buf[i + k]!
    if (next < 0x80 || next > 0xbf) return 0
  }
  return n
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
