/**
 * A byte-counted LRU list: one part (main or hot) of a namespace's store. It does not enforce a
 * budget by itself; {@link Store} decides what to evict so that both parts share one budget.
 *
 * Entries live in slots: a Map from key to slot number, the keys and values in two arrays, and the
 * recency list as two typed arrays of slot numbers. A hit is one Map lookup and a few integer
 * writes, and an entry costs 24 bytes beyond its Map slot — no object per entry. Sizes are not
 * stored: they are recomputed (by `sizeOf`) when an entry leaves. Deadlines (absolute clock times
 * after which an entry is expired) live in a third typed array that exists only once an entry
 * with a deadline has been stored, so a cache without TTLs pays nothing for them.
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

/** "No slot": the end of a list, and what {@link Lru.find} returns for a missing key. */
export const NONE = 0xffffffff

/** A doubly linked recency list over slots: every hit moves its entry to the newest end. */
export class Lru {
  #index = new Map<string, number>()
  #keys: (string | undefined)[] = []
  /** Each slot's value; `undefined` in a slot that is in the index is a cached not-found. */
  #values: (StoredValue | undefined)[] = []
  /** For each slot, the next newer and the next older slot; free slots chain through `#older`. */
  #newer = new Uint32Array(16)
  #older = new Uint32Array(16)
  /** Each slot's deadline (0: none); allocated with the first deadline. */
  #deadlines: Float64Array | undefined
  #newest = NONE
  #oldest = NONE
  #free = NONE
  #bytes = 0
  #evictions = 0
  #expired = 0
  #sizeOf: (key: string, value: StoredValue | undefined) => number
  #now: () => number
  #graceMs: number
  /** Told the key of each entry evicted to make room (for diagnostics); set by the namespace. */
  onEvict: ((key: string) => void) | undefined = undefined

  /**
   * `sizeOf` must give the size that `set` was given for the same key and value; `now` is the
   * clock that deadlines are checked against; an entry past its deadline stays `graceMs` more
   * (to be served stale, see {@link stale}) before `get` drops it.
   */
  constructor(
    sizeOf: (key: string, value: StoredValue | undefined) => number,
    now: () => number = Date.now,
    graceMs = 0,
  ) {
    this.#sizeOf = sizeOf
    this.#now = now
    this.#graceMs = graceMs
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes
  }

  /** Entries held. */
  get items(): number {
    return this.#index.size
  }

  /**
   * The value of `key` while it is fresh, refreshed as the most recently used, or `undefined`
   * (also for a cached not-found, which {@link find} tells apart: the hit path tests nothing more).
   * An entry past its deadline is dropped, unless it is within its grace period. The clock is
   * read only for entries that have a deadline. This is the hit path: one Map lookup and a few
   * writes; the rare paths stay out of line so that it inlines whole.
   */
  get(key: string): StoredValue | undefined {
    const slot = this.#index.get(key)
    if (slot === undefined) return undefined
    if (this.#deadlines !== undefined && this.#deadlines[slot] !== 0 && this.#passed(slot)) return undefined
    if (slot !== this.#newest) this.#touch(slot)
    return this.#values[slot]
  }

  /** Whether the entry in `slot` is past its deadline; drops it once its grace period is over too. */
  #passed(slot: number): boolean {
    const deadline = this.#deadlines![slot]!
    const now = this.#now()
    if (now < deadline) return false
    if (now >= deadline + this.#graceMs) {
      this.#remove(slot)
      this.#expired++
    }
    return true
  }

  /** The deadline of `key` (0: none), or `undefined` when it is not here. */
  deadlineOf(key: string): number | undefined {
    const slot = this.#index.get(key)
    if (slot === undefined) return undefined
    return this.#deadlines === undefined ? 0 : this.#deadlines[slot]!
  }

  /** The slot of `key`, or {@link NONE}. Does not touch recency. */
  find(key: string): number {
    const slot = this.#index.get(key)
    return slot === undefined ? NONE : slot
  }

  /** The value in `slot` (a slot that {@link find} returned). */
  valueAt(slot: number): StoredValue | undefined {
    return this.#values[slot]!
  }

  /** The deadline of the entry in `slot`; 0 when it has none. */
  deadlineAt(slot: number): number {
    return this.#deadlines === undefined ? 0 : this.#deadlines[slot]!
  }

  /** Marks the entry in `slot` as the most recently used. */
  use(slot: number): void {
    if (slot !== this.#newest) this.#touch(slot)
  }

  has(key: string): boolean {
    return this.#index.has(key)
  }

  /**
   * Stores `value` (of `size` bytes) as the newest entry, expiring at `deadline` (0: never);
   * replacing a key frees its old size first.
   */
  set(key: string, value: StoredValue | undefined, size: number, deadline = 0): void {
    const old = this.#index.get(key)
    if (old !== undefined) {
      this.#bytes += size - this.#sizeOf(key, this.#values[old])
      this.#values[old] = value
      this.#setDeadline(old, deadline)
      if (old !== this.#newest) this.#touch(old)
      return
    }
    const slot = this.#allocate(key, value)
    this.#setDeadline(slot, deadline)
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
    const key = this.#keys[this.#oldest]!
    this.#remove(this.#oldest)
    this.#evictions++
    this.onEvict?.(key)
    return true
  }

  /** Keys from the most to the least recently used (for tests and tools; O(n)). */
  *keys(): IterableIterator<string> {
    for (let slot = this.#newest; slot !== NONE; slot = this.#older[slot]!) yield this.#keys[slot]!
  }

  /** Sum of the entries' sizes, recomputed from the entries themselves (for consistency checks). */
  recount(): number {
    let total = 0
    for (const [key, slot] of this.#index) total += this.#sizeOf(key, this.#values[slot])
    return total
  }

  stats(): LruStats {
    return { bytes: this.#bytes, items: this.#index.size, evictions: this.#evictions }
  }

  /** Entries dropped by `get` because they had expired. */
  get expired(): number {
    return this.#expired
  }

  #setDeadline(slot: number, deadline: number): void {
    if (this.#deadlines === undefined) {
      if (deadline === 0) return
      this.#deadlines = new Float64Array(this.#newer.length)
    }
    this.#deadlines[slot] = deadline
  }

  /** A free slot holding `key` and `value`; the arrays grow by half when every slot is used. */
  #allocate(key: string, value: StoredValue | undefined): number {
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
      if (this.#deadlines !== undefined) {
        const deadlines = new Float64Array(capacity)
        deadlines.set(this.#deadlines)
        this.#deadlines = deadlines
      }
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
    this.#bytes -= this.#sizeOf(key, this.#values[slot])
    this.#index.delete(key)
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    this.#older[slot] = this.#free
    this.#free = slot
  }
}
