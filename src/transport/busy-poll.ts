/**
 * Busy polling (`busyPollMicros`): once a node's sockets bring traffic again soon after the last,
 * its event loop goes on polling them (a `setImmediate` chain, so libuv polls without blocking)
 * until no socket has read or written anything for the budget, instead of going to sleep at once.
 *
 * Why: a write to a peer that sleeps in `epoll_wait` makes the kernel wake it, in the writer's
 * time, and on a virtual machine that wake-up is dear (BENCHMARKS.md, "Busy polling"). A node that
 * polls is awake when the next batch lands, so the peer writing to it pays none.
 *
 * What it costs is bounded twice: a lone read never starts a spin (it takes two reads within the
 * budget of each other), and once the empty polls of the spins so far (a long one, or many short
 * ones) have taken more time than the turns of the loop that read or wrote, polling stops and
 * none starts again for a while: a node with light but steady traffic does not poll away a core
 * to serve a few requests (at most ~2 ms of polling in vain per 50 ms).
 *
 * @module
 */
import { performance } from 'node:perf_hooks'

/** How much polling a spin does between its checks of what its polls found, in ms. */
const CHECK_EVERY_MS = 2
/** Spinning whose empty polls took more than this share of its time stops (see `#inVain`). */
const MAX_EMPTY_SHARE = 0.5
/** After a spin stopped for polling too much in vain, none starts for this long, in ms. */
const REST_MS = 50

/** Counters of a {@link BusyPoll}. */
export interface BusyPollCounters {
  /** Spins started. */
  spins: number
  /** Spins that ran their budget out with nothing read or written. */
  timedOut: number
  /** Spins stopped because their polls mostly found nothing. */
  vain: number
}

/** The poller of one node: its sockets tell it of every read and write. */
export class BusyPoll {
  readonly #budgetMs: number
  readonly #now: () => number
  /** Reads so far, and writes; and the sum the running spin last saw. */
  #reads = 0
  #writes = 0
  #seen = 0
  /** The time of the last read, or, while spinning, of the last read or write the spin saw. */
  #lastWork = Number.NEGATIVE_INFINITY
  /** When the spin last polled; the time its turns took, with work and without, since the last check. */
  #lastPoll = 0
  #full = 0
  #empty = 0
  /** No spin starts before this time (after a spin in vain). */
  #restUntil = Number.NEGATIVE_INFINITY
  #immediate: NodeJS.Immediate | undefined
  #stopped = false
  /** Spins started, run out, and stopped as in vain, since the node was made (`stats().busyPoll`). */
  readonly counters: BusyPollCounters = { spins: 0, timedOut: 0, vain: 0 }

  /** `micros`: how long to go on polling after the last read or write, in µs (> 0). `now` in ms. */
  constructor(micros: number, now: () => number = () => performance.now()) {
    this.#budgetMs = micros / 1000
    this.#now = now
  }

  /** True while the event loop is kept polling. */
  get spinning(): boolean {
    return this.#immediate !== undefined
  }

  /** One of the node's sockets read something. */
  read(): void {
    this.#reads++
    if (this.#immediate !== undefined || this.#stopped) return
    const now = this.#now()
    const soon = now - this.#lastWork <= this.#budgetMs
    this.#lastWork = now
    if (!soon || now < this.#restUntil) return
    // The read that starts the spin is work: the first poll books the time until then as full.
    this.#seen = this.#reads + this.#writes - 1
    this.#lastPoll = now
    this.counters.spins++
    this.#immediate = setImmediate(this.#poll)
  }

  /**
   * One of the node's sockets is written to: work, as a read is, for the spin's account (a write
   * comes after the poll that saw its read, and takes longer than it), but it starts no spin.
   */
  wrote(): void {
    this.#writes++
  }

  /** Stops polling for good (the node closes). */
  stop(): void {
    this.#stopped = true
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
  }

  readonly #poll = (): void => {
    const now = this.#now()
    const took = now - this.#lastPoll
    this.#lastPoll = now
    const events = this.#reads + this.#writes
    if (events !== this.#seen) {
      // The loop's turn since the last poll read or wrote something: the time went to work.
      this.#seen = events
      this.#lastWork = now
      this.#full += took
    } else {
      this.#empty += took
    }
    // Short spins add up: many that each ran out in vain make a check in vain too.
    if (this.#full + this.#empty >= CHECK_EVERY_MS && this.#inVain(now)) {
      this.#immediate = undefined
      this.counters.vain++
    } else if (now - this.#lastWork > this.#budgetMs) {
      this.#immediate = undefined
      this.counters.timedOut++
    } else {
      this.#immediate = setImmediate(this.#poll)
    }
  }

  /**
   * After every few ms of spinning (over one spin or many): true when the polls mostly found
   * nothing, and then no spin starts for a while.
   */
  #inVain(now: number): boolean {
    const vain = this.#empty > MAX_EMPTY_SHARE * (this.#full + this.#empty)
    this.#full = 0
    this.#empty = 0
    if (vain) this.#restUntil = now + REST_MS
    return vain
  }
}
