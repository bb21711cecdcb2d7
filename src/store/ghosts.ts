/**
 * Ghosts: the hashes of keys that recently left the store, without the keys. A ghost filter
 * answers "did this key leave lately?" with no false negatives for the last half of its capacity,
 * and a small share of false positives. It is two Bloom filters that set two bits per key: new
 * keys go into the current one, and once it has taken half the capacity, the older one is cleared
 * and becomes the current one, so a key is remembered for between half and all of the last
 * `capacity` keys added. It costs 1.5 bytes per key of capacity (and up to an eighth more).
 *
 * @module
 */

/** Bits per key a generation is sized for: with two bits set per key, about 2.4 % false positives. */
const BITS_PER_KEY = 12
/** A filter that must grow is made this share larger than it needs. */
const GROWTH = 1 / 8
/** Scatter the caller's hash into the two bits' hashes. */
const SCATTER = 0x9e3779b1
const SCATTER_AGAIN = 0x85ebca6b
/** 2^-32: turns a 32-bit hash into a fraction of the filter. */
const TO_FRACTION = 2 ** -32

/** The last few keys added, as two generations of Bloom filters. */
export class GhostFilter {
  #current = new Int32Array(0)
  #older = new Int32Array(0)
  /** Bits per generation. */
  #bits = 0
  /** Keys a generation takes before the older one is cleared. */
  #perGeneration = 0
  #added = 0
  #salt: number

  /** A filter for about the last `capacity` keys; `salt` decorrelates it from other users of the hash. */
  constructor(capacity: number, salt: number) {
    this.#salt = salt | 0
    this.resize(capacity)
  }

  /** Bytes the two generations take. */
  get bytes(): number {
    return this.#current.byteLength + this.#older.byteLength
  }

  /**
   * Remembers about the last `capacity` keys from now on. When they need more bits than the filter
   * has, it is made anew, an eighth larger than they need (so a growing store does not remake it
   * at every entry), and forgets every key.
   */
  resize(capacity: number): void {
    this.#perGeneration = Math.max(32, Math.ceil(capacity / 2))
    const needed = this.#perGeneration * BITS_PER_KEY
    if (needed <= this.#bits) return
    const words = Math.ceil((needed * (1 + GROWTH)) / 32)
    this.#bits = words * 32
    this.#current = new Int32Array(words)
    this.#older = new Int32Array(words)
    this.#added = 0
  }

  /** Remembers the key of hash `hash`. */
  add(hash: number): void {
    if (this.#added >= this.#perGeneration) {
      const cleared = this.#older.fill(0)
      this.#older = this.#current
      this.#current = cleared
      this.#added = 0
    }
    this.#added++
    const h = Math.imul(hash ^ this.#salt, SCATTER)
    const a = this.#bit(h)
    const b = this.#bit(Math.imul(h ^ (h >>> 15), SCATTER_AGAIN))
    const table = this.#current
    table[a >>> 5]! |= 1 << (a & 31)
    table[b >>> 5]! |= 1 << (b & 31)
  }

  /** Whether the key of hash `hash` was among the last keys added (or seems to be: a false positive). */
  has(hash: number): boolean {
    const h = Math.imul(hash ^ this.#salt, SCATTER)
    const a = this.#bit(h)
    const b = this.#bit(Math.imul(h ^ (h >>> 15), SCATTER_AGAIN))
    return holds(this.#current, a, b) || holds(this.#older, a, b)
  }

  /** The bit that a 32-bit hash picks: the hash as a fraction of the filter. */
  #bit(hash: number): number {
    return Math.floor((hash >>> 0) * TO_FRACTION * this.#bits)
  }
}

/** Whether both bits `a` and `b` of `table` are set. */
function holds(table: Int32Array, a: number, b: number): boolean {
  return ((table[a >>> 5]! >>> (a & 31)) & (table[b >>> 5]! >>> (b & 31)) & 1) === 1
}
