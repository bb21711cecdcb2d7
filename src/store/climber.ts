/**
 * The size of the W-TinyLFU window, tuned by hill climbing on the hit ratio. A small window suits
 * traces whose popular keys stay popular (frequency decides); a large one suits traces whose
 * popularity moves (recency decides). After each sample of asks the store reports the sample's
 * hit ratio: if it improved, the window keeps moving the same way, otherwise it turns back. Steps
 * shrink as the climb settles and grow again when the hit ratio jumps (the trace changed).
 *
 * @module
 */

/** The window's share of the budget when a store starts. */
export const INITIAL_WINDOW = 0.01
/** The window's share never exceeds this: the rest is for the keys frequency picks. */
export const MAX_WINDOW = 0.8
/** A step, when a climb starts or restarts, as a share of the budget. */
const STEP = 0.0625
/** Each sample, the step shrinks by this factor. */
const DECAY = 0.98
/** A change of the hit ratio this large restarts the climb with a full step. */
const RESTART = 0.05

/** Hill climbing of the window's share of the budget. */
export class WindowClimber {
  #share = INITIAL_WINDOW
  /** The next move, signed: negative shrinks the window. */
  #step = -STEP
  #previous = Number.NaN

  /** The window's share of the budget, from 0 to {@link MAX_WINDOW}. */
  get share(): number {
    return this.#share
  }

  /** Takes the hit ratio of the last sample and moves the window's share. */
  sample(hitRatio: number): void {
    if (Number.isNaN(this.#previous)) {
      this.#previous = hitRatio
      return
    }
    const change = hitRatio - this.#previous
    this.#previous = hitRatio
    const move = change >= 0 ? this.#step : -this.#step
    this.#share = Math.min(MAX_WINDOW, Math.max(0, this.#share + move))
    this.#step = Math.abs(change) >= RESTART ? Math.sign(move) * STEP : move * DECAY
  }
}
