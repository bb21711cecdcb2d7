/**
 * Writes put off until the event loop has run every I/O callback that was ready. Each RESP
 * connection, on the server and in the peer client, queues its flush here at most once per turn,
 * and one `setImmediate` runs them all, as Redis writes its replies after its whole batch of reads.
 *
 * Why not at once, or on `nextTick`: every write to a peer that sleeps wakes it, in the writer's
 * time, and the woken process may take the CPU before this one has read its other sockets. Put
 * off, the replies (or requests) that a turn's reads produce leave together, fewer writes wake
 * the other side, and neither node waits on the other mid-batch (BENCHMARKS.md, the #13 A/B table).
 *
 * @module
 */

const queued: (() => void)[] = []

function flushQueued(): void {
  // Taken out first: a flush only writes, so none queues another in this pass, and a flush that
  // throws cannot leave the queue stuck behind a finished immediate.
  const flushes = queued.splice(0)
  for (const flush of flushes) flush()
}

/** Runs `flush` once the event loop's ready I/O callbacks have run; the caller queues each flush once. */
export function flushLater(flush: () => void): void {
  queued.push(flush)
  if (queued.length === 1) setImmediate(flushQueued)
}
