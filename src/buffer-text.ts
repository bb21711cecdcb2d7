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
  return RAW ? (buffer as RawBuffer).latin1Slice(start, end) : buffer.toString('latin1', start, end)
}

/** Bytes `start` to `end` of `buffer` decoded from UTF-8 (invalid bytes as U+FFFD). */
export function utf8Text(buffer: Buffer, start: number, end: number): string {
  return RAW ? (buffer as RawBuffer).utf8Slice(start, end) : buffer.toString('utf8', start, end)
}
