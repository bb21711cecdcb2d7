/**
 * The key traces of the hit-ratio scenarios, each seeded so every run replays the same requests.
 * Keys are ids in [0, keys + extra); the caller maps them to strings.
 *
 * - `zipf`: stationary Zipf(skew) over `keys` keys.
 * - `scan`: Zipf(0.99) where, in every period of 100,000 requests, the first 20,000 are a batch
 *   job reading keys never asked for before (one-off keys), so a fifth of the trace is scans.
 * - `shift`: Zipf(0.99) whose popular keys change completely every 100,000 requests (each key
 *   rank moves to another id), as when the day's items replace yesterday's.
 * - `drift`: Zipf(0.99) whose popular keys slide, one id every 20 requests, so popularity moves
 *   all the time rather than in steps.
 *
 * @module
 */
import { zipfTrace } from './random.mjs'

export const PERIOD = 100_000
const SCAN_SHARE = 0.2
const SHIFT_STRIDE = 7_919
const DRIFT_EVERY = 20

/**
 * @param {'zipf' | 'scan' | 'shift' | 'drift'} kind
 * @param {{ keys: number, length: number, skew?: number, seed: number }} p
 * @returns {{ trace: Int32Array, keySpace: number }}
 */
export function makeTrace(kind, { keys, length, skew = 0.99, seed }) {
  const base = zipfTrace({ keys, length, skew, seed })
  if (kind === 'zipf') return { trace: base, keySpace: keys }
  const trace = new Int32Array(length)
  if (kind === 'scan') {
    let oneOff = keys
    let next = 0
    for (let i = 0; i < length; i++) {
      trace[i] = i % PERIOD < PERIOD * SCAN_SHARE ? oneOff++ : base[next++]
    }
    return { trace, keySpace: oneOff }
  }
  for (let i = 0; i < length; i++) {
    const offset = kind === 'shift' ? Math.floor(i / PERIOD) * SHIFT_STRIDE : Math.floor(i / DRIFT_EVERY)
    trace[i] = (base[i] + offset) % keys
  }
  return { trace, keySpace: keys }
}

/**
 * Hits of the best fixed set: the cache that holds, from the start, the `capacity` keys the trace
 * asks for most (DESIGN.md §7).
 *
 * @param {Int32Array} trace
 * @param {number} keySpace
 * @param {number} capacity
 */
export function bestFixedHits(trace, keySpace, capacity) {
  const counts = new Int32Array(keySpace)
  for (let i = 0; i < trace.length; i++) counts[trace[i]]++
  counts.sort()
  let hits = 0
  for (let i = 0; i < capacity && i < keySpace; i++) hits += counts[keySpace - 1 - i]
  return hits
}
