/**
 * A namespace's store: the main cache (values this node owns or loaded itself) and the hot cache
 * (copies of values owned elsewhere) sharing one byte budget, and the policy that decides what
 * stays when the budget is full.
 *
 * - **W-TinyLFU** (`'tinylfu'`, the default): a new main entry enters a small *window* (an LRU);
 *   when it leaves the window it must win a place in the rest of main, where keys asked for again
 *   are *protected* and the others are on *probation*. It wins when it has been asked for more
 *   often, lately, than every entry that would be evicted to make room for it taken together (so a
 *   large cold value cannot push out many small hot ones); if it loses, it is the one evicted. A
 *   frequency sketch remembers asks of keys that are not held, over about 80 asks per entry held.
 *   The window's size follows the misses of keys that recently left: keys rejected after the window
 *   coming back grow it, keys evicted from main coming back shrink it ({@link WindowController}).
 *   A value fetched from its owner becomes a hot copy by the same rule.
 * - **LRU** (`'lru'`): every entry is admitted, and the least recently used leaves first.
 *
 * Entries may carry a deadline: past it, an entry is never returned as fresh. A main entry stays
 * for `staleMs` more, so that it can be served stale while one refresh runs. When room is needed,
 * entries past that (dead entries) leave before any live one.
 *
 * @module
 */
import { byteLength, type StoredValue } from '../codec.ts'
import { ArenaSlots } from './arena-slots.ts'
import { type Cached, NEVER, NOT_FOUND } from './cached.ts'
import { ExpiryQueue } from './expiry.ts'
import { FrequencySketch } from './sketch.ts'
import {
  HeapSlots,
  HOT,
  NONE,
  PROBATION,
  PROTECTED,
  type Segment,
  type Slots,
  type StorageStats,
  type StoreStorage,
  WINDOW,
} from './slots.ts'

export type { StorageStats, StoreStorage } from './slots.ts'

import { WindowController } from './window.ts'

/**
 * What an entry costs beyond its key's and value's bytes: a fixed allowance for its index entry,
 * its array elements, its links and the value's header. An entry's size is
 * `UTF-8 bytes of the key + bytes of the value + ENTRY_OVERHEAD_BYTES`; a cached not-found has
 * no value bytes.
 */
export const ENTRY_OVERHEAD_BYTES = 64

/** Which entries a full store keeps: see the module's description. */
export type StorePolicy = 'tinylfu' | 'lru'

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

/** Counters of one part of the store (main or hot), as reported by `stats()`. */
export interface PartStats {
  /** Bytes held: the sum of the entries' sizes. */
  bytes: number
  /** Entries held. */
  items: number
  /** Entries removed to make room (under W-TinyLFU, also new entries that lost their place). */
  evictions: number
}

/** What the W-TinyLFU policy is doing, as reported by `stats()`. */
export interface AdmissionStats {
  policy: StorePolicy
  /** Bytes in the window, on probation and protected (the main cache's three segments). */
  windowBytes: number
  probationBytes: number
  protectedBytes: number
  /** The window's current share of `maxBytes` (steered by the misses of keys that left; 0 under LRU). */
  windowShare: number
  /** New entries (main, after the window) and hot copies refused for being asked for too rarely. */
  rejections: number
  /**
   * Misses the policy learned from: gets of keys with no entry here that this node may keep (its
   * own, and any key when it keeps hot copies), and `ns.peek`'s misses. 0 under LRU.
   */
  misses: number
  /** Bytes of the frequency sketch and the window's ghost filters, outside `maxBytes` (0 under LRU). */
  sketchBytes: number
}

/** A key asked for often lately, as {@link Store.hottest} reports it. */
export interface HotKey {
  key: string
  /** Which part holds it: `'hot'` for a copy of another node's value. */
  part: StorePart
  /** Asks since the frequency counts were last halved (at most 63). */
  asks: number
}

/** The size an entry of `key` and `value` costs against the budget. */
export function entrySize(key: string, value: Cached | undefined): number {
  const bytes = value === NOT_FOUND || value === undefined ? 0 : byteLength(value)
  return Buffer.byteLength(key, 'utf8') + bytes + ENTRY_OVERHEAD_BYTES
}

