/**
 * A byte-counted LRU list: one part (main or hot) of a namespace's store. It does not enforce a
 * budget by itself; {@link Store} decides what to evict so that both parts share one budget.
 *
 * Entries live in slots: a Map from key to slot number, the keys and values in two arrays, and the
 * recency list as two typed arrays of slot numbers. A hit is one Map lookup and a few integer
 * writes, and an entry costs 24 bytes beyond its Map slot — no object per entry. Sizes are not
 * stored: they are recomputed (by `sizeOf`) when an entry leaves.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'

/** Counters of one part of the store, as reported by `stats()`. */
export interface LruStats {
  /** Bytes held: the sum of the entries' sizes. */
  bytes: number
  /** Entries held. */
  items: number
  /** Entries removed to make room. */
  evictions: number
}

/** "No slot": the end of a list. */
const NONE = 0xffffffff

/** A doubly linked recency list over slots: every hit moves its entry to the newest end. */
export class Lru {
  #index = new Map<string, number>()
  #keys: (string | undefined)[] = []
  #values: (StoredValue | undefined)[] = []
  /** For each slot, the next newer and the next older slot; free slots chain through `#older`. */
  #newer = new Uint32Array(16)
  #older = new Uint32Array(16)
  #newest = NONE
  #oldest = NONE
  #free = NONE
  #bytes = 0
  #evictions = 0
  #sizeOf: (key: string, value: StoredValue) => number

  /** `sizeOf` must give the size that `set` was given for the same key and value. */
  constructor(sizeOf: (key: string, value: StoredValue) => number) {
    this.#sizeOf = sizeOf
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes
  }

  /** Entries held. */
  get items(): number {
    return this.#index.size
  }

  /** The value of `key`, refreshed as the most recently used, or `undefined`. */
  get(key: string): StoredValue | undefined {
    const slot = this.#index.get(key)
    if (slot === undefined) return undefined
    if (slot !== this.#newest) this.#touch(slot)
    return this.#values[slot]
  }

  /** The value of `key` without touching its recency. */
  peek(key: string): StoredValue | undefined {
    const slot = this.#index.get(key)
    return slot === undefined ? undefined : this.#values[slot]
  }

  has(key: string): boolean {
    return this.#index.has(key)
  }

  /** Stores `value` (of `size` bytes) as the newest entry; replacing a key frees its old size first. */
  set(key: string, value: StoredValue, size: number): void {
    const old = this.#index.get(key)
    if (old !== undefined) {
      this.#bytes += size - this.#sizeOf(key, this.#values[old]!)
      this.#values[old] = value
      if (old !== this.#newest) this.#touch(old)
      return
    }
    const slot = this.#allocate(key, value)
    this.#older[slot] = this.#newest
    this.#newer[slot] = NONE
    if (this.#newest === NONE) this.#oldest = slot
    else this.#newer[this.#newest] = slot
    this.#newest = slot
    this.#index.set(key, slot)
    this.#bytes += size
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const slot = this.#index.get(key)
    if (slot === undefined) return false
    this.#remove(slot)
    return true
  }

  /** Evicts the least recently used entry; returns false when empty. */
  evictOldest(): boolean {
    if (this.#oldest === NONE) return false
    this.#remove(this.#oldest)
    this.#evictions++
    return true
  }

  /** Removes every entry (not counted as evictions). */
  clear(): void {
    this.#index.clear()
    this.#keys = []
    this.#values = []
    this.#newer = new Uint32Array(16)
    this.#older = new Uint32Array(16)
    this.#newest = NONE
    this.#oldest = NONE
    this.#free = NONE
    this.#bytes = 0
  }

  /** Keys from the most to the least recently used (for tests and tools; O(n)). */
  *keys(): IterableIterator<string> {
    for (let slot = this.#newest; slot !== NONE; slot = this.#older[slot]!) yield this.#keys[slot]!
  }

  /** Sum of the entries' sizes, recomputed from the entries themselves (for consistency checks). */
  recount(): number {
    let total = 0
    for (const [key, slot] of this.#index) total += this.#sizeOf(key, this.#values[slot]!)
    return total
  }

  stats(): LruStats {
    return { bytes: this.#bytes, items: this.#index.size, evictions: this.#evictions }
  }

  /** A free slot holding `key` and `value`; the arrays grow by half when every slot is used. */
  #allocate(key: string, value: StoredValue): number {
    let slot = this.#free
    if (slot !== NONE) {
      this.#free = this.#older[slot]!
      this.#keys[slot] = key
      this.#values[slot] = value
      return slot
    }
    slot = this.#keys.length
    if (slot === NONE) throw new RangeError('an LRU holds at most 2^32 - 1 entries')
    if (slot === this.#newer.length) {
      const capacity = Math.min(NONE, slot + (slot >> 1))
      const newer = new Uint32Array(capacity)
      const older = new Uint32Array(capacity)
      newer.set(this.#newer)
      older.set(this.#older)
      this.#newer = newer
      this.#older = older
    }
    // push keeps the arrays packed (no holes), which keeps element access fast.
    this.#keys.push(key)
    this.#values.push(value)
    return slot
  }

  #touch(slot: number): void {
    // `slot` is not the newest, so it has a newer neighbour.
    const newer = this.#newer[slot]!
    const older = this.#older[slot]!
    this.#older[newer] = older
    if (older === NONE) this.#oldest = newer
    else this.#newer[older] = newer
    this.#older[slot] = this.#newest
    this.#newer[slot] = NONE
    this.#newer[this.#newest] = slot
    this.#newest = slot
  }

  #remove(slot: number): void {
    const newer = this.#newer[slot]!
    const older = this.#older[slot]!
    if (newer === NONE) this.#newest = older
    else this.#older[newer] = older
    if (older === NONE) this.#oldest = newer
    else this.#newer[older] = newer
    const key = this.#keys[slot]!
    this.#bytes -= this.#sizeOf(key, this.#values[slot]!)
    this.#index.delete(key)
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    this.#older[slot] = this.#free
    this.#free = slot
  }
}
