/**
 * The index from a key's hash to its slot, in typed arrays: what both kinds of {@link Slots} find
 * their entries with, in place of a `Map` (which costs ~37 bytes per entry at 100,000 keys; this
 * costs ~10).
 *
 * Open addressing with linear probing over `buckets` (slot + 1 in each, 0 for an empty bucket),
 * and each slot's full hash in `hashes`, so a probe rejects other keys without reading them and a
 * rebuild never hashes a key again. At most three buckets in four are full: the table grows by
 * half while small and by an eighth past 65,536 buckets, so its length is no power of two and a
 * key's first bucket comes from the hash's high bits (`homeOf`). Removal shifts the rest of a run
 * back, so there are no tombstones and a lookup of a missing key stops at the first empty bucket.
 * `hashes` is sized by the caller (`growSlots`), and may hold the hashes of slots not in the table.
 *
 * The lookup itself is written out where the keys are compared (`HeapSlots.find`,
 * `ArenaSlots.find`): it is the hit path.
 *
 * @module
 */

/** The first bucket probed for `hash` in a table of `length` buckets: the hash's high bits, scaled. */
export function homeOf(hash: number, length: number): number {
  return ((hash * length) / 4294967296) >>> 0
}

/** Puts `entry` (slot + 1) into the first empty bucket from its home on; returns how far on. */
function place(buckets: Uint32Array, entry: number, hash: number): number {
  const length = buckets.length
  let bucket = homeOf(hash, length)
  let probes = 0
  while (buckets[bucket] !== 0) {
    if (++bucket === length) bucket = 0
    probes++
  }
  buckets[bucket] = entry
  return probes
}

/** Past this many buckets the table grows by an eighth instead of by half. */
const GROW_SLOWER = 65_536

/** Slot numbers by their keys' hashes. */
export class KeyTable {
  /** For each slot, the hash of its key (written by `add`, or by the caller for a slot kept elsewhere). */
  hashes: Uint32Array
  /** Slot + 1 per bucket; 0: empty. */
  buckets = new Uint32Array(16)
  /** Slots in the table. */
  #count = 0

  /** A table for slots below `slots`. */
  constructor(slots: number) {
    this.hashes = new Uint32Array(slots)
  }

  /**
   * Enters `slot`, whose key hashes to `hash`; returns how many buckets past its home it went. The
   * slot must not be in the table.
   */
  add(slot: number, hash: number): number {
    this.hashes[slot] = hash
    const full = this.buckets.length
    if (++this.#count * 4 > full * 3) this.#rebuild(full + (full < GROW_SLOWER ? full >> 1 : full >> 3))
    return place(this.buckets, slot + 1, hash)
  }

  /** Takes `slot` out, shifting back the entries after it in its run that may fill its bucket. */
  remove(slot: number): void {
    const buckets = this.buckets
    const hashes = this.hashes
    const length = buckets.length
    let hole = homeOf(hashes[slot]!, length)
    while (buckets[hole] !== slot + 1) if (++hole === length) hole = 0
    buckets[hole] = 0
    this.#count--
    let bucket = hole
    for (;;) {
      if (++bucket === length) bucket = 0
      const entry = buckets[bucket]!
      if (entry === 0) return
      const home = homeOf(hashes[entry - 1]!, length)
      // The entry may move back into the hole unless its home lies cyclically in (hole, bucket].
      const stays = hole < bucket ? home > hole && home <= bucket : home > hole || home <= bucket
      if (!stays) {
        buckets[hole] = entry
        buckets[bucket] = 0
        hole = bucket
      }
    }
  }

  /** The slots in the table, in bucket order. */
  *slots(): IterableIterator<number> {
    const buckets = this.buckets
    for (let bucket = 0; bucket < buckets.length; bucket++)
      if (buckets[bucket] !== 0) yield buckets[bucket]! - 1
  }

  /** A table of no slots that keeps these hashes: what a store that gave up its table goes on with. */
  emptied(): KeyTable {
    const table = new KeyTable(0)
    table.hashes = this.hashes
    return table
  }

  /** Makes room in `hashes` for slots below `slots` (more than now). */
  growSlots(slots: number): void {
    const hashes = new Uint32Array(slots)
    hashes.set(this.hashes)
    this.hashes = hashes
  }

  #rebuild(length: number): void {
    const old = this.buckets
    const buckets = new Uint32Array(length)
    for (let bucket = 0; bucket < old.length; bucket++) {
      const entry = old[bucket]!
      if (entry !== 0) place(buckets, entry, this.hashes[entry - 1]!)
    }
    this.buckets = buckets
  }
}