/** Protected entries take at most this share of what the window leaves. */
const PROTECTED_SHARE = 0.8
/** A candidate this frequent that loses is still admitted once in 128 tries (hash flooding). */
const FLOOD_GUARD_FREQUENCY = 6
const FLOOD_GUARD_CHANCE = 1 / 128
/** Whom a main candidate displaces, oldest first in each segment. */
const MAIN_VICTIMS: readonly Segment[] = [PROBATION, PROTECTED, HOT]

/** Main and hot caches under one budget; a key lives in at most one of them. */
export class Store {
  readonly limits: StoreLimits
  /**
   * The deadline (0: none) of the entry the last `get` returned, or the last `notFound` found:
   * read right after it, in the same call, it spares looking the key up again.
   */
  hitDeadline = NEVER
  readonly policy: StorePolicy
  /** Told the key of each entry evicted to make room (new entries that lost their place too); set by the namespace for diagnostics. */
  onEvict: ((key: string, part: StorePart) => void) | undefined = undefined
  #slots: Slots
  #now: () => number
  #random: () => number
  /** Under W-TinyLFU only: the frequency sketch, the hash seed and what sizes the window. */
  #sketch: FrequencySketch | undefined
  #seed: number
  #window: WindowController | undefined
  #expiry = new ExpiryQueue()
  /** Asks since the last sample. */
  #asks = 0
  /** Misses counted by the policy (see `AdmissionStats.misses`). */
  #misses = 0
  /** A key the last missing `get` found no entry for, until it is set: `notFound` needs no lookup. */
  #absent: string | undefined
  #mainEvictions = 0
  #hotEvictions = 0
  #expired = 0
  #rejections = 0
  /** Entries that just left the window, oldest first, waiting to win their place in main. */
  #candidates: number[] = []
  /** The victims a candidate would displace (reused). */
  #victims: number[] = []
  /** Keys evicted by the current `set` and their parts, for `onEvict` once it is done. */
  #evicted: string[] = []

