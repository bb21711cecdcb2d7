/**
 * Seeded random numbers and Zipf-distributed key traces, so that every run of the bench (and
 * every implementation inside one run) sees exactly the same sequence of keys.
 *
 * @module
 */

/**
 * A small seeded generator: Marsaglia's xorshift32 state step, with a multiplicative scramble of
 * the output (the low bits of plain xorshift are weak). Returns numbers in [0, 1).
 *
 * @param {number} seed any integer; 0 is remapped because an all-zero state never leaves zero
 * @returns {() => number}
 */
export function seededRandom(seed) {
  // Spread the seed over all 32 bits first so that seeds 1, 2, 3 start far apart.
  let state = Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) >>> 0 || 0x6d2b79f5
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return (Math.imul(state, 0x2545f491) >>> 0) / 4294967296
  }
}

/**
 * Cumulative Zipf(s) probabilities over ranks 0..n-1, where rank r has weight 1 / (r + 1)^s.
 *
 * @param {number} n number of distinct keys
 * @param {number} s skew (0.99 for the classic cache-benchmark workload)
 * @returns {Float64Array} cdf[r] = P(rank <= r); cdf[n - 1] === 1
 */
export function zipfCdf(n, s) {
  const cdf = new Float64Array(n)
  let total = 0
  for (let r = 0; r < n; r++) {
    total += 1 / (r + 1) ** s
    cdf[r] = total
  }
  for (let r = 0; r < n; r++) cdf[r] /= total
  cdf[n - 1] = 1
  return cdf
}

/**
 * A sampler of Zipf ranks: inverts the CDF by binary search (O(log n) per draw).
 *
 * @param {number} n number of distinct keys
 * @param {number} s skew
 * @param {() => number} random uniform source in [0, 1)
 * @returns {() => number} draws a rank in [0, n), rank 0 being the most popular
 */
export function zipfSampler(n, s, random) {
  const cdf = zipfCdf(n, s)
  return () => {
    const u = random()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/**
 * A trace of `length` Zipf-distributed key ranks.
 *
 * @param {{ keys: number, length: number, skew?: number, seed?: number }} options
 * @returns {Int32Array}
 */
export function zipfTrace({ keys, length, skew = 0.99, seed = 1 }) {
  const draw = zipfSampler(keys, skew, seededRandom(seed))
  const trace = new Int32Array(length)
  for (let i = 0; i < length; i++) trace[i] = draw()
  return trace
}
