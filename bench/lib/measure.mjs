/**
 * Measuring: closed-loop load with a fixed number of requests in flight, latency percentiles,
 * and medians of repeated rounds. Every loop is bounded both in operations and in time.
 *
 * @module
 */
import { performance } from 'node:perf_hooks'

/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs `op(i)` with `concurrency` calls in flight until `maxOps` calls completed or `maxMs`
 * passed, whichever comes first, and records each call's latency.
 *
 * @param {{ concurrency: number, maxOps: number, maxMs: number, op: (i: number) => Promise<unknown> }} options
 * @returns {Promise<{ ops: number, seconds: number, opsPerSec: number, p50Ms: number, p99Ms: number, maxLatencyMs: number }>}
 */
export async function closedLoop({ concurrency, maxOps, maxMs, op }) {
  const latencies = new Float64Array(maxOps)
  let issued = 0
  let done = 0
  const start = performance.now()
  const deadline = start + maxMs
  let failed = false
  const worker = async () => {
    while (issued < maxOps && !failed) {
      const t0 = performance.now()
      if (t0 >= deadline) return
      const i = issued++
      try {
        await op(i)
      } catch (err) {
        failed = true // the other workers stop at their next turn
        throw err
      }
      latencies[done++] = performance.now() - t0
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - start) / 1000
  const sorted = latencies.slice(0, done).sort()
  const at = (q) => sorted[Math.min(done - 1, Math.max(0, Math.ceil(q * done) - 1))]
  return {
    ops: done,
    seconds,
    opsPerSec: done / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxLatencyMs: sorted[done - 1],
  }
}

/**
 * Repeats `round()` (which does `opsPerRound` operations) after `warmupRounds` unmeasured ones,
 * until `maxRounds` rounds or `maxMs` passed, and returns the median rate and every round's rate.
 * At least one measured round always runs.
 *
 * @param {{ round: () => unknown | Promise<unknown>, opsPerRound: number, warmupRounds: number, maxRounds: number, maxMs: number }} options
 * @returns {Promise<{ opsPerSec: number, rounds: number[] }>}
 */
export async function roundsPerSecond({ round, opsPerRound, warmupRounds, maxRounds, maxMs }) {
  const deadline = performance.now() + maxMs
  for (let i = 0; i < warmupRounds && performance.now() < deadline; i++) await round()
  const rounds = []
  while (rounds.length < maxRounds && (rounds.length === 0 || performance.now() < deadline)) {
    const t0 = performance.now()
    await round()
    rounds.push(opsPerRound / ((performance.now() - t0) / 1000))
  }
  return { opsPerSec: median(rounds), rounds: rounds.map(Math.round) }
}
