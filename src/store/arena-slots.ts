/**
 * Keys and values kept as bytes outside the JS heap (`storage: 'offheap'`): each entry is a record
 * in an {@link Arena} (its key's UTF-8, then its value's bytes), found through a `KeyTable` (an
 * open-addressing hash table of slot numbers in typed arrays). A held entry is no JS object at
 * all — no key string, no value, no Map slot — so the garbage collector neither traces the cache
 * nor promotes what it loads, and an evicted value's memory is reused at once instead of waiting
 * for a collection.
 *
 * The price is on reads: a lookup hashes the key and compares its bytes, and every read of a
 * value copies it out of the arena (a new string, a Buffer from Node's pool, or a Uint8Array with
 * an ArrayBuffer of its own, each time, so no two callers share one). A string is stored as Latin-1 when it is ASCII (the fastest to read
 * back), else as UTF-8. Values too large for a record (an eighth of a segment), and strings with
 * lone surrogates (which UTF-8 cannot carry), are kept on the JS heap instead, beside their key's
 * record.
 *
 * Keys are compared as UTF-8, which tells two well-formed strings apart exactly. A key with a lone
 * surrogate (the namespace refuses them; the store does not rely on it) has no UTF-8: it is kept
 * on the heap whole, and only such a key can equal it. So can a key too long for a record.
 *
 * @module
 */
import { latin1Text, utf8Text } from '../buffer-text.ts'
import type { StoredValue } from '../codec.ts'
import { Arena, RECORD_HEADER } from './arena.ts'
import { homeOf, KeyTable } from './key-table.ts'
import { FLOOD_PROBES, NONE, type SizeOf, Slots, type StorageStats } from './slots.ts'

/** What a slot's record holds, besides its key. */
const FREE = 0
const NOT_FOUND = 1
const ASCII = 2
const UTF8 = 3
const BYTES = 4
const BUFFER = 5
/** Byte copies up to this long are made with `new Uint8Array`, which V8 keeps on its heap. */
const SMALL_BYTES = 64
/** The value is in `#onHeap` (too large for a record, or not representable as UTF-8). */
const ON_HEAP = 6
/** The key is in `#heapKeys` and the value in `#onHeap`: a key too long for a record of its own. */
const ALL_ON_HEAP = 7

/**
 * Bytes `start` to `end` of `source` in a value of their own: a Buffer from Node's pool (as
 * `Buffer.allocUnsafe` gives one), or a Uint8Array that owns its ArrayBuffer, as a loaded value is
 * kept (see `ownValue`): nothing else in it to read, pin or detach.
 */
function copyOf(source: Uint8Array, start: number, end: number, buffer: boolean): Uint8Array {
  const length = end - start
  // Small typed arrays live on the JS heap (cheap); larger ones are not zero-filled first.
  const copy = buffer
    ? Buffer.allocUnsafe(length)
    : length <= SMALL_BYTES
      ? new Uint8Array(length)
      : new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length)
  if (Buffer.isBuffer(source)) source.copy(copy, 0, start, end)
  else copy.set(source.subarray(start, end))
  return copy
}

/** Slots whose keys and values are records in an arena. */
export class ArenaSlots extends Slots {
  readonly arena: Arena
  #count = 0
  #table = new KeyTable(16)
  #keyBytes = new Uint32Array(16)
  #valueBytes = new Uint32Array(16)
  #kinds = new Uint8Array(16)
  #onHeap = new Map<number, StoredValue | undefined>()
  #heapKeys = new Map<number, string>()
  /** Every key, once keys crowded one run of the table as only a flood would (see `keep`). */
  #flooded: Map<string, number> | undefined
  /** The key being looked up, as UTF-8 (grown as keys need), when it is not ASCII. */
  #scratch = Buffer.allocUnsafeSlow(256)

  constructor(sizeOf: SizeOf, seed: number, maxBytes: number) {
    super(sizeOf, seed)
    this.arena = new Arena(maxBytes)
  }

  get size(): number {
    return this.#count
  }

  /** Whether keys are found through a Map of strings, because the table saw a hash flood. */
  get flooded(): boolean {
    return this.#flooded !== undefined
  }

