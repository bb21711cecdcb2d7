/**
 * The size of the W-TinyLFU window, steered by ghosts (the idea behind ARC's ghost lists). Two
 * {@link GhostFilter}s remember the keys that recently left the store: those that left the window
 * and lost their place in main (*rejected*), and those evicted from main to make room
 * (*evicted*). A miss of a rejected key is a hit that a larger window would have had; a miss of
 * an evicted key, one that a larger main would have had. When the misses of one kind outnumber
 * the other's by {@link THRESHOLD}, the window moves that way by {@link STEP_ENTRIES} entries'
 * worth. A trace whose popular keys stay popular brings evicted keys back and keeps the window
 * small (frequency decides); one whose popularity moves brings rejected keys back and grows it,
 * up to nearly the whole budget (recency decides).
 *
 * Evidence must pile up before a move because every move costs something: growing the window
 * evicts a main entry without a contest, and shrinking it admits window entries to main without
 * one. On a stationary trace the two kinds of misses come about equally often, and their
 * difference wanders like a random walk, so a threshold of T net misses moves the window about T
 * times less often than a trace that favours one side.
 *
 * @module
 */
import { GhostFilter } from './ghosts.ts'

/** The window's share of the budget when a store starts, and the least it shrinks to. */
export const MIN_WINDOW = 0.01
/** The most the window's share grows to: at least 1 % of the budget stays for frequency. */
export const MAX_WINDOW = 0.99
/** Net misses of one kind (rejected minus evicted, or the reverse) that move the window. */
export const THRESHOLD = 32
/** Entries the window moves by, in one move. */
const STEP_ENTRIES = 32
/** The largest move, as a share of the budget (what a move is in a small store). */
const MAX_STEP = 1 / 16
/** Each ghost filter remembers the keys of this share of the entries held. */
const GHOST_SHARE = 0.5
/** Tells the evicted ghosts' hashes from the rejected ones'. */
const EVICTED_SALT = 0x5bd1e995

/** Sizes the window from the misses of keys that recently left it or main. */
export class WindowController {
  #share = MIN_WINDOW
  /** A move, as a share of the budget. */
  #step = MAX_STEP
  /** Misses of rejected keys minus misses of evicted keys, since the last move. */
  #balance = 0
  #rejected: GhostFilter
  #evicted: GhostFilter

  /** A controller for a store of about `entries` entries; `salt` keys its ghost filters. */
  constructor(entries: number, salt: number) {
    this.#rejected = new GhostFilter(64, salt)
    this.#evicted = new GhostFilter(64, salt ^ EVICTED_SALT)
    this.resize(entries)
  }

  /** The window's share of the budget, from {@link MIN_WINDOW} to {@link MAX_WINDOW}. */
  get share(): number {
    return this.#share
  }

  /** Bytes the ghost filters take. */
  get bytes(): number {
    return this.#rejected.bytes + this.#evicted.bytes
  }

  /** Sizes the ghosts and the step for a store of `entries` entries. */
  resize(entries: number): void {
    const held = Math.max(64, entries)
    this.#rejected.resize(Math.ceil(held * GHOST_SHARE))
    this.#evicted.resize(Math.ceil(held * GHOST_SHARE))
    this.#step = Math.min(MAX_STEP, STEP_ENTRIES / held)
  }

  /** The key of hash `hash` left the window and lost its place in main. */
  rejected(hash: number): void {
    this.#rejected.add(hash)
  }

  /** The key of hash `hash` was evicted from main. */
  evicted(hash: number): void {
    this.#evicted.add(hash)
  }

  /** The key of hash `hash` was asked for and is not held: counts it if it left lately. */
  missed(hash: number): void {
    if (this.#rejected.has(hash)) {
      if (++this.#balance < THRESHOLD) return
      this.#share = Math.min(MAX_WINDOW, this.#share + this.#step)
    } else if (this.#evicted.has(hash)) {
      if (--this.#balance > -THRESHOLD) return
      this.#share = Math.max(MIN_WINDOW, this.#share - this.#step)
    } else return
    this.#balance = 0
  }
}
