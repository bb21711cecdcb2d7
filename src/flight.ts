/**
 * Single-flight: concurrent misses of one key share one load. The first caller starts the flight;
 * every later caller waits on the same promise until it settles.
 *
 * @module
 */

/** In-progress loads by key. */
export class Flights<T> {
  #running = new Map<string, Promise<T>>()

  /** How many loads are in progress. */
  get size(): number {
    return this.#running.size
  }

  /** The flight of `key`, if one is in progress. */
  get(key: string): Promise<T> | undefined {
    return this.#running.get(key)
  }

  /**
   * Starts a flight for `key` running `load`, and forgets it once it settles. The caller must
   * check {@link get} first; starting a second flight for a running key is a bug.
   */
  start(key: string, load: () => Promise<T>): Promise<T> {
    const flight = load()
    this.#running.set(key, flight)
    // then(…, …) rather than finally(): a derived promise that rejects would go unhandled.
    const forget = (): void => {
      if (this.#running.get(key) === flight) this.#running.delete(key)
    }
    flight.then(forget, forget)
    return flight
  }
}

/**
 * Waits for `promise`, or rejects with `signal.reason` as soon as `signal` aborts. The promise
 * itself goes on for its other waiters.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