  find(key: string): number {
    if (this.#flooded !== undefined) {
      const slot = this.#flooded.get(key)
      return slot === undefined ? NONE : slot
    }
    const hash = this.hashForFind(key)
    const { buckets, hashes } = this.#table
    const keyBytes = this.#keyBytes
    const bucketCount = buckets.length
    let length = -1
    for (let bucket = homeOf(hash, bucketCount); ; ) {
      const entry = buckets[bucket]!
      if (entry === 0) return NONE
      if (++bucket === bucketCount) bucket = 0
      const slot = entry - 1
      if (hashes[slot] !== hash) continue
      if (this.#kinds[slot] === ALL_ON_HEAP) {
        if (this.#heapKeys.get(slot) === key) return slot
        continue
      }
      const bytes = keyBytes[slot]!
      if (bytes === key.length) {
        const ascii = this.#asciiKeyIs(slot, key)
        if (ascii === 1) return slot
        if (ascii === 0) continue
      } else if (bytes < key.length) continue // UTF-8 is never shorter than UTF-16
      // A key with a lone surrogate has no UTF-8: only a key kept on the heap can equal it.
      if (length === -1) length = key.isWellFormed() ? this.#encode(key) : -2
      if (bytes === length && this.#keyIs(slot, length)) return slot
    }
  }

  keyAt(slot: number): string {
    if (this.#kinds[slot] === ALL_ON_HEAP) return this.#heapKeys.get(slot)!
    const arena = this.arena
    const start = arena.offsetOf[slot]! + RECORD_HEADER
    return utf8Text(arena.segments[arena.segmentOf[slot]!]!, start, start + this.#keyBytes[slot]!)
  }

  valueAt(slot: number): StoredValue | undefined {
    const kind = this.#kinds[slot]!
    if (kind <= NOT_FOUND) return undefined
    if (kind >= ON_HEAP) {
      const value = this.#onHeap.get(slot)
      return value === undefined || typeof value === 'string'
        ? value
        : copyOf(value, 0, value.byteLength, Buffer.isBuffer(value))
    }
    const arena = this.arena
    const segment = arena.segments[arena.segmentOf[slot]!]!
    const start = arena.offsetOf[slot]! + RECORD_HEADER + this.#keyBytes[slot]!
    const end = start + this.#valueBytes[slot]!
    if (kind === ASCII) return latin1Text(segment, start, end)
    if (kind === UTF8) return utf8Text(segment, start, end)
    return copyOf(segment, start, end, kind === BUFFER)
  }

  holds(slot: number): boolean {
    return this.#kinds[slot] !== FREE
  }

  hashAt(slot: number): number {
    return this.#table.hashes[slot]!
  }

  storageStats(): StorageStats {
    const arena = this.arena
    return {
      kind: 'offheap',
      offHeapBytes: arena.bytes,
      compactedBytes: arena.moved,
      heapValues: this.#onHeap.size,
    }
  }

  protected keep(slot: number, key: string, value: StoredValue | undefined): void {
    this.#write(slot, key, value)
    const hash = this.hashOf(key)
    if (this.#flooded !== undefined) {
      this.#flooded.set(key, slot)
      this.#table.hashes[slot] = hash
    } else if (this.#table.add(slot, hash) > FLOOD_PROBES) this.#flood()
    this.#count++
  }

  /**
   * Finds every key through a Map of key strings from now on: keys whose hashes crowd one run of
   * the table would make every lookup walk it. Costs a string per entry on the JS heap.
   */
  #flood(): void {
    const flooded = new Map<string, number>()
    for (const slot of this.#table.slots()) flooded.set(this.keyAt(slot), slot)
    this.#table = this.#table.emptied()
    this.#flooded = flooded
  }

  protected rekeep(slot: number, value: StoredValue | undefined): void {
    const key = this.keyAt(slot)
    this.#unwrite(slot)
    this.#write(slot, key, value)
  }

  protected forget(slot: number): void {
    if (this.#flooded !== undefined) this.#flooded.delete(this.keyAt(slot))
    else this.#table.remove(slot)
    this.#unwrite(slot)
    this.#count--
  }

  protected growTo(capacity: number): void {
    const grown = <T extends Uint32Array | Uint8Array>(old: T, make: new (n: number) => T): T => {
      const array = new make(capacity)
      array.set(old)
      return array
    }
    this.#table.growSlots(capacity)
    this.#keyBytes = grown(this.#keyBytes, Uint32Array)
    this.#valueBytes = grown(this.#valueBytes, Uint32Array)
    this.#kinds = grown(this.#kinds, Uint8Array)
    this.arena.grow(capacity)
  }

  /** Writes the record of `slot`: the key, then the value unless it goes on the heap. */
  #write(slot: number, key: string, value: StoredValue | undefined): void {
    const keyBytes = Buffer.byteLength(key, 'utf8')
    let kind: number
    let valueBytes = 0
    if (value === undefined) kind = NOT_FOUND
    else if (typeof value === 'string') {
      valueBytes = Buffer.byteLength(value, 'utf8')
      kind = valueBytes === value.length ? ASCII : value.isWellFormed() ? UTF8 : ON_HEAP
    } else {
      valueBytes = value.byteLength
      kind = Buffer.isBuffer(value) ? BUFFER : BYTES
    }
    const arena = this.arena
    if (!key.isWellFormed()) kind = ALL_ON_HEAP
    else if (kind === ON_HEAP || !arena.place(slot, keyBytes + valueBytes))
      kind = arena.place(slot, keyBytes) ? ON_HEAP : ALL_ON_HEAP
    if (kind >= ON_HEAP) {
      valueBytes = 0
      this.#onHeap.set(slot, value)
    }
    this.#kinds[slot] = kind
    this.#keyBytes[slot] = keyBytes
    this.#valueBytes[slot] = valueBytes
    if (kind === ALL_ON_HEAP) {
      this.#heapKeys.set(slot, key)
      return
    }
    const segment = arena.segments[arena.segmentOf[slot]!]!
    const start = arena.offsetOf[slot]! + RECORD_HEADER
    segment.write(key, start, keyBytes, 'utf8')
    const at = start + keyBytes
    if (kind === ASCII) segment.write(value as string, at, valueBytes, 'latin1')
    else if (kind === UTF8) segment.write(value as string, at, valueBytes, 'utf8')
    else if (kind === BYTES || kind === BUFFER) segment.set(value as Uint8Array, at)
  }

  #unwrite(slot: number): void {
    if (this.#kinds[slot]! >= ON_HEAP) this.#onHeap.delete(slot)
    if (this.#kinds[slot] === ALL_ON_HEAP) this.#heapKeys.delete(slot)
    this.#kinds[slot] = FREE
    this.arena.release(slot)
  }

  /** `key` as UTF-8 in the scratch buffer; returns its length. */
  #encode(key: string): number {
    if (key.length * 3 > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(key.length * 3)
    return this.#scratch.write(key, 0, 'utf8')
  }

  /**
   * Compares `key` char by char with the key bytes of `slot` (as many as `key` has chars): 1 when
   * equal, 0 when not, -1 when `key` has a char past ASCII before any difference (then only its
   * UTF-8 can tell: a Latin-1 char equals a byte of some other character's UTF-8).
   */
  #asciiKeyIs(slot: number, key: string): number {
    const arena = this.arena
    const segment = arena.segments[arena.segmentOf[slot]!]!
    const start = arena.offsetOf[slot]! + RECORD_HEADER
    for (let i = 0; i < key.length; i++) {
      const char = key.charCodeAt(i)
      if (char >= 0x80) return -1
      if (char !== segment[start + i]) return 0
    }
    return 1
  }

  /** Whether the key of `slot` is the `length` bytes in the scratch buffer. */
  #keyIs(slot: number, length: number): boolean {
    const arena = this.arena
    const segment = arena.segments[arena.segmentOf[slot]!]!
    const start = arena.offsetOf[slot]! + RECORD_HEADER
    return this.#scratch.compare(segment, start, start + length, 0, length) === 0
  }
}
