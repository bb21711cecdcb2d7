/**
 * How often each key was asked for, lately: a count-min sketch of 4-bit counters (depth 4) that
 * W-TinyLFU consults to decide whether a new entry deserves the room an old one holds. Counters
 * saturate at 15. Its owner halves them all every `sampleSize` asks ({@link halve}), so old
 * popularity fades and the sketch follows what is asked for now: the store counts asks of the
 * keys it holds itself (a hit must stay cheap) and adds them here when an entry leaves.
 *
 * Keys are hashed by the caller ({@link hashKey}); the sketch mixes that hash again with a seed
 * of its own before indexing, so the four rows are independent and an attacker cannot pick keys
 * whose counters collide without knowing the seed.
 *
 * @module
 */

/** Counters per 32-bit word. */
const PER_WORD = 8
/** Counters per entry the sketch is sized for, shared by its four rows. */
const COUNTERS_PER_ENTRY = 14
/** The table grows by this share past the entries it holds counters for (not to a power of two). */
const GROWTH = 1 / 8
/** 2^-32: turns a 32-bit hash into a fraction of the table. */
const TO_FRACTION = 2 ** -32
/** Asks per entry held in a sample: how long the sketch remembers before it halves its counts. */
const SAMPLE_PER_ENTRY = 80
/** The largest count a counter holds. */
const MAX_COUNT = 15
/** Each counter's low bit, in every nibble of a word: what halving drops. */
const HIGH_BITS_MASK = 0x77777777

/** A seeded 32-bit hash of a key's UTF-16 code units (FNV-1a, then a murmur3 finaliser). */
export function hashKey(key: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return mix(h)
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** A count-min sketch of 4-bit counters, 4 rows, sized for a number of entries. */
export class FrequencySketch {
  #table: Uint32Array
  /** Counters in the table. */
  #counters = 0
  #seed: number
  /** The entries the sketch was last sized for (its sample is 80 asks per entry). */
  #capacity = 0
  /** The entries the table holds counters for: at least `#capacity`. */
  #tableEntries = 0

  /** A sketch for about `capacity` distinct entries; `seed` salts the row hashes. */
  constructor(capacity: number, seed: number) {
    this.#seed = seed | 0
    this.#table = new Uint32Array(0)
    this.resize(capacity)
  }

  /** The number of entries the sketch is sized for: resize it when more are held. */
  get capacity(): number {
    return this.#capacity
  }

  /** Bytes the counters take. */
  get bytes(): number {
    return this.#table.byteLength
  }

  /** How many asks make a sample: the owner halves the counters after each (80 per entry held). */
  get sampleSize(): number {
    return SAMPLE_PER_ENTRY * this.#capacity
  }

  /**
   * Sizes the sketch for `capacity` entries: when they outgrow the table, it is made anew, an
   * eighth larger than they are (14 counters, 7 bytes, per entry), forgetting every count; the
   * sample follows `capacity` exactly.
   */
  resize(capacity: number): void {
    this.#capacity = Math.max(64, capacity)
    if (this.#capacity <= this.#tableEntries) return
    const entries = Math.ceil(this.#capacity * (1 + GROWTH))
    const words = Math.ceil((entries * COUNTERS_PER_ENTRY) / PER_WORD)
    this.#tableEntries = entries
    this.#table = new Uint32Array(words)
    this.#counters = words * PER_WORD
  }

  /** The estimated count of the key with hash `hash` (0 to 15). */
  frequency(hash: number): number {
    const h1 = mix(hash ^ this.#seed)
    const h2 = mix(h1 + 0x9e3779b9) | 1
    let min = MAX_COUNT
    for (let row = 0; row < 4; row++) {
      const count = this.#counter(this.#index(h1 + Math.imul(row, h2)))
      if (count < min) min = count
    }
    return min
  }

  /**
   * Counts `times` more asks of the key with hash `hash`. Only the counters at the key's current
   * estimate rise (a conservative update), which keeps keys that share a counter from inflating
   * each other.
   */
  add(hash: number, times = 1): void {
    const min = this.frequency(hash)
    const target = Math.min(MAX_COUNT, min + times)
    if (target !== min) {
      const h1 = mix(hash ^ this.#seed)
      const h2 = mix(h1 + 0x9e3779b9) | 1
      for (let row = 0; row < 4; row++) {
        const index = this.#index(h1 + Math.imul(row, h2))
        if (this.#counter(index) < target) this.#set(index, target)
      }
    }
  }

  /** Halves every counter: what was asked for a sample ago counts half as much. */
  halve(): void {
    const table = this.#table
    for (let i = 0; i < table.length; i++) table[i] = (table[i]! >>> 1) & HIGH_BITS_MASK
  }

  /** The counter that a 32-bit hash picks: the hash as a fraction of the table (no power of two needed). */
  #index(hash: number): number {
    return Math.floor((hash >>> 0) * TO_FRACTION * this.#counters)
  }

  #counter(index: number): number {
    return (this.#table[index >>> 3]! >>> ((index & 7) << 2)) & MAX_COUNT
  }

  #set(index: number, count: number): void {
    const word = index >>> 3
    const shift = (index & 7) << 2
    this.#table[word] = ((this.#table[word]! & ~(MAX_COUNT << shift)) | (count << shift)) >>> 0
  }
}
