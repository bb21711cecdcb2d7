/**
 * The keys and values the scenarios store: fixed-length ASCII keys and deterministic values, so
 * that every implementation holds byte-for-byte the same data and entry sizes are exact.
 *
 * @module
 */

/** Digits in a key's number; 6 covers the 100k-key workloads. */
const KEY_DIGITS = 6

/**
 * The key of number `i`: `k` followed by a zero-padded number, always 7 ASCII bytes.
 *
 * @param {number} i
 * @returns {string}
 */
export function keyOf(i) {
  return `k${String(i).padStart(KEY_DIGITS, '0')}`
}

/** Bytes of every key made by {@link keyOf}. */
export const KEY_BYTES = 1 + KEY_DIGITS

/**
 * The keys of numbers 0..count-1.
 *
 * @param {number} count
 * @returns {string[]}
 */
export function keyList(count) {
  const keys = new Array(count)
  for (let i = 0; i < count; i++) keys[i] = keyOf(i)
  return keys
}

/**
 * A `size`-byte ASCII string derived from `key`: the key repeated, then cut. Deterministic, so an
 * owner, a loader and a Redis prefill all produce the same value without talking to each other.
 *
 * @param {string} key
 * @param {number} size
 * @returns {string}
 */
export function stringValue(key, size) {
  return `${key}:`.repeat(Math.ceil(size / (key.length + 1))).slice(0, size)
}

/**
 * A fresh `size`-byte Buffer (its own ArrayBuffer, not a slice of Node's shared pool), filled
 * with a byte derived from `seed`.
 *
 * @param {number} seed
 * @param {number} size
 * @returns {Buffer}
 */
export function bufferValue(seed, size) {
  return Buffer.alloc(size, seed & 0xff)
}
