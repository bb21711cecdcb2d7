/**
 * Entries by the time they die (their deadline, plus the stale window for main entries), soonest
 * first: a binary min-heap in two typed arrays, so that when room is needed the store drops dead
 * entries before it evicts a live one. Records are not removed when an entry leaves or gets a new
 * deadline; the store checks each record it pops against the slot's current deadline and skips
 * the ones that no longer match, and rebuilds the heap when stale records outnumber live ones.
 *
 * @module
 */

/** A min-heap of (time, slot) records. */
export class ExpiryQueue {
  #times = new Float64Array(16)
  #slots = new Uint32Array(16)
  #size = 0

  /** Records held, stale ones included. */
  get size(): number {
    return this.#size
  }

  /** The soonest time held, or `Infinity` when empty. */
  get soonest(): number {
    return this.#size === 0 ? Number.POSITIVE_INFINITY : this.#times[0]!
  }

  /** The slot of the soonest record (the queue must not be empty). */
  get soonestSlot(): number {
    return this.#slots[0]!
  }

  push(time: number, slot: number): void {
    if (this.#size === this.#times.length) this.#grow()
    let i = this.#size++
    // Sift up: move parents down until the new record's place is found.
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.#times[parent]! <= time) break
      this.#times[i] = this.#times[parent]!
      this.#slots[i] = this.#slots[parent]!
      i = parent
    }
    this.#times[i] = time
    this.#slots[i] = slot
  }

  /** Drops the soonest record. */
  pop(): void {
    const last = --this.#size
    if (last === 0) return
    const time = this.#times[last]!
    const slot = this.#slots[last]!
    let i = 0
    // Sift the former last record down from the root.
    for (;;) {
      let child = 2 * i + 1
      if (child >= last) break
      if (child + 1 < last && this.#times[child + 1]! < this.#times[child]!) child++
      if (this.#times[child]! >= time) break
      this.#times[i] = this.#times[child]!
      this.#slots[i] = this.#slots[child]!
      i = child
    }
    this.#times[i] = time
    this.#slots[i] = slot
  }

  /** Empties the queue. */
  clear(): void {
    this.#size = 0
  }

  #grow(): void {
    const times = new Float64Array(this.#times.length * 2)
    const slots = new Uint32Array(this.#slots.length * 2)
    times.set(this.#times)
    slots.set(this.#slots)
    this.#times = times
    this.#slots = slots
  }
}
