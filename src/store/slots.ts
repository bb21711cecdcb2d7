/**
 * Where a namespace's entries live. {@link Slots} numbers the entries and keeps, per slot, a byte
 * of metadata and two links; the links thread every slot onto one of four recency lists — the
 * segments that {@link Store} moves entries between: the window, probation and protected (the main
 * cache, under W-TinyLFU) and the hot cache. Each entry's size is kept as it was stored, so moving
 * an entry scans nothing, and a value whose length changes later (a buffer transferred to a
 * worker) cannot skew the counts. Deadlines live in a typed array that exists only once an entry
 * with a deadline has been stored.
 *
 * Where keys and values are kept is up to a subclass: {@link HeapSlots} (here: keys and values in
 * two arrays, found through a `KeyTable`; a hit is a hash, a short probe and a few integer writes)
 * or `ArenaSlots` (`arena-slots.ts`: keys and values as bytes outside the JS heap). Either way a
 * slot costs 13 bytes of typed arrays here.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'
import { homeOf, KeyTable } from './key-table.ts'
import { hashKey } from './sketch.ts'

/** "No slot": the end of a list, and what {@link Slots.find} returns for a missing key. */
export const NONE = 0xffffffff

/** New main entries, under W-TinyLFU; they compete for main when they leave it. */
export const WINDOW = 0
/** Main entries asked for once since they were admitted (or demoted from protected). */
export const PROBATION = 1
/** Main entries asked for again while on probation; under the LRU policy, every main entry. */
export const PROTECTED = 2
/** Hot copies of values owned by other nodes. */
export const HOT = 3

/** One of the four lists. */
export type Segment = typeof WINDOW | typeof PROBATION | typeof PROTECTED | typeof HOT

/** Past this many slots the arrays grow by an eighth instead of by half. */
const GROW_SLOWER = 65_536
/** Asks are counted in the meta byte above the segment's two bits, up to 63. */
const ASK = 4
const SEGMENT_BITS = 3
const MAX_META = 0xfc

/**
 * Where a store keeps its keys and values: `'heap'` as JS strings and Uint8Arrays, `'offheap'` as
 * bytes in segments outside the JS heap, copied out on every read (`arena-slots.ts`).
 */
export type StoreStorage = 'heap' | 'offheap'

/** Where a store keeps its entries, as reported by `stats()`. */
export interface StorageStats {
  /** The namespace's `storage` option. */
  kind: StoreStorage
  /** Bytes of the off-heap segments allocated (0 on the heap): what they add to the process's RSS. */
  offHeapBytes: number
  /** Bytes moved by compacting the off-heap segments, ever. */
  compactedBytes: number
  /**
   * Off the heap: entries kept on the JS heap all the same — a value too large for a record or a
   * string with a lone surrogate (its value), a key too long for a record (key and value).
   */
  heapValues: number
}

/** How a store sizes an entry: see `entrySize`. */
export type SizeOf = (key: string, value: StoredValue | undefined) => number

/**
 * Slots threaded onto four recency lists; a subclass keeps each slot's key and value. A value of
 * `undefined` in a held slot is a cached not-found.
 */
export abstract class Slots {
  /** Slots ever allocated: those below are held or on the free list. */
  #used = 0
  /** For each slot, the next newer and the next older slot of its list; free slots chain through `#older`. */
  #newer = new Uint32Array(16)
  #older = new Uint32Array(16)
  /** For each slot: its segment (two low bits) and the asks it had since the last halving. */
  #meta = new Uint8Array(16)
  /**
   * Each slot's size as it was stored: two bytes each while every entry is below 64 KiB (most
   * caches), four from the first larger one on (entries are at most `maxEntryBytes`, far below 4 GiB).
   */
  #sizes: Uint16Array | Uint32Array = new Uint16Array(16)
  /** Each slot's deadline (0: none); allocated with the first deadline. */
  #deadlines: Float64Array | undefined
  #free = NONE
  #newest = new Uint32Array(4).fill(NONE)
  #oldest = new Uint32Array(4).fill(NONE)
  #bytes = [0, 0, 0, 0]
  #items = [0, 0, 0, 0]
  #sizeOf: SizeOf
  readonly #seed: number
  /** The key `find` hashed last, and its hash: the miss or the set that follows needs it again. */
  #hashedKey: string | undefined = undefined
  #hashedKeyHash = 0

  /** `sizeOf` is what `recount` checks the stored sizes against; `seed` salts `hashKey`. */
  constructor(sizeOf: SizeOf, seed: number) {
    this.#sizeOf = sizeOf
    this.#seed = seed
  }

