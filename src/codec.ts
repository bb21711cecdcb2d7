/**
 * Value kinds and codecs. The cache stores a value as a `string` or as bytes (`Uint8Array`) and
 * gives back the same kind on every node. Anything else goes through a codec chosen per namespace.
 *
 * @module
 */
import { BurrowError, describe } from './errors.ts'

/** What the cache holds: a string stays a string, bytes stay bytes. */
export type StoredValue = string | Uint8Array

/** The two kinds a stored value can have; they travel with the value over the wire. */
export type ValueKind = 'string' | 'bytes'

/**
 * Turns values of type `V` into a stored value and back. `decode` runs on every `get`, so every
 * caller receives its own object.
 *
 * @example
 * const dates: Codec<Date> = {
 *   encode: (d) => d.toISOString(),
 *   decode: (s) => new Date(typeof s === 'string' ? s : new TextDecoder().decode(s)),
 * }
 */
export interface Codec<V> {
  /** Turns a loaded value into a string or bytes to store. */
  encode(value: V): StoredValue
  /** Turns a stored string or bytes back into a value. */
  decode(data: StoredValue): V
}

const utf8 = new TextDecoder()

/** JSON: values are stored as their JSON text and parsed again on every `get`. */
export const jsonCodec: Codec<unknown> = {
  encode: (value) => {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`JSON cannot represent ${describe(value)}`)
    return text
  },
  decode: (data) => JSON.parse(typeof data === 'string' ? data : utf8.decode(data)),
}

/** The UTF-8 byte length of a stored value, as it is counted against `maxBytes`. */
export function byteLength(value: StoredValue): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength
}

/** Checks that a loader returned a storable value; other types are a coded error. */
export function checkStored(value: unknown, namespace: string, key: string): StoredValue {
  if (typeof value === 'string' || value instanceof Uint8Array) return value
  throw new BurrowError(
    'BURROW_ERR_BAD_VALUE',
    `the loader of namespace ${namespace} returned ${describe(value)} for key ${JSON.stringify(key.slice(0, 64))}; ` +
      'return a string, a Uint8Array or undefined, or give the namespace a codec',
    { namespace, key },
  )
}

/**
 * Bytes as the cache keeps them: as they are when they fill an ArrayBuffer of their own, else
 * copied (a slice of Node's Buffer pool, or of a chunk a driver read), so that a kept value pins no
 * more memory than it is counted for. A Buffer stays a Buffer; a string is returned as it is.
 */
export function ownBytes(value: StoredValue): StoredValue {
  if (typeof value === 'string' || value.byteLength === value.buffer.byteLength) return value
  const copy = Buffer.isBuffer(value)
    ? Buffer.allocUnsafeSlow(value.byteLength)
    : new Uint8Array(value.byteLength)
  copy.set(value)
  return copy
}

/**
 * {@link ownBytes}, and a string of 13 characters or more copied into a string of its own, for a
 * value kept on the JS heap: it may be a view into a longer string (what `slice`, `substring`,
 * `trim` or a regular expression's match make, which V8 keeps pointing at the whole parent). A
 * copy is also flat, so serving it later reads its characters where they are rather than through
 * its parent (BENCHMARKS.md, "Values that are slices").
 */
export function ownValue(value: StoredValue): StoredValue {
  if (typeof value !== 'string') return ownBytes(value)
  return value.length < MIN_VIEW_CHARS ? value : copyOfString(value)
}

/** V8 copies substrings shorter than this (`SlicedString::kMinLength`): they are never views. */
const MIN_VIEW_CHARS = 13
/** The scratch room kept between copies; a longer string's copy goes through a buffer of its own. */
const SCRATCH_BYTES = 64 * 1024
let scratch: Buffer | undefined
/** A character past Latin-1. */
const WIDE = /[\u0100-\uffff]/

/**
 * A string of its own with `value`'s characters, written out and read back: as Latin-1 when every
 * character is Latin-1 (one byte each, and a one-byte string back at any length), else as UTF-16
 * (exact for any string, lone surrogates included; Node gives a one-byte string back when every
 * unit fits one, up to ~1 M characters, and a two-byte one past that).
 */
function copyOfString(value: string): string {
  const encoding =
    Buffer.byteLength(value, 'utf8') === value.length || !WIDE.test(value) ? 'latin1' : 'utf16le'
  const bytes = encoding === 'latin1' ? value.length : 2 * value.length
  let buf: Buffer
  if (bytes <= SCRATCH_BYTES) {
    scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)
    buf = scratch
  } else {
    buf = Buffer.allocUnsafeSlow(bytes)
  }
  const written = buf.write(value, 0, bytes, encoding)
  return buf.toString(encoding, 0, written)
}

/** Runs a codec step, turning its failure into a coded error. */
export function runCodec<T>(step: () => T, what: 'encode' | 'decode', namespace: string, key: string): T {
  try {
    return step()
  } catch (err) {
    throw new BurrowError(
      'BURROW_ERR_CODEC',
      `the codec of namespace ${namespace} failed to ${what} key ${JSON.stringify(key.slice(0, 64))}`,
      {
        cause: err,
        namespace,
        key,
      },
    )
  }
}