  constructor(
    limits: StoreLimits,
    now: () => number,
    {
      policy = 'tinylfu',
      storage = 'heap',
      random = Math.random,
    }: { policy?: StorePolicy; storage?: StoreStorage; random?: () => number } = {},
  ) {
    this.limits = limits
    this.policy = policy
    this.#now = now
    this.#random = random
    this.#seed = (random() * 0x100000000) | 0
    this.#slots =
      storage === 'offheap'
        ? new ArenaSlots(entrySize, this.#seed, limits.maxBytes)
        : new HeapSlots(entrySize, this.#seed)
    if (policy === 'tinylfu') {
      this.#sketch = new FrequencySketch(64, this.#seed)
      this.#window = new WindowController(64, this.#seed)
    }
  }

  /** Entries found past their deadline (and past the stale window) and dropped. */
  get expired(): number {
    return this.#expired
  }

  /** Bytes held by both parts. */
  get bytes(): number {
    const slots = this.#slots
    return slots.bytesOf(WINDOW) + slots.bytesOf(PROBATION) + slots.bytesOf(PROTECTED) + slots.bytesOf(HOT)
  }

  /**
   * The fresh value of `key` from either part, or `undefined` — also for a cached not-found
   * ({@link notFound} tells). Counts the ask; a miss too, unless `countMiss` is false (then
   * {@link countMiss} may count it later). This is the hit path: one lookup, a few integer
   * writes, and nothing else unless the entry has a deadline or is on probation. Any test for a
   * not-found here, even a compare with a constant, cost `peek` 10–15 % (measured); a miss can
   * afford a second lookup, and `notFound` spares it when this one found no entry at all.
   */
  get(key: string, countMiss = true): StoredValue | undefined {
    const slots = this.#slots
    const slot = slots.find(key)
    if (slot === NONE) {
      this.#absent = key
      return countMiss ? this.#missed(key) : undefined
    }
    const deadline = slots.deadlineAt(slot)
    if (deadline !== NEVER && this.#passed(slot)) return undefined
    this.hitDeadline = deadline
    this.#asks++
    if (slots.use(slot) === PROBATION) this.#promote(slot)
    return slots.valueAt(slot)
  }

  /** Whether a fresh cached not-found of `key` is held (refreshing its recency). */
  notFound(key: string): boolean {
    if (key === this.#absent) return false
    const slots = this.#slots
    const slot = slots.find(key)
    if (slot === NONE || slots.valueAt(slot) !== undefined) return false
    const deadline = slots.deadlineAt(slot)
    if (deadline !== NEVER && this.#now() >= deadline) return false
    slots.refresh(slot)
    this.hitDeadline = deadline
    return true
  }

  /** The value of a main entry past its deadline but within the stale window, or `undefined`. */
  stale(key: string): Cached | undefined {
    const slots = this.#slots
    const slot = slots.find(key)
    if (slot === NONE || slots.segmentOf(slot) === HOT) return undefined
    const deadline = slots.deadlineAt(slot)
    if (deadline === NEVER) return undefined
    const now = this.#now()
    if (now < deadline || now >= deadline + this.limits.staleMs) return undefined
    if (slots.use(slot) === PROBATION) this.#promote(slot)
    return slots.valueAt(slot) ?? NOT_FOUND
  }

  /** Whether the main part holds `key`, fresh or not. */
  holdsMain(key: string): boolean {
    const slot = this.#slots.find(key)
    return slot !== NONE && this.#slots.segmentOf(slot) !== HOT
  }

  /** Whether an entry of `key` and `value` is small enough for `part` to keep. */
  fits(part: StorePart, key: string, value: Cached): boolean {
    return this.#fitsSize(part, entrySize(key, value))
  }

  #fitsSize(part: StorePart, size: number): boolean {
    const { maxBytes, maxHotBytes, maxEntryBytes } = this.limits
    return size <= maxEntryBytes && size <= maxBytes && (part === 'main' || size <= maxHotBytes)
  }

  /**
   * Stores `value` in `part` until `deadline` (0: no deadline), then makes room. A key already
   * held keeps its place (its value replaced); a new main entry enters the window (LRU: main
   * directly), and one that overflows the window at once (it is larger than the window) must win
   * its place there and then; a new hot copy is kept only if it wins its place (LRU: always).
   * Returns whether the entry is held afterwards: false, and nothing stored (any older copy
   * dropped), when it is larger than `maxEntryBytes` (or than the hot part's whole share, for
   * hot), or when it lost its place.
   */
  set(part: StorePart, key: string, value: Cached, deadline = NEVER): boolean {
    const held = this.#set(part, key, value, deadline)
    // Told only once the store is whole again: a listener may read or write the store.
    const evicted = this.#evicted
    if (evicted.length > 0) {
      this.#evicted = []
      for (let i = 0; i < evicted.length; i += 2) this.onEvict?.(evicted[i]!, evicted[i + 1] as StorePart)
    }
    return held
  }

  #set(part: StorePart, key: string, value: Cached, deadline: number): boolean {
    if (key === this.#absent) this.#absent = undefined
    const size = entrySize(key, value)
    if (!this.#fitsSize(part, size)) {
      this.delete(key)
      return false
    }
    const slots = this.#slots
    const stored = value === NOT_FOUND ? undefined : value
    let slot = slots.find(key)
    if (slot !== NONE && (slots.segmentOf(slot) === HOT) !== (part === 'hot')) {
      this.#drop(slot)
      slot = NONE
    }
    if (slot !== NONE) slots.replace(slot, stored, size, deadline)
    else if (part === 'main')
      slot = slots.insert(key, stored, size, this.#sketch ? WINDOW : PROTECTED, deadline)
    else if (this.#sketch === undefined || this.#admitsHot(key, size))
      slot = slots.insert(key, stored, size, HOT, deadline)
    else {
      this.#rejections++
      return false
    }
    if (deadline !== NEVER) this.#expiresAt(slot, deadline)
    this.#makeRoom(slot)
    if (this.#sketch !== undefined && slots.size > this.#sketch.capacity) {
      this.#sketch.resize(slots.size)
      this.#window!.resize(this.#sketch.capacity)
    }
    return slots.holds(slot) && slots.keyAt(slot) === key
  }

  /** Removes `key` from both parts; returns whether it was held. */
  delete(key: string): boolean {
    const slot = this.#slots.find(key)
    if (slot === NONE) return false
    this.#drop(slot)
    return true
  }

  /** Removes every entry of both parts (a flush: this node missed purges it cannot name). */
  clear(): void {
    for (const segment of [WINDOW, PROBATION, PROTECTED, HOT] as const) {
      for (let slot = this.#slots.oldest(segment); slot !== NONE; slot = this.#slots.oldest(segment))
        this.#drop(slot)
    }
    this.#expiry.clear()
  }

  /** Keys of `part`, from the most to the least recently used segment by segment (O(n); tests and tools). */
  *keys(part: StorePart): IterableIterator<string> {
    const segments = part === 'hot' ? [HOT] : [WINDOW, PROTECTED, PROBATION]
    for (const segment of segments)
      for (const slot of this.#slots.slotsOf(segment as Segment)) yield this.#slots.keyAt(slot)
  }

  /** Bytes of `part`, recomputed from the entries themselves (for consistency checks). */
  recount(part: StorePart): number {
    const slots = this.#slots
    if (part === 'hot') return slots.recount(HOT)
    return slots.recount(WINDOW) + slots.recount(PROBATION) + slots.recount(PROTECTED)
  }

  /**
   * Up to `limit` keys asked for again while held, most asks (since the last halving) first, found
   * among the most recently used entries of the window, of protected (under LRU: of main) and of
   * the hot part: `max(64, 4 × limit)` of each at most, so a dashboard may poll it.
   */
  hottest(limit: number): HotKey[] {
    const slots = this.#slots
    const found: HotKey[] = []
    const reach = Math.max(64, 4 * limit)
    for (const segment of [WINDOW, PROTECTED, HOT] as const) {
      let n = 0
      for (let slot = slots.newest(segment); slot !== NONE && n < reach; slot = slots.olderThan(slot), n++) {
        const asks = slots.asksAt(slot)
        if (asks > 0) found.push({ key: slots.keyAt(slot), part: segment === HOT ? 'hot' : 'main', asks })
      }
    }
    return found.sort((a, b) => b.asks - a.asks).slice(0, limit)
  }

  stats(): { main: PartStats; hot: PartStats } {
    const slots = this.#slots
    return {
      main: {
        bytes: slots.bytesOf(WINDOW) + slots.bytesOf(PROBATION) + slots.bytesOf(PROTECTED),
        items: slots.itemsOf(WINDOW) + slots.itemsOf(PROBATION) + slots.itemsOf(PROTECTED),
        evictions: this.#mainEvictions,
      },
      hot: { bytes: slots.bytesOf(HOT), items: slots.itemsOf(HOT), evictions: this.#hotEvictions },
    }
  }

  admission(): AdmissionStats {
    const slots = this.#slots
    return {
      policy: this.policy,
      windowBytes: slots.bytesOf(WINDOW),
      probationBytes: slots.bytesOf(PROBATION),
      protectedBytes: slots.bytesOf(PROTECTED),
      windowShare: this.#window?.share ?? 0,
      rejections: this.#rejections,
      misses: this.#misses,
      sketchBytes: (this.#sketch?.bytes ?? 0) + (this.#window?.bytes ?? 0),
    }
  }

  storageStats(): StorageStats {
    return this.#slots.storageStats()
  }

  /**
   * Counts a miss of `key` that `get` was told not to count, once the caller found out that the
   * key is one this store may hold (W-TinyLFU's sketch and window learn from misses). Only a key
   * with no entry is a miss: an entry past its deadline but served stale is an ask (`stale`).
   */
  countMiss(key: string): void {
    if (key === this.#absent || this.#slots.find(key) === NONE) this.#missed(key)
  }

  /** A miss of a key not held: counted in the sketch and told to the window; every sample ages the counts. */
  #missed(key: string): undefined {
    this.#asks++
    const sketch = this.#sketch
    if (sketch !== undefined) {
      this.#misses++
      const hash = this.#slots.hashOf(key)
      sketch.add(hash)
      if (this.#window!.missed(hash) || this.#asks >= sketch.sampleSize) this.#endSample(sketch)
    }
    return undefined
  }

  /** Ages what the sketch and the entries remember. */
  #endSample(sketch: FrequencySketch): void {
    sketch.halve()
    this.#slots.halveAsks()
    this.#asks = 0
  }

  /** Whether the entry in `slot` is past its deadline; drops it once its grace period is over too. */
  #passed(slot: number): boolean {
    const deadline = this.#slots.deadlineAt(slot)
    const now = this.#now()
    if (now < deadline) return false
    if (now >= deadline + this.#graceOf(slot)) {
      this.#drop(slot)
      this.#expired++
    }
    return true
  }

  #graceOf(slot: number): number {
    return this.#slots.segmentOf(slot) === HOT ? 0 : this.limits.staleMs
  }

  /** A probation entry asked for again is protected; protected's oldest go back on probation. */
  #promote(slot: number): void {
    const slots = this.#slots
    slots.moveTo(slot, PROTECTED)
    const cap = PROTECTED_SHARE * (this.limits.maxBytes - this.#windowCap())
    for (
      let oldest = slots.oldest(PROTECTED);
      slots.bytesOf(PROTECTED) > cap && oldest !== slot;
      oldest = slots.oldest(PROTECTED)
    ) {
      slots.moveTo(oldest, PROBATION)
    }
  }

  #windowCap(): number {
    return this.#window === undefined ? 0 : Math.floor(this.#window.share * this.limits.maxBytes)
  }

  /** Frees bytes until both budgets hold: dead entries first, then by the policy. */
  #makeRoom(added: number): void {
    const slots = this.#slots
    const { maxBytes, maxHotBytes } = this.limits
    const candidates = this.#candidates
    candidates.length = 0
    if (this.#sketch !== undefined) {
      // What overflows the window (oldest first, the entry just stored too) must win its place.
      const cap = this.#windowCap()
      for (
        let oldest = slots.oldest(WINDOW);
        slots.bytesOf(WINDOW) > cap && oldest !== NONE;
        oldest = slots.oldest(WINDOW)
      ) {
        slots.moveTo(oldest, PROBATION)
        candidates.push(oldest)
      }
    }
    if (this.bytes <= maxBytes && slots.bytesOf(HOT) <= maxHotBytes) return
    this.#dropDead(added)
    while (slots.bytesOf(HOT) > maxHotBytes && slots.oldest(HOT) !== added) this.#evict(slots.oldest(HOT))
    while (this.bytes > maxBytes) {
      const candidate = candidates.shift()
      if (candidate !== undefined) {
        if (slots.holds(candidate) && slots.segmentOf(candidate) === PROBATION) this.#contest(candidate)
      } else if (!this.#evictAny(added)) break
    }
    candidates.length = 0
  }

  /** A candidate from the window against the entries it would displace: the more frequent stays. */
  #contest(candidate: number): void {
    const victims = this.#chooseVictims(0, this.bytes - this.limits.maxBytes, candidate)
    const hash = this.#slots.hashAt(candidate)
    const frequency = this.#sketch!.frequency(hash) + this.#slots.asksAt(candidate)
    if (victims >= 0 && this.#admits(frequency, victims)) {
      for (const victim of this.#victims) this.#evictRemembered(victim)
    } else {
      this.#window!.rejected(hash)
      this.#evict(candidate)
      this.#rejections++
    }
  }

  /** Whether a new hot copy of `size` bytes wins the room it needs. */
  #admitsHot(key: string, size: number): boolean {
    const { maxBytes, maxHotBytes } = this.limits
    const slots = this.#slots
    const over = () => [slots.bytesOf(HOT) + size - maxHotBytes, this.bytes + size - maxBytes] as const
    let [hotNeed, need] = over()
    if (hotNeed <= 0 && need <= 0) return true
    this.#dropDead(NONE)
    ;[hotNeed, need] = over()
    if (hotNeed <= 0 && need <= 0) return true
    const victims = this.#chooseVictims(hotNeed, need, NONE)
    if (victims < 0 || !this.#admits(this.#sketch!.frequency(this.#slots.hashOf(key)), victims)) return false
    for (const victim of this.#victims) this.#evict(victim)
    return true
  }

  /**
   * Picks, without evicting, the victims that free `hotNeed` bytes of the hot part and `need`
   * bytes in all: hot copies first for the former, then probation, protected and hot, oldest first;
   * never `exclude` nor anything newer on probation (the candidates). Returns their summed
   * frequency, or -1 when they cannot free enough.
   */
  #chooseVictims(hotNeed: number, need: number, exclude: number): number {
    const slots = this.#slots
    const victims = this.#victims
    victims.length = 0
    let frequency = 0
    let hot = slots.oldest(HOT)
    for (; hotNeed > 0 && hot !== NONE; hot = slots.newerThan(hot)) {
      const size = slots.sizeAt(hot)
      victims.push(hot)
      frequency += this.#frequencyAt(hot)
      hotNeed -= size
      need -= size
    }
    if (hotNeed > 0) return -1
    for (const segment of MAIN_VICTIMS) {
      let slot = segment === HOT ? hot : slots.oldest(segment)
      for (; need > 0 && slot !== NONE && slot !== exclude; slot = slots.newerThan(slot)) {
        victims.push(slot)
        frequency += this.#frequencyAt(slot)
        need -= slots.sizeAt(slot)
      }
    }
    return need > 0 ? -1 : frequency
  }

  #admits(candidate: number, victims: number): boolean {
    if (candidate > victims) return true
    // Keys crafted to share a victim's counters could keep it in forever: frequent losers get a chance.
    return candidate >= FLOOD_GUARD_FREQUENCY && this.#random() < FLOOD_GUARD_CHANCE
  }

  #frequencyAt(slot: number): number {
    return this.#sketch!.frequency(this.#slots.hashAt(slot)) + this.#slots.asksAt(slot)
  }

  /** Evicts one entry by recency alone: hot first when over its share or when main has nothing else. */
  #evictAny(added: number): boolean {
    const slots = this.#slots
    const mainItems = slots.itemsOf(WINDOW) + slots.itemsOf(PROBATION) + slots.itemsOf(PROTECTED)
    const mainSpare = mainItems - (slots.segmentOf(added) === HOT ? 0 : 1)
    const hotFirst = slots.bytesOf(HOT) > this.limits.maxHotBytes || mainSpare === 0
    const order = hotFirst ? [HOT, PROBATION, PROTECTED, WINDOW] : [PROBATION, PROTECTED, WINDOW, HOT]
    for (const segment of order as Segment[]) {
      const oldest = slots.oldest(segment)
      if (oldest !== NONE && oldest !== added) {
        this.#evictRemembered(oldest)
        return true
      }
    }
    return false
  }

  /** Evicts the entry in `slot`; one of main (the window's too) is remembered by the window's ghosts. */
  #evictRemembered(slot: number): void {
    const window = this.#window
    const segment = this.#slots.segmentOf(slot)
    if (window !== undefined && segment !== HOT) {
      if (segment === WINDOW) window.rejected(this.#slots.hashAt(slot))
      else window.evicted(this.#slots.hashAt(slot))
    }
    this.#evict(slot)
  }

  #evict(slot: number): void {
    const hot = this.#slots.segmentOf(slot) === HOT
    if (hot) this.#hotEvictions++
    else this.#mainEvictions++
    if (this.onEvict !== undefined) this.#evicted.push(this.#slots.keyAt(slot), hot ? 'hot' : 'main')
    this.#drop(slot)
  }

  /** Removes the entry in `slot`, keeping what its asks taught the sketch. */
  #drop(slot: number): void {
    const slots = this.#slots
    const asks = slots.asksAt(slot)
    if (this.#sketch !== undefined && asks > 0) this.#sketch.add(slots.hashAt(slot), asks)
    slots.remove(slot)
  }

  #expiresAt(slot: number, deadline: number): void {
    const expiry = this.#expiry
    // Records of entries gone or re-dated stay until popped; rebuild once they outnumber the live ones.
    if (expiry.size > 2 * this.#slots.size + 64) {
      expiry.clear()
      for (const held of this.#slots.slotsWithDeadlines())
        expiry.push(this.#slots.deadlineAt(held) + this.#graceOf(held), held)
    } else expiry.push(deadline + this.#graceOf(slot), slot)
  }

  /** Drops every entry past its deadline and its grace (except `keep`). */
  #dropDead(keep: number): void {
    const expiry = this.#expiry
    if (expiry.size === 0) return
    const slots = this.#slots
    const now = this.#now()
    let kept = Number.NaN
    while (expiry.soonest <= now) {
      const time = expiry.soonest
      const slot = expiry.soonestSlot
      expiry.pop()
      if (slot === keep) {
        kept = time
        continue
      }
      if (!slots.holds(slot)) continue
      const deadline = slots.deadlineAt(slot)
      if (deadline === NEVER || deadline + this.#graceOf(slot) !== time) continue
      this.#drop(slot)
      this.#expired++
    }
    if (!Number.isNaN(kept)) expiry.push(kept, keep)
  }
}
