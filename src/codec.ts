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
 * `value` as the cache keeps it, pinning no more memory than it is counted for: bytes as they are
 * when they fill an ArrayBuffer of their own, else copied (a slice of Node's Buffer pool, or of a
 * chunk a driver read); a string of 13 characters or more copied into a string of its own, since
 * it may be a view into a longer one (what `slice`, `substring`, `trim` or a regular expression's
 * match make, which V8 keeps pointing at the whole parent). A copy is also flat, so serving it later
 * reads its characters where it lives rather than through its parent (BENCHMARKS.md, "Values that
 * are slices"). A Buffer stays a Buffer.
 */
export function ownValue(value: StoredValue): StoredValue {
  if (typeof value === 'string') return value.length < MIN_VIEW_CHARS ? value : copyOfString(value)
  if (value.byteLength === value.buffer.byteLength) return value
  const copy = Buffer.isBuffer(value)
    ? Buffer.allocUnsafeSlow(value.byteLength)
    : new Uint8Array(value.byteLength)
  copy.set(value)
  return copy
}

/** V8 copies substrings shorter than this (`SlicedString::kMinLength`): they are never views. */
const MIN_VIEW_CHARS = 13
/** The scratch room kept between copies; a longer string's copy goes through a buffer of its own. */
const SCRATCH_BYTES = 64 * 1024
let scratch: Buffer | undefined

/**
 * A string of its own with `value`'s characters: its UTF-16 units written out and read back, which
 * is exact for any string (lone surrogates included), and gives a one-byte string when every unit
 * fits one.
 */
function copyOfString(value: string): string {
  const bytes = 2 * value.length
  let buf: Buffer
  if (bytes <= SCRATCH_BYTES) {
    scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)
    buf = scratch
  } else {
    buf = Buffer.allocUnsafeSlow(bytes)
  }
  const written = buf.write(value, 0, bytes, 'utf16le')
  return buf.toString('utf16le', 0, written)
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
