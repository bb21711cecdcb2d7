/**
 * The node's bound on its loader calls: at most `maxConcurrent` run at once, across namespaces,
 * and at most `maxQueued` wait for a turn, first come first served. A load beyond both is refused
 * at once with `BURROW_ERR_OVERLOADED`, so a flood of distinct missing keys costs the data source
 * a bounded load and the node bounded memory.
 *
 * @module
 */
import { channels, type PublishingNode } from './diagnostics.ts'
import { BurrowError } from './errors.ts'

/** Counters of the load gate, as found in `node.stats().loads`. */
export interface LoadGateStats {
  /** Loader calls running now. */
  running: number
  /** Loads waiting for a turn now. */
  queued: number
  /** Loads refused because the queue was full. */
  overloaded: number
}

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
}

/** Admits loads: at once, after a wait, or not at all. */
export class LoadGate {
  readonly #maxConcurrent: number
  readonly #maxQueued: number
  #running = 0
  #queue: Waiter[] = []
  #head = 0
  #overloaded = 0
  #closed: unknown
  readonly #node: PublishingNode

  constructor(maxConcurrent: number, maxQueued: number, signal: AbortSignal, node: PublishingNode) {
    this.#node = node
    this.#maxConcurrent = maxConcurrent
    this.#maxQueued = maxQueued
    signal.addEventListener('abort', () => this.#close(signal.reason), { once: true })
  }

  /**
   * A turn to call the loader: `undefined` when the caller may go now (no promise made on the
   * common path), else a promise that resolves at its turn. Rejects with `BURROW_ERR_OVERLOADED`
   * when the queue is full, with the node's close reason once it closes. Every admitted caller
   * must {@link leave} when its load settles.
   */
  enter(): Promise<void> | undefined {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    if (this.#running < this.#maxConcurrent) {
      this.#running++
      return undefined
    }
    if (this.#queue.length - this.#head >= this.#maxQueued) {
      this.#overloaded++
      if (channels.overload.hasSubscribers)
        channels.overload.publish({
          node: this.#node,
          running: this.#running,
          queued: this.#queue.length - this.#head,
        })
      return Promise.reject(
        new BurrowError(
          'BURROW_ERR_OVERLOADED',
          `this node runs ${this.#maxConcurrent} loads and has ${this.#maxQueued} waiting; the load was refused`,
        ),
      )
    }
    return new Promise((resolve, reject) => this.#queue.push({ resolve, reject }))
  }

  /** A load admitted by {@link enter} settled: the next waiter goes. */
  leave(): void {
    if (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head]!
      this.#queue[this.#head++] = undefined as unknown as Waiter
      // The queue's array is trimmed once half of it is spent.
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      next.resolve() // the slot passes to it: #running stays
      return
    }
    this.#running--
  }

  stats(): LoadGateStats {
    return { running: this.#running, queued: this.#queue.length - this.#head, overloaded: this.#overloaded }
  }

  #close(reason: unknown): void {
    this.#closed = reason
    const waiting = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    for (const waiter of waiting) waiter.reject(reason)
  }
}
