/**
 * Replies put off until the event loop has run every I/O callback that was ready. Each RESP
 * connection of the server queues its flush here at most once per turn, and one `setImmediate`
 * runs them all, as Redis writes its replies after its whole batch of reads.
 *
 * Why not at once, or on `nextTick`: every write to a client that sleeps wakes it, in the
 * server's time, and on a busy machine the woken client takes the CPU before the server has read
 * its other sockets (BENCHMARKS.md, the #13 A/B table). The peer client does not use this: its
 * requests leave at the end of their tick, since held back to the turn's end they cost a remote
 * get 11–17 %.
 *
 * @module
 */

const queued: (() => void)[] = []

function flushQueued(): void {
  // Taken out first: a flush only writes, so none queues another in this pass.
  const flushes = queued.splice(0)
  for (const flush of flushes) flush()
}

/**
 * Runs `flush` once the event loop's ready I/O callbacks have run; the caller queues each flush
 * once. A flush must not throw: the ones after it in the pass would not run.
 */
export function flushLater(flush: () => void): void {
  queued.push(flush)
  if (queued.length === 1) setImmediate(flushQueued)
}
