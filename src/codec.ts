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
 * `value` as the cache keeps it: a string as it is, and bytes as they are when they fill an
 * ArrayBuffer of their own; a view into a larger buffer (a slice of Node's Buffer pool, or of a
 * chunk a driver read) is copied, so that a kept value pins no more memory than it is counted for.
 * A Buffer stays a Buffer.
 */
export function ownBytes(value: StoredValue): StoredValue {
  if (typeof value === 'string' || value.byteLength === value.buffer.byteLength) return value
  const copy = Buffer.isBuffer(value)
    ? Buffer.allocUnsafeSlow(value.byteLength)
    : new Uint8Array(value.byteLength)
  copy.set(value)
  return copy
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
