/**
 * Text out of a Buffer through Node's own methods behind `toString('latin1' | 'utf8', …)`, without
 * its argument checks (a third of the cost of a short read). They are not in Node's typings; on a
 * Node without them, `toString`.
 *
 * @module
 */
import { Buffer } from 'node:buffer'

interface RawBuffer extends Buffer {
  latin1Slice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
}
const RAW = typeof (Buffer.prototype as Partial<RawBuffer>).latin1Slice === 'function'

/** Bytes `start` to `end` of `buffer`, one character per byte (the text of ASCII bytes). */
export function latin1Text(buffer: Buffer, start: number, end: number): string {
  // In range only: out of it, latin1Slice throws where a loop would read undefined.
  if (end - start <= SHORT_LATIN1 && end <= buffer.length) return shortLatin1(buffer, start, end - start)
  return RAW ? (buffer as RawBuffer).latin1Slice(start, end) : buffer.toString('latin1', start, end)
}

/**
 * Up to this many bytes (a key, an id, a namespace), {@link latin1Text} makes its string in JS:
 * `String.fromCharCode` with one argument per byte takes 24–37 ns at 7–16 bytes, the call into C++
 * 71–75 (`node bench/key-costs.mjs text`).
 */
const SHORT_LATIN1 = 16

/** `n` bytes (at most {@link SHORT_LATIN1}) from `s`, one character each. */
function shortLatin1(b: Buffer, s: number, n: number): string {
  switch (n) {
    case 1:
      return String.fromCharCode(b[s]!)
    case 2:
      return String.fromCharCode(b[s]!, b[s + 1]!)
    case 3:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!)
    case 4:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!)
    case 5:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!)
    case 6:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!)
    case 7:
      return String.fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!)
    case 8:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
      )
    case 9:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
      )
    case 10:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
      )
    case 11:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
      )
    case 12:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
      )
    case 13:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
      )
    case 14:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
      )
    case 15:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
        b[s + 14]!,
      )
    case 16:
      return String.fromCharCode(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
        b[s + 14]!,
        b[s + 15]!,
      )
    default:
      return ''
  }
}

/** Bytes `start` to `end` of `buffer` decoded from UTF-8 (invalid bytes as U+FFFD). */
export function utf8Text(buffer: Buffer, start: number, end: number): string {
  return RAW ? (buffer as RawBuffer).utf8Slice(start, end) : buffer.toString('utf8', start, end)
}
