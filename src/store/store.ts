/**
 * A namespace's store: the main cache (values this node owns or loaded itself) and the hot cache
 * (copies of values owned elsewhere) sharing one byte budget. Entries may carry a deadline: past
 * it, an entry is never returned as fresh. A main entry stays for `staleMs` more, so that it can
 * be served stale while one refresh runs; any other expired entry is dropped when it is found.
 *
 * @module
 */
import { byteLength, type StoredValue } from '../codec.ts'
import { type Cached, NEVER, NOT_FOUND } from './cached.ts'
import { Lru, type LruStats, NONE } from './lru.ts'

/**
 * What an entry costs beyond its key's and value's bytes: a fixed allowance for the entry object,
 * its Map slot and the value's header. An entry's size is
 * `UTF-8 bytes of the key + bytes of the value + ENTRY_OVERHEAD_BYTES`; a cached not-found has
 * no value bytes.
 */
export const ENTRY_OVERHEAD_BYTES = 64

/** Sizes and windows of a store, fixed at construction. */
export interface StoreLimits {
  /** The budget shared by main and hot. */
  maxBytes: number
  /** The most the hot part may hold (a share of `maxBytes`). */
  maxHotBytes: number
  /** The largest entry stored; a larger value is returned to its caller but not kept. */
  maxEntryBytes: number
  /** How long past its deadline a main entry is kept to be served stale (0: not at all). */
  staleMs: number
}

/** Which part of the store a value goes to. */
export type StorePart = 'main' | 'hot'

/** The size an entry of `key` and `value` costs against the budget. */
export function entrySize(key: string, value: Cached | undefined): number {
  const bytes = value === NOT_FOUND || value === undefined ? 0 : byteLength(value)
  return Buffer.byteLength(key, 'utf8') + bytes + ENTRY_OVERHEAD_BYTES
}

/** Main and hot caches under one budget; a key lives in at most one of them. */
export class Store {
  readonly main: Lru
  readonly hot: Lru
  readonly limits: StoreLimits
  #now: () => number

  constructor(limits: StoreLimits, now: () => number) {
    this.limits = limits
    this.#now = now
    // Main entries stay for the stale window past their deadline; hot copies never serve stale.
    this.main = new Lru(entrySize, now, limits.staleMs)
    this.hot = new Lru(entrySize, now)
  }

  /** Entries found past their deadline (and past the stale window) and dropped. */
  get expired(): number {
    return this.main.expired + this.hot.expired
  }

  /** Bytes held by both parts. */
  get bytes(): number {
    return this.main.bytes + this.hot.bytes
  }

  /**
   * The fresh value of `key` from either part, refreshed as recently used, or `undefined` — also
   * for a cached not-found ({@link notFound} tells). Any test for a not-found here, even a compare
   * with a constant, cost `peek` 10–15 % (measured); a miss can afford a second lookup.
   */
  get(key: string): StoredValue | undefined {
    const value = this.main.get(key)
    return value !== undefined ? value : this.hot.get(key)
  }

  /** Whether a fresh cached not-found of `key` is held (refreshing its recency). */
  notFound(key: string): boolean {
    return this.#freshNotFound(this.main, key) || this.#freshNotFound(this.hot, key)
  }

  /** The deadline of the entry of `key` in either part (0: none), or `undefined`. */
  deadlineOf(key: string): number | undefined {
    return this.main.deadlineOf(key) ?? this.hot.deadlineOf(key)
  }

  /** The value of a main entry past its deadline but within the stale window, or `undefined`. */
  stale(key: string): Cached | undefined {
    const slot = this.main.find(key)
    if (slot === NONE) return undefined
    const deadline = this.main.deadlineAt(slot)
    if (deadline === NEVER) return undefined
    const now = this.#now()
    if (now < deadline || now >= deadline + this.limits.staleMs) return undefined
    this.main.use(slot)
    return this.main.valueAt(slot) ?? NOT_FOUND
  }

  /** Whether the main part holds `key`, fresh or not. */
  holdsMain(key: string): boolean {
    return this.main.has(key)
  }

  /** Whether an entry of `key` and `value` is small enough for `part` to keep. */
  fits(part: StorePart, key: string, value: Cached): boolean {
    const size = entrySize(key, value)
    const { maxBytes, maxHotBytes, maxEntryBytes } = this.limits
    return size <= maxEntryBytes && size <= maxBytes && (part === 'main' || size <= maxHotBytes)
  }

  /**
   * Stores `value` in `part` until `deadline` (0: no deadline), evicting least recently used
   * entries until the budget holds. Returns false, and stores nothing (dropping any older copy),
   * when the entry is larger than `maxEntryBytes` (or than the hot part's whole share, for hot).
   */
  set(part: StorePart, key: string, value: Cached, deadline = NEVER): boolean {
    if (!this.fits(part, key, value)) {
      this.delete(key)
      return false
    }
    const size = entrySize(key, value)
    const { maxBytes, maxHotBytes } = this.limits
    const target = part === 'main' ? this.main : this.hot
    const other = part === 'main' ? this.hot : this.main
    other.delete(key)
    target.set(key, value === NOT_FOUND ? undefined : value, size, deadline)
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

  /** Removes every entry of both parts (a flush: this node missed purges it cannot name). */
  clear(): void {
    for (const part of [this.main, this.hot]) for (const key of [...part.keys()]) part.delete(key)
  }

  stats(): { main: LruStats; hot: LruStats } {
    return { main: this.main.stats(), hot: this.hot.stats() }
  }

  #freshNotFound(part: Lru, key: string): boolean {
    const slot = part.find(key)
    if (slot === NONE || part.valueAt(slot) !== undefined) return false
    const deadline = part.deadlineAt(slot)
    if (deadline !== NEVER && this.#now() >= deadline) return false
    part.use(slot)
    return true
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
