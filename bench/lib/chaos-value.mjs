/**
 * The value the chaos bench's loader returns for a key: the key itself and a digest of it, so a
 * value that belongs to another key, or that the loader never made, cannot pass for the right one.
 *
 * @module
 */
import { createHash } from 'node:crypto'

/**
 * `v:<key>:<first 16 hex digits of the key's SHA-256>`.
 *
 * @param {string} key
 * @returns {string}
 */
export function chaosValue(key) {
  return `v:${key}:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`
}
