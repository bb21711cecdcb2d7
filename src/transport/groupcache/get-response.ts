/**
 * golang/groupcache's `GetResponse`, the body of a `200` on its `/_groupcache/` route: a proto2
 * message of two optional fields, `value` (1, bytes) and `minute_qps` (2, double). Written by
 * hand, not with a protobuf library: two fields do not justify a dependency, and a decoder this
 * small can be tested byte for byte against Go's own encodings
 * (`test/fixtures/groupcache-wire-fixture.json`).
 *
 * The decoder accepts what Go's decoder (golang/protobuf 1.3) accepts: fields in any order,
 * repeats (the last one wins), non-minimal varints, and unknown fields of every wire type, groups
 * included, which it skips (a known field with another wire type counts as unknown). It rejects
 * truncated input, varints past 64 bits, field number 0, wire types 6 and 7, and a group end
 * without its start, with `BURROW_ERR_PROTOCOL`.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { BurrowError } from '../../errors.ts'

/** A decoded `GetResponse`; a field absent from the message is `undefined`. */
export interface GetResponse {
  value: Uint8Array | undefined
  minuteQps: number | undefined
}

/** Protobuf wire types. */
const WIRE = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const
/** Field 1, `value`, length-delimited: `(1 << 3) | 2`. */
const VALUE_TAG = 0x0a
/** Field 2, `minute_qps`, a little-endian double: `(2 << 3) | 1`. */
const MINUTE_QPS_TAG = 0x11
/** A varint carries 7 bits per byte; ten bytes hold 64 bits (the tenth only its lowest bit). */
const MAX_VARINT_BYTES = 10
/** Groups nested deeper than this are refused: skipping them must not exhaust the stack. */
const MAX_GROUP_DEPTH = 64

/**
 * Encodes a `GetResponse`. A `string` value is written as its UTF-8 bytes; an absent one (and an
 * absent `minuteQps`) writes no field, so `{ value: empty }` is `0a 00` and `{}` is empty.
 *
 * @example
 * encodeGetResponse({ value: 'value-of:k0' }) // 0a 0b 76 61 6c 75 65 2d 6f 66 3a 6b 30
 */
export function encodeGetResponse(response: {
  value?: Uint8Array | string | undefined
  minuteQps?: number | undefined
}): Buffer {
  const { value, minuteQps } = response
  const length =
    value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
  const head = value === undefined ? 0 : 1 + varintSize(length)
  const out = Buffer.allocUnsafeSlow(head + length + (minuteQps === undefined ? 0 : 9))
  let at = 0
  if (value !== undefined) {
    out[at++] = VALUE_TAG
    at = writeVarint(out, at, length)
    if (typeof value === 'string') out.write(value, at, 'utf8')
    else out.set(value, at)
    at += length
  }
  if (minuteQps !== undefined) {
    out[at++] = MINUTE_QPS_TAG
    out.writeDoubleLE(minuteQps, at)
  }
  return out
}

/**
 * Decodes a `GetResponse`. The value is a view into `bytes`, not a copy. Throws `BurrowError`
 * `BURROW_ERR_PROTOCOL` for input Go's decoder rejects too.
 *
 * @example
 * decodeGetResponse(Buffer.from('0a0176', 'hex')).value // Uint8Array [0x76]
 */
export function decodeGetResponse(bytes: Uint8Array): GetResponse {
  const reader = new Reader(bytes)
  const response: GetResponse = { value: undefined, minuteQps: undefined }
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === WIRE.bytes) response.value = reader.bytes()
    else if (field === 2 && wire === WIRE.fixed64) response.minuteQps = reader.double()
    else if (wire === WIRE.endGroup) throw malformed('a group end without its start')
    else reader.skip(field, wire, 0)
  }
  return response
}

/** Reads protobuf's wire format from a byte array, refusing to read past its end. */
class Reader {
  readonly #bytes: Uint8Array
  #at = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  get done(): boolean {
    return this.#at >= this.#bytes.length
  }

  /** A field's tag. The wire type is the low 3 bits of the first byte, whatever the varint's length. */
  tag(): { field: number; wire: number } {
    const wire = (this.#bytes[this.#at] as number) & 7
    const field = Math.floor(this.varint() / 8)
    if (field === 0) throw malformed('field number 0')
    if (wire > WIRE.fixed32) throw malformed(`wire type ${wire}`)
    return { field, wire }
  }

  /**
   * A varint of up to 64 bits. Past 2^53 the number is not exact, which only matters for a length
   * (then larger than any input, so refused) or a field number (then not 1 or 2, so skipped).
   */
  varint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.#at >= this.#bytes.length) throw truncated('a varint')
      const byte = this.#bytes[this.#at++] as number
      if (i === MAX_VARINT_BYTES - 1 && byte > 1) throw malformed('a varint longer than 64 bits')
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
    }
    throw malformed('a varint longer than 10 bytes')
  }

  /** A length-delimited field's bytes, as a view. */
  bytes(): Uint8Array {
    const length = this.varint()
    if (length > this.#bytes.length - this.#at) throw truncated('a length-delimited field')
    const start = this.#at
    this.#at += length
    return this.#bytes.subarray(start, this.#at)
  }

  /** A fixed64 field read as a little-endian double. */
  double(): number {
    const start = this.#need(8, 'a fixed64 field')
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + start, 8)
    return view.getFloat64(0, true)
  }

  /** Skips a field of `wire` type; a group is skipped up to the end of the same field number. */
  skip(field: number, wire: number, depth: number): void {
    switch (wire) {
      case WIRE.varint:
        this.varint()
        return
      case WIRE.fixed64:
        this.#need(8, 'a fixed64 field')
        return
      case WIRE.bytes:
        this.bytes()
        return
      case WIRE.fixed32:
        this.#need(4, 'a fixed32 field')
        return
      case WIRE.startGroup: {
        if (depth >= MAX_GROUP_DEPTH) throw malformed(`groups nested over ${MAX_GROUP_DEPTH} deep`)
        for (;;) {
          if (this.done) throw truncated('a group')
          const inner = this.tag()
          if (inner.wire === WIRE.endGroup) {
            if (inner.field !== field) throw malformed(`group ${field} ended by group ${inner.field}`)
            return
          }
          this.skip(inner.field, inner.wire, depth + 1)
        }
      }
      default:
        throw malformed(`wire type ${wire}`)
    }
  }

  /** Moves past `n` bytes; returns where they start. */
  #need(n: number, what: string): number {
    if (this.#bytes.length - this.#at < n) throw truncated(what)
    const start = this.#at
    this.#at += n
    return start
  }
}

/** The number of bytes `n` takes as a varint. */
function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  out[at++] = n
  return at
}

function truncated(what: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `a truncated GetResponse: it ends inside ${what}`)
}

function malformed(what: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `a malformed GetResponse: ${what}`)
}
