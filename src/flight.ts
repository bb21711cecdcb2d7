/**
 * Single-flight: concurrent misses of one key share one load. The first caller starts the flight;
 * every later caller waits on the same promise until it settles.
 *
 * @module
 */

interface Flight<T> {
  promise: Promise<T>
  reject: (err: unknown) => void
}

/** In-progress loads by key. */
export class Flights<T> {
  #running = new Map<string, Flight<T>>()

  /** How many loads are in progress. */
  get size(): number {
    return this.#running.size
  }

  /** The flight of `key`, if one is in progress. */
  get(key: string): Promise<T> | undefined {
    return this.#running.get(key)?.promise
  }

  /**
   * Starts a flight for `key` running `load`, and forgets it once it settles. The caller must
   * check {@link get} first; starting a second flight for a running key is a bug.
   */
  start(key: string, load: () => Promise<T>): Promise<T> {
    let flight!: Flight<T>
    const promise = new Promise<T>((resolve, reject) => {
      flight = { promise: undefined as unknown as Promise<T>, reject }
      load().then(resolve, reject)
    })
    flight.promise = promise
    this.#running.set(key, flight)
    // then(…, …) rather than finally(): a derived promise that rejects would go unhandled.
    const forget = (): void => {
      if (this.#running.get(key) === flight) this.#running.delete(key)
    }
    promise.then(forget, forget)
    return promise
  }

  /** Rejects every running flight with `err` (the loads themselves are left to their signal). */
  rejectAll(err: (key: string) => unknown): void {
    for (const [key, flight] of this.#running) flight.reject(err(key))
    this.#running.clear()
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