  /** `hashKey(key)` under the store's seed, as the frequency sketch counts it. */
  hashOf(key: string): number {
    return key === this.#hashedKey ? this.#hashedKeyHash : hashKey(key, this.#seed)
  }

  /** `hashKey(key)`, remembered for the `hashOf` that may follow: what `find` hashes with. */
  protected hashForFind(key: string): number {
    const hash = hashKey(key, this.#seed)
    this.#hashedKey = key
    this.#hashedKeyHash = hash
    return hash
  }

  /** Entries held, in every segment. */
  abstract get size(): number

  /** The slot of `key`, or {@link NONE}. Does not touch recency. */
  abstract find(key: string): number

  /** The key of the entry in `slot`. */
  abstract keyAt(slot: number): string

  /** The value of the entry in `slot` (`undefined`: a cached not-found). */
  abstract valueAt(slot: number): StoredValue | undefined

  /** Whether `slot` holds an entry. */
  abstract holds(slot: number): boolean

  /** The key's hash under the store's seed (`hashKey`), as the frequency sketch counts it. */
  abstract hashAt(slot: number): number

  /** Keeps `key` and `value` in the newly allocated `slot`. */
  protected abstract keep(slot: number, key: string, value: StoredValue | undefined): void

  /** Replaces the value of the entry in `slot`. */
  protected abstract rekeep(slot: number, value: StoredValue | undefined): void

  /** Forgets the key and value of the entry in `slot`, which is being removed. */
  protected abstract forget(slot: number): void

  /** Makes room for keys and values in slots below `capacity`. */
  protected abstract growTo(capacity: number): void

  /** Where the keys and values are, for `stats()`. */
  abstract storageStats(): StorageStats

  segmentOf(slot: number): Segment {
    return (this.#meta[slot]! & SEGMENT_BITS) as Segment
  }

  /** How often the entry in `slot` was asked for since it was stored or since the last halving. */
  asksAt(slot: number): number {
    return this.#meta[slot]! >>> 2
  }

  /** The deadline of the entry in `slot`; 0 when it has none. */
  deadlineAt(slot: number): number {
    return this.#deadlines === undefined ? 0 : this.#deadlines[slot]!
  }

  /** The size of the entry in `slot`, as stored. */
  sizeAt(slot: number): number {
    return this.#sizes[slot]!
  }

  bytesOf(segment: Segment): number {
    return this.#bytes[segment]!
  }

  itemsOf(segment: Segment): number {
    return this.#items[segment]!
  }

  /** The least recently used slot of `segment`, or {@link NONE}. */
  oldest(segment: Segment): number {
    return this.#oldest[segment]!
  }

  /** The most recently used slot of `segment`, or {@link NONE}. */
  newest(segment: Segment): number {
    return this.#newest[segment]!
  }

  /** The next less recently used slot of the same segment, or {@link NONE}. */
  olderThan(slot: number): number {
    return this.#older[slot]!
  }

  /** The next more recently used slot of the same segment, or {@link NONE}. */
  newerThan(slot: number): number {
    return this.#newer[slot]!
  }

  /** Makes the entry in `slot` the most recently used of its segment, without counting an ask. */
  refresh(slot: number): void {
    const segment = this.segmentOf(slot)
    if (this.#newest[segment] !== slot) this.#touch(slot, segment)
  }

  /**
   * Counts an ask of the entry in `slot` and makes it the most recently used of its segment;
   * returns the segment. This is the hit path.
   */
  use(slot: number): Segment {
    const meta = this.#meta[slot]!
    if (meta < MAX_META) this.#meta[slot] = meta + ASK
    const segment = (meta & SEGMENT_BITS) as Segment
    if (this.#newest[segment] !== slot) this.#touch(slot, segment)
    return segment
  }

  /** Stores a new entry as the newest of `segment`; returns its slot. */
  insert(
    key: string,
    value: StoredValue | undefined,
    size: number,
    segment: Segment,
    deadline: number,
  ): number {
    const slot = this.#allocate()
    this.keep(slot, key, value)
    this.#meta[slot] = segment
    this.#setSize(slot, size)
    this.setDeadline(slot, deadline)
    this.#link(slot, segment)
    this.#bytes[segment]! += size
    return slot
  }

  /** Replaces the value in `slot` (whose entry is now `size` bytes) and makes it the newest of its segment. */
  replace(slot: number, value: StoredValue | undefined, size: number, deadline: number): void {
    const segment = this.segmentOf(slot)
    this.#bytes[segment]! += size - this.#sizes[slot]!
    this.#setSize(slot, size)
    this.rekeep(slot, value)
    this.setDeadline(slot, deadline)
    if (this.#newest[segment] !== slot) this.#touch(slot, segment)
  }

  /** Moves the entry in `slot` to the newest end of `segment`, keeping its asks. */
  moveTo(slot: number, segment: Segment): void {
    const from = this.segmentOf(slot)
    const size = this.sizeAt(slot)
    this.#unlink(slot, from)
    this.#bytes[from]! -= size
    this.#meta[slot] = (this.#meta[slot]! & ~SEGMENT_BITS) | segment
    this.#link(slot, segment)
    this.#bytes[segment]! += size
  }

  /** Removes the entry in `slot`. */
  remove(slot: number): void {
    const segment = this.segmentOf(slot)
    this.#bytes[segment]! -= this.#sizes[slot]!
    this.#unlink(slot, segment)
    this.forget(slot)
    this.#meta[slot] = 0
    if (this.#deadlines !== undefined) this.#deadlines[slot] = 0
    this.#older[slot] = this.#free
    this.#free = slot
  }

  setDeadline(slot: number, deadline: number): void {
    if (this.#deadlines === undefined) {
      if (deadline === 0) return
      this.#deadlines = new Float64Array(this.#newer.length)
    }
    this.#deadlines[slot] = deadline
  }

  /** Halves every entry's count of asks (the store ages them with its frequency sketch). */
  halveAsks(): void {
    const meta = this.#meta
    for (let slot = 0; slot < meta.length; slot++) {
      const m = meta[slot]!
      meta[slot] = (m & SEGMENT_BITS) | (((m >>> 3) << 2) & MAX_META)
    }
  }

  /** The slots of `segment`, from the most to the least recently used (O(n)). */
  *slotsOf(segment: Segment): IterableIterator<number> {
    for (let slot = this.#newest[segment]!; slot !== NONE; slot = this.#older[slot]!) yield slot
  }

  /** Every held slot whose entry has a deadline (O(capacity)). */
  *slotsWithDeadlines(): IterableIterator<number> {
    const deadlines = this.#deadlines
    if (deadlines === undefined) return
    for (let slot = 0; slot < this.#used; slot++) {
      if (deadlines[slot] !== 0 && this.holds(slot)) yield slot
    }
  }

  /** Sum of the sizes of `segment`'s entries, recomputed from the entries (for consistency checks). */
  recount(segment: Segment): number {
    let total = 0
    for (const slot of this.slotsOf(segment)) total += this.#sizeOf(this.keyAt(slot), this.valueAt(slot))
    return total
  }

  #link(slot: number, segment: Segment): void {
    const newest = this.#newest[segment]!
    this.#older[slot] = newest
    this.#newer[slot] = NONE
    if (newest === NONE) this.#oldest[segment] = slot
    else this.#newer[newest] = slot
    this.#newest[segment] = slot
    this.#items[segment]!++
  }

  #unlink(slot: number, segment: Segment): void {
    const newer = this.#newer[slot]!
    const older = this.#older[slot]!
    if (newer === NONE) this.#newest[segment] = older
    else this.#older[newer] = older
    if (older === NONE) this.#oldest[segment] = newer
    else this.#newer[older] = newer
    this.#items[segment]!--
  }

  #touch(slot: number, segment: Segment): void {
    // `slot` is not the newest of its segment, so it has a newer neighbour.
    const newer = this.#newer[slot]!
    const older = this.#older[slot]!
    this.#older[newer] = older
    if (older === NONE) this.#oldest[segment] = newer
    else this.#newer[older] = newer
    const newest = this.#newest[segment]!
    this.#older[slot] = newest
    this.#newer[slot] = NONE
    this.#newer[newest] = slot
    this.#newest[segment] = slot
  }

  #setSize(slot: number, size: number): void {
    if (size > 0xffff && this.#sizes instanceof Uint16Array) this.#sizes = Uint32Array.from(this.#sizes)
    this.#sizes[slot] = size
  }

  /** A free slot; the arrays grow when every slot is used. */
  #allocate(): number {
    let slot = this.#free
    if (slot !== NONE) this.#free = this.#older[slot]!
    else {
      slot = this.#used++
      if (slot === NONE) throw new RangeError('a store holds at most 2^32 - 1 entries')
      // By half while small, then by an eighth: less room left unused in a large store.
      if (slot === this.#newer.length)
        this.#grow(Math.min(NONE, slot + (slot < GROW_SLOWER ? slot >> 1 : slot >> 3)))
    }
    return slot
  }

  #grow(capacity: number): void {
    this.growTo(capacity)
    const newer = new Uint32Array(capacity)
    const older = new Uint32Array(capacity)
    const meta = new Uint8Array(capacity)
    newer.set(this.#newer)
    older.set(this.#older)
    meta.set(this.#meta)
    const sizes = this.#sizes instanceof Uint16Array ? new Uint16Array(capacity) : new Uint32Array(capacity)
    sizes.set(this.#sizes)
    this.#sizes = sizes
    this.#newer = newer
    this.#older = older
    this.#meta = meta
    if (this.#deadlines !== undefined) {
      const deadlines = new Float64Array(capacity)
      deadlines.set(this.#deadlines)
      this.#deadlines = deadlines
    }
  }
}

/** Keys up to this long are found by a hash computed here; longer ones through a `Map`. */
export const SHORT_KEY = 12

/**
 * An entry placed this many buckets past its home means a flood: with random hashes the farthest
 * of 4 million entries in a table 3/4 full lands 287 buckets out (`bench/key-costs.mjs probes`).
 */
export const FLOOD_PROBES = 1024

/**
 * Keys and values on the JS heap, in two arrays, found through a {@link KeyTable}: a hit hashes
 * the key and probes a few buckets, and an entry costs 33 bytes of arrays beyond its key and value
 * (a `Map` alone would take ~37).
 */
export class HeapSlots extends Slots {
  #table = new KeyTable(16)
  /**
   * Keys longer than `#shortKey` characters, which V8's own (cached) string hash finds faster;
   * every key once the table was flooded.
   */
  #long = new Map<string, number>()
  /** {@link SHORT_KEY}, or -1 once keys collided past {@link FLOOD_PROBES} (see `keep`). */
  #shortKey = SHORT_KEY
  #count = 0
  #keys: (string | undefined)[] = Array.from({ length: 16 })
  #values: (StoredValue | undefined)[] = Array.from({ length: 16 })

  get size(): number {
    return this.#count
  }

  /** Whether every key is in the Map, because the table saw keys collide as only a flood would. */
  get flooded(): boolean {
    return this.#shortKey < 0
  }

  find(key: string): number {
    if (key.length > this.#shortKey) {
      const slot = this.#long.get(key)
      return slot === undefined ? NONE : slot
    }
    const hash = this.hashForFind(key)
    const { buckets, hashes } = this.#table
    const keys = this.#keys
    const length = buckets.length
    for (let bucket = homeOf(hash, length); ; ) {
      const entry = buckets[bucket]!
      if (entry === 0) return NONE
      const slot = entry - 1
      if (hashes[slot] === hash && keys[slot] === key) return slot
      if (++bucket === length) bucket = 0
    }
  }

  keyAt(slot: number): string {
    return this.#keys[slot]!
  }

  valueAt(slot: number): StoredValue | undefined {
    return this.#values[slot]
  }

  holds(slot: number): boolean {
    return this.#keys[slot] !== undefined
  }

  hashAt(slot: number): number {
    return this.#table.hashes[slot]!
  }

  protected keep(slot: number, key: string, value: StoredValue | undefined): void {
    this.#keys[slot] = key
    this.#values[slot] = value
    const hash = this.hashOf(key)
    if (key.length > this.#shortKey) {
      this.#long.set(key, slot)
      this.#table.hashes[slot] = hash
    } else if (this.#table.add(slot, hash) > FLOOD_PROBES) this.#flood()
    this.#count++
  }

  protected rekeep(slot: number, value: StoredValue | undefined): void {
    this.#values[slot] = value
  }

  protected forget(slot: number): void {
    const key = this.#keys[slot]!
    if (key.length > this.#shortKey) this.#long.delete(key)
    else this.#table.remove(slot)
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    this.#count--
  }

  /**
   * Moves every key into the Map, for good: keys whose hashes crowd one run of the table (chosen
   * to, since the hash is seeded, or by a hash this weak for them) would make every lookup walk it.
   */
  #flood(): void {
    for (const slot of this.#table.slots()) this.#long.set(this.#keys[slot]!, slot)
    this.#table = this.#table.emptied()
    this.#shortKey = -1
  }

  storageStats(): StorageStats {
    return { kind: 'heap', offHeapBytes: 0, compactedBytes: 0, heapValues: 0 }
  }

  protected growTo(capacity: number): void {
    // Arrays made with Array.from are packed (no holes, so element access stays fast) and sized exactly.
    const keys: (string | undefined)[] = Array.from({ length: capacity })
    const values: (StoredValue | undefined)[] = Array.from({ length: capacity })
    for (let slot = 0; slot < this.#keys.length; slot++) {
      keys[slot] = this.#keys[slot]
      values[slot] = this.#values[slot]
    }
    this.#keys = keys
    this.#values = values
    this.#table.growSlots(capacity)
  }
}
