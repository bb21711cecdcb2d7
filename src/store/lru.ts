/**
 * A byte-counted LRU list: one part (main or hot) of a namespace's store. It does not enforce a
 * budget by itself; {@link Store} decides what to evict so that both parts share one budget.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'

/** One cached value. `size` is what it costs against the budget (see `ENTRY_OVERHEAD_BYTES`). */
interface Entry {
  key: string
  value: StoredValue
  size: number
  newer: Entry | undefined
  older: Entry | undefined
}

/** Counters of one part of the store, as reported by `stats()`. */
export interface LruStats {
  /** Bytes held: the sum of the entries' sizes. */
  bytes: number
  /** Entries held. */
  items: number
  /** Entries removed to make room. */
  evictions: number
}

/** A doubly linked recency list over a Map: every hit moves its entry to the newest end. */
export class Lru {
  #entries = new Map<string, Entry>()
  #newest: Entry | undefined
  #oldest: Entry | undefined
  #bytes = 0
  #evictions = 0

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes
  }

  /** Entries held. */
  get items(): number {
    return this.#entries.size
  }

  /** The value of `key`, refreshed as the most recently used, or `undefined`. */
  get(key: string): StoredValue | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry !== this.#newest) this.#touch(entry)
    return entry.value
  }

  /** The value of `key` without touching its recency. */
  peek(key: string): StoredValue | undefined {
    return this.#entries.get(key)?.value
  }

  has(key: string): boolean {
    return this.#entries.has(key)
  }

  /** Stores `value` as the newest entry; replacing a key frees its old size first. */
  set(key: string, value: StoredValue, size: number): void {
    const old = this.#entries.get(key)
    if (old !== undefined) {
      this.#bytes += size - old.size
      old.value = value
      old.size = size
      if (old !== this.#newest) this.#touch(old)
      return
    }
    const entry: Entry = { key, value, size, newer: undefined, older: this.#newest }
    if (this.#newest === undefined) this.#oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
    this.#entries.set(key, entry)
    this.#bytes += size
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const entry = this.#entries.get(key)
    if (entry === undefined) return false
    this.#unlink(entry)
    return true
  }

  /** Evicts the least recently used entry; returns false when empty. */
  evictOldest(): boolean {
    const entry = this.#oldest
    if (entry === undefined) return false
    this.#unlink(entry)
    this.#evictions++
    return true
  }

  /** Removes every entry (not counted as evictions). */
  clear(): void {
    this.#entries.clear()
    this.#newest = undefined
    this.#oldest = undefined
    this.#bytes = 0
  }

  /** Keys from the most to the least recently used (for tests and tools; O(n)). */
  *keys(): IterableIterator<string> {
    for (let e = this.#newest; e !== undefined; e = e.older) yield e.key
  }

  /** Sum of the entries' sizes, recomputed by walking them (for consistency checks). */
  recount(): number {
    let total = 0
    for (const entry of this.#entries.values()) total += entry.size
    return total
  }

  stats(): LruStats {
    return { bytes: this.#bytes, items: this.#entries.size, evictions: this.#evictions }
  }

  #touch(entry: Entry): void {
    // Unlink from the middle (or the oldest end), then relink as newest.
    const { newer, older } = entry
    if (newer !== undefined) newer.older = older
    if (older !== undefined) older.newer = newer
    else this.#oldest = newer
    entry.older = this.#newest
    entry.newer = undefined
    this.#newest!.newer = entry
    this.#newest = entry
  }

  #unlink(entry: Entry): void {
    const { newer, older } = entry
    if (newer !== undefined) newer.older = older
    else this.#newest = older
    if (older !== undefined) older.newer = newer
    else this.#oldest = newer
    this.#entries.delete(entry.key)
    this.#bytes -= entry.size
  }
}
