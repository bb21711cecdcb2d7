/**
 * Waiting with an AbortSignal, shared by the namespaces and the peer sources.
 *
 * @module
 */

/**
 * Waits for `promise`, or rejects with `signal.reason` as soon as `signal` aborts. The promise
 * itself goes on for its other waiters: a caller that gives up must not cancel a shared flight.
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
