/**
 * Belady's optimal replacement (MIN), computed offline on a whole trace: the best hit ratio any
 * cache of the same capacity could reach, knowing the future. O(n log n): one backward pass for
 * next-use positions, then a max-heap keyed by next use, with stale heap entries skipped lazily.
 *
 * @module
 */

/**
 * For each position i, the next position at which trace[i] is requested again; a key never seen
 * again gets `trace.length + key`, which is beyond every real position and distinct per key.
 *
 * @param {Int32Array} trace key ids
 * @param {number} keyCount ids are in [0, keyCount)
 * @returns {Int32Array}
 */
export function nextUses(trace, keyCount) {
  const next = new Int32Array(trace.length)
  const seenAt = new Int32Array(keyCount).fill(-1)
  for (let i = trace.length - 1; i >= 0; i--) {
    const key = trace[i]
    next[i] = seenAt[key] === -1 ? trace.length + key : seenAt[key]
    seenAt[key] = i
  }
  return next
}

/** A binary max-heap of (priority, key) pairs in two typed arrays. */
class MaxHeap {
  /** @param {number} capacity most pairs ever held at once */
  constructor(capacity) {
    this.prio = new Int32Array(capacity)
    this.keys = new Int32Array(capacity)
    this.size = 0
  }

  push(prio, key) {
    let i = this.size++
    // Sift up: move parents down until the new pair's place is found.
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.prio[parent] >= prio) break
      this.prio[i] = this.prio[parent]
      this.keys[i] = this.keys[parent]
      i = parent
    }
    this.prio[i] = prio
    this.keys[i] = key
  }

  pop() {
    const last = --this.size
    const prio = this.prio[last]
    const key = this.keys[last]
    let i = 0
    // Sift down the former last pair from the root.
    for (;;) {
      let child = 2 * i + 1
      if (child >= last) break
      if (child + 1 < last && this.prio[child + 1] > this.prio[child]) child++
      if (this.prio[child] <= prio) break
      this.prio[i] = this.prio[child]
      this.keys[i] = this.keys[child]
      i = child
    }
    this.prio[i] = prio
    this.keys[i] = key
  }
}

/**
 * Hits of Belady's MIN with `capacity` entries on `trace`.
 *
 * With `bypass` (the default) a missed key whose next use is farther than that of every cached
 * key is not admitted at all, which is the true optimum for a cache that may decline to store a
 * value (as an admission policy does). Without it, every miss is admitted and the key used
 * farthest in the future (among the old ones) is evicted: the classic demand-paging MIN.
 *
 * @param {Int32Array} trace
 * @param {Int32Array} next from {@link nextUses}
 * @param {number} keyCount
 * @param {number} capacity
 * @param {{ bypass?: boolean }} [options]
 * @returns {number} hits
 */
export function optimalHits(trace, next, keyCount, capacity, { bypass = true } = {}) {
  // cachedNext[key]: the next use of a cached key (which is also its live heap priority), -1 if absent.
  const cachedNext = new Int32Array(keyCount).fill(-1)
  const heap = new MaxHeap(trace.length + 1)
  let size = 0
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = trace[i]
    const nu = next[i]
    if (cachedNext[key] !== -1) {
      hits++
      cachedNext[key] = nu
      heap.push(nu, key) // the old pair for this key is now stale
      continue
    }
    if (size < capacity) {
      cachedNext[key] = nu
      heap.push(nu, key)
      size++
      continue
    }
    // Drop stale pairs until the root is a cached key with its current next use.
    while (cachedNext[heap.keys[0]] !== heap.prio[0]) heap.pop()
    if (bypass && heap.prio[0] < nu) continue // the newcomer is the one needed last: keep it out
    cachedNext[heap.keys[0]] = -1
    heap.pop()
    cachedNext[key] = nu
    heap.push(nu, key)
  }
  return hits
}
