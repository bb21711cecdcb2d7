/**
 * The size of the W-TinyLFU window, steered by ghosts (the idea behind ARC's ghost lists). Two
 * {@link GhostFilter}s remember the keys that recently left the store: those that left the window
 * and lost their place in main (*rejected*), and those evicted from main to make room
 * (*evicted*). A miss of a rejected key is a hit that a larger window would have had; a miss of
 * an evicted key, one that a larger main would have had. When the misses of one kind outnumber
 * the other's by {@link THRESHOLD}, the window moves that way. A trace whose popular keys stay
 * popular brings evicted keys back and keeps the window small (frequency decides); one whose
 * popularity moves brings rejected keys back and grows it, up to nearly the whole budget (recency
 * decides).
 *
 * Evidence must pile up before a move because every move costs something: growing the window
 * evicts a main entry without a contest, and shrinking it admits window entries to main without
 * one. On a stationary trace the two kinds of misses come about equally often and their
 * difference wanders like a random walk, so a threshold of T net misses moves the window about T
 * times less often than a trace that favours one side. Moves in the same direction grow by half
 * each time, up to a sixteenth of the budget, so a trace that changed is followed within a few
 * thousand misses; a turn starts again from the smallest move.
 *
 * Two safeguards, for a trace that settles after its popularity moved for a while:
 *
 * - A window near the whole budget leaves main so small that few keys are evicted from it, so the
 *   evicted ghost stays nearly empty and could not bring the window down on a trace that has
 *   become stationary. The window therefore shrinks by {@link LEAK} of the budget every period of
 *   one miss per entry held: recency must keep proving itself.
 * - Main can be left holding keys whose counts are high but stale, that no candidate beats until
 *   the sketch halves its counts (80 asks per entry later): every candidate then loses and comes
 *   back. When misses of rejected keys make up {@link STALE_SHARE} of a period's misses (4–13 %
 *   on the benchmark's traces, a third in that state), {@link missed} says the counts are stale,
 *   and the store halves them at once.
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
/** The first move in a direction, in entries. */
const STEP_ENTRIES = 32
/** Each further move in the same direction is this much larger. */
const STEP_GROWTH = 1.5
/** The largest move, as a share of the budget. */
const MAX_STEP = 1 / 16
/**
 * Keys each ghost filter remembers, per entry held. The evicted ghost looks further back: with
 * equal ghosts the window wandered up to 5–50 % on stationary Zipf traces at 10,000 entries.
 */
const REJECTED_PER_ENTRY = 0.5
const EVICTED_PER_ENTRY = 0.75
/** What the window's share shrinks by, by itself, every period. */
export const LEAK = 0.01
/** The share of a period's misses that, when they are of rejected keys, says the counts are stale. */
export const STALE_SHARE = 0.25
/** Tells the evicted ghost's bits from the rejected one's. */
const EVICTED_SALT = 0x5bd1e995

/** Sizes the window from the misses of keys that recently left it or main. */
export class WindowController {
  #share = MIN_WINDOW
  /** The first move in a direction, and the next one, as shares of the budget. */
  #firstStep = MAX_STEP
  #step = MAX_STEP
  /** The direction of the last move: 1 grew the window, -1 shrank it, 0 none yet. */
  #direction = 0
  /** Misses of rejected keys minus misses of evicted keys, since the last move. */
  #balance = 0
  #rejected: GhostFilter
  #evicted: GhostFilter
  /** Misses in a period (one per entry held), misses so far in this one, and of them the rejected keys'. */
  #period = 64
  #misses = 0
  #rejectedMisses = 0

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

  /** Sizes the ghosts and the moves for a store of `entries` entries. */
  resize(entries: number): void {
    const held = Math.max(64, entries)
    this.#rejected.resize(Math.ceil(held * REJECTED_PER_ENTRY))
    this.#evicted.resize(Math.ceil(held * EVICTED_PER_ENTRY))
    this.#period = held
    this.#firstStep = Math.min(MAX_STEP, STEP_ENTRIES / held)
    this.#step = Math.max(this.#step, this.#firstStep)
  }

  /** The key of hash `hash` left the window and lost its place in main. */
  rejected(hash: number): void {
    this.#rejected.add(hash)
  }

  /** The key of hash `hash` was evicted from main. */
  evicted(hash: number): void {
    this.#evicted.add(hash)
  }

  /**
   * The key of hash `hash` was asked for and is not held: counts it if it left lately. A key that
   * both ghosts claim counts for neither: one of them is likely a false positive, and counting it
   * for either side would tilt the window that way. Returns whether the sketch's counts look
   * stale (at the end of a period only).
   */
  missed(hash: number): boolean {
    const rejected = this.#rejected.has(hash)
    if (rejected) this.#rejectedMisses++
    let stale = false
    if (++this.#misses >= this.#period) {
      this.#share = Math.max(MIN_WINDOW, this.#share - LEAK)
      stale = this.#rejectedMisses >= STALE_SHARE * this.#misses
      this.#misses = 0
      this.#rejectedMisses = 0
    }
    if (rejected === this.#evicted.has(hash)) return stale
    if (rejected) {
      if (++this.#balance >= THRESHOLD) this.#move(1)
    } else if (--this.#balance <= -THRESHOLD) this.#move(-1)
    return stale
  }

  #move(direction: 1 | -1): void {
    this.#step =
      direction === this.#direction ? Math.min(MAX_STEP, this.#step * STEP_GROWTH) : this.#firstStep
    this.#direction = direction
    this.#share = Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, this.#share + direction * this.#step))
    this.#balance = 0
  }
}
