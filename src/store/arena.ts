/**
 * Bytes kept outside the JS heap, for a store whose `storage` is `'offheap'`: a log of records in
 * fixed-size segments (Buffers of their own, allocated as they are needed).
 *
 * A record is a slot's bytes (its key, then its value) behind an 8-byte header: the slot it belongs
 * to and the payload's length. Records are appended to the *head* segment. When the head is full,
 * the segment with the fewest live bytes is compacted where it lies (its live records slid to its
 * start, in order) and becomes the head; a new segment is allocated instead while every segment is
 * more than {@link COMPACT_BELOW} live and the arena is below its cap. A record is live while its
 * slot's location still points at it: a record of a slot removed or rewritten is dead, and its
 * bytes are reclaimed by the next compaction of its segment.
 *
 * Compaction moves at most `COMPACT_BELOW / (1 - COMPACT_BELOW)` bytes per byte it frees (9), and
 * usually far fewer (0.8–2.7 measured by `bench/storage-costs.mjs`): a cache evicts its coldest
 * entries, which leaves some segments nearly empty.
 * Nothing here is a JS object per entry, so a cache of millions of entries gives the garbage
 * collector nothing to trace, and no evicted value waits for a collection to be freed.
 *
 * @module
 */

/** Bytes before each record's payload: the slot (u32) and the payload's length (u32). */
export const RECORD_HEADER = 8
/** A new segment is allocated rather than compacting one that is more than this share live. */
const COMPACT_BELOW = 0.9
/** Segments are a power of two between these, about an eighth of the budget. */
const MIN_SEGMENT = 64 * 1024
const MAX_SEGMENT = 1024 * 1024
/** A slot with no record. */
const NOWHERE = 0xffffffff

/** Segments of records, with each slot's location. */
export class Arena {
  /** Bytes per segment. */
  readonly segmentBytes: number
  /** The largest record kept here (header included): an eighth of a segment. */
  readonly maxRecordBytes: number
  /** The segments, by number. */
  readonly segments: Buffer[] = []
  /** For each slot, the segment and the offset of its record's header (`NOWHERE`: none). */
  segmentOf = new Uint32Array(16).fill(NOWHERE)
  offsetOf = new Uint32Array(16).fill(NOWHERE)
  /** Per segment: bytes of live records (headers included), and the end of the last record. */
  #live: number[] = []
  #end: number[] = []
  #head = -1
  #maxSegments: number
  #records = 0
  /** Bytes moved by compaction, ever (for stats and tests). */
  #moved = 0

  /**
   * An arena for a store of `maxBytes`: segments of about an eighth of it (64 KiB to 1 MiB), and at
   * most enough of them for 1.25 × `maxBytes` of records plus one segment.
   */
  constructor(maxBytes: number) {
    let segment = MIN_SEGMENT
    while (segment < MAX_SEGMENT && segment * 2 <= maxBytes / 8) segment *= 2
    this.segmentBytes = segment
    this.maxRecordBytes = segment / 8
    this.#maxSegments = Math.ceil((1.25 * maxBytes) / segment) + 1
  }

  /** Bytes of the segments allocated (what the arena adds to the process's memory). */
  get bytes(): number {
    return this.segments.length * this.segmentBytes
  }

  /** Bytes copied by compaction so far. */
  get moved(): number {
    return this.#moved
  }

  /** Makes room for the locations of slots below `capacity`. */
  grow(capacity: number): void {
    const segmentOf = new Uint32Array(capacity).fill(NOWHERE)
    const offsetOf = new Uint32Array(capacity).fill(NOWHERE)
    segmentOf.set(this.segmentOf)
    offsetOf.set(this.offsetOf)
    this.segmentOf = segmentOf
    this.offsetOf = offsetOf
  }

  /**
   * Appends a record of `length` payload bytes for `slot` (which has none) and points the slot at
   * it; the caller writes the payload at `offsetOf[slot] + RECORD_HEADER` of its segment. Returns
   * false, placing nothing, when the record is larger than {@link maxRecordBytes} or (which the cap
   * makes impossible while the store keeps its budget) no segment can take it.
   */
  place(slot: number, length: number): boolean {
    const size = RECORD_HEADER + length
    if (size > this.maxRecordBytes) return false
    let head = this.#head
    if (head < 0 || this.#end[head]! + size > this.segmentBytes) {
      head = this.#nextHead(size)
      if (head < 0) return false
      this.#head = head
    }
    const segment = this.segments[head]!
    const offset = this.#end[head]!
    segment.writeUInt32LE(slot, offset)
    segment.writeUInt32LE(length, offset + 4)
    this.#end[head] = offset + size
    this.#live[head]! += size
    this.segmentOf[slot] = head
    this.offsetOf[slot] = offset
    this.#records++
    return true
  }

  /** Marks the record of `slot` dead (if it has one); once no record is live, all but one segment are freed. */
  release(slot: number): void {
    const number = this.segmentOf[slot]!
    if (number === NOWHERE) return
    const segment = this.segments[number]!
    const offset = this.offsetOf[slot]!
    this.#live[number]! -= RECORD_HEADER + segment.readUInt32LE(offset + 4)
    this.segmentOf[slot] = NOWHERE
    this.offsetOf[slot] = NOWHERE
    if (--this.#records === 0) this.#clear()
  }

  /** The segment (allocated or compacted) that becomes the head for a record of `size` bytes; -1 if none can. */
  #nextHead(size: number): number {
    let emptiest = -1
    for (let number = 0; number < this.segments.length; number++) {
      if (emptiest < 0 || this.#live[number]! < this.#live[emptiest]!) emptiest = number
    }
    const room = emptiest < 0 ? 0 : this.segmentBytes - this.#live[emptiest]!
    const enough = Math.max(size, (1 - COMPACT_BELOW) * this.segmentBytes)
    if (room < enough && this.segments.length < this.#maxSegments) {
      this.segments.push(Buffer.allocUnsafeSlow(this.segmentBytes))
      this.#live.push(0)
      this.#end.push(0)
      return this.segments.length - 1
    }
    if (room < size) return -1
    this.#compact(emptiest)
    return emptiest
  }

  /**
   * Slides the live records of segment `number` to its start, keeping their order: each run of
   * adjacent live records moves in one copy, once all of its headers have been read.
   */
  #compact(number: number): void {
    const segment = this.segments[number]!
    const end = this.#end[number]!
    let to = 0
    let run = -1
    let runTo = 0
    for (let from = 0; from < end; ) {
      const slot = segment.readUInt32LE(from)
      const size = RECORD_HEADER + segment.readUInt32LE(from + 4)
      if (this.segmentOf[slot] === number && this.offsetOf[slot] === from) {
        if (run < 0) {
          run = from
          runTo = to
        }
        this.offsetOf[slot] = to
        to += size
      } else if (run >= 0) {
        this.#move(segment, run, from, runTo)
        run = -1
      }
      from += size
    }
    if (run >= 0) this.#move(segment, run, end, runTo)
    this.#end[number] = to
  }

  #move(segment: Buffer, from: number, end: number, to: number): void {
    if (from === to) return
    segment.copyWithin(to, from, end)
    this.#moved += end - from
  }

  /** Frees every segment but the first, which becomes an empty head (no record is live). */
  #clear(): void {
    this.segments.length = 1
    this.#live.length = 1
    this.#end.length = 1
    this.#live[0] = 0
    this.#end[0] = 0
    this.#head = 0
  }
}
