/**
 * A namespace's store: the main cache (values this node owns or loaded itself) and the hot cache
 * (copies of values owned elsewhere) sharing one byte budget.
 *
 * @module
 */
import { byteLength, type StoredValue } from '../codec.ts'
import { Lru, type LruStats } from './lru.ts'

/**
 * What an entry costs beyond its key's and value's bytes: a fixed allowance for the entry object,
 * its Map slot and the value's header. An entry's size is
 * `UTF-8 bytes of the key + bytes of the value + ENTRY_OVERHEAD_BYTES`.
 */
export const ENTRY_OVERHEAD_BYTES = 64

/** Sizes of a store, fixed at construction. */
export interface StoreLimits {
  /** The budget shared by main and hot. */
  maxBytes: number
  /** The most the hot part may hold (a share of `maxBytes`). */
  maxHotBytes: number
  /** The largest entry stored; a larger value is returned to its caller but not kept. */
  maxEntryBytes: number
}

/** Which part of the store a value goes to. */
export type StorePart = 'main' | 'hot'

/** The size an entry of `key` and `value` costs against the budget. */
export function entrySize(key: string, value: StoredValue): number {
  return Buffer.byteLength(key, 'utf8') + byteLength(value) + ENTRY_OVERHEAD_BYTES
}

/** Main and hot caches under one budget; a key lives in at most one of them. */
export class Store {
  readonly main = new Lru(entrySize)
  readonly hot = new Lru(entrySize)
  readonly limits: StoreLimits

  constructor(limits: StoreLimits) {
    this.limits = limits
  }

  /** Bytes held by both parts. */
  get bytes(): number {
    return this.main.bytes + this.hot.bytes
  }

  /** The cached value of `key` from either part, refreshing its recency. */
  get(key: string): StoredValue | undefined {
    const value = this.main.get(key)
    return value !== undefined ? value : this.hot.get(key)
  }

  /** The cached value of `key` without touching recency. */
  peek(key: string): StoredValue | undefined {
    const value = this.main.peek(key)
    return value !== undefined ? value : this.hot.peek(key)
  }

  /**
   * Stores `value` in `part`, evicting least recently used entries until the budget holds.
   * Returns false, and stores nothing, when the entry is larger than `maxEntryBytes` (or than the
   * hot part's whole share, for hot).
   */
  set(part: StorePart, key: string, value: StoredValue): boolean {
    const size = entrySize(key, value)
    const { maxBytes, maxHotBytes, maxEntryBytes } = this.limits
    if (size > maxEntryBytes || size > maxBytes || (part === 'hot' && size > maxHotBytes)) {
      this.delete(key)
      return false
    }
    const target = part === 'main' ? this.main : this.hot
    const other = part === 'main' ? this.hot : this.main
    other.delete(key)
    target.set(key, value, size)
    if (part === 'hot') {
      while (this.hot.bytes > maxHotBytes && this.hot.evictOldest()) {}
    }
    while (this.bytes > maxBytes) this.#evictOne(target)
    return true
  }

  /** Removes `key` from both parts; returns whether it was held. */
  delete(key: string): boolean {
    const inMain = this.main.delete(key)
    return this.hot.delete(key) || inMain
  }

  clear(): void {
    this.main.clear()
    this.hot.clear()
  }

  stats(): { main: LruStats; hot: LruStats } {
    return { main: this.main.stats(), hot: this.hot.stats() }
  }

  #evictOne(added: Lru): void {
    // The hot part yields first once it is over its share, or when the main part holds nothing
    // but the entry just added; otherwise the main part does.
    const mainSpare = this.main.items - (added === this.main ? 1 : 0)
    const hotFirst = this.hot.bytes > this.limits.maxHotBytes || mainSpare === 0
    if (hotFirst) this.hot.evictOldest() || this.main.evictOldest()
    else this.main.evictOldest() || this.hot.evictOldest()
  }
}
