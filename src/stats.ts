/**
 * What `node.stats()` returns: a node's counters and sizes, as plain data. A leaf of types only,
 * so the metrics built from it need not import the node.
 *
 * @module
 */
import type { LoadGateStats } from './load-gate.ts'
import type { NamespaceStats } from './namespace/stats.ts'
import type { BusyPollCounters } from './transport/busy-poll.ts'
import type { PeerClientStats } from './transport/client/transport.ts'
import type { ServerStats } from './transport/server/node-server.ts'

/** What `node.stats()` returns: plain data, safe to `JSON.stringify`. */
export interface BurrowStats {
  self: string
  /** The peers on the ring (live). */
  peers: string[]
  /** Listed peers found down, off the ring until they answer again. */
  down: string[]
  /** Times this node's ring changed (peers set, found down, back) since it was made. */
  ringChanges: number
  /**
   * Purges that peers missed because they could not be reached, waiting to be delivered when they
   * answer again (a peer owed too many is owed a flush of the namespace, which counts one).
   */
  owedPurges: number
  /** Loader calls running and waiting on this node, and loads refused as over the bounds. */
  loads: LoadGateStats
  /** The port: connections open now, refused (over `maxConnections`), cut off (`requestTimeoutMs`). */
  server: ServerStats
  listening: boolean
  namespaces: Record<string, NamespaceStats>
  peerClient: PeerClientStats
  /** Busy polling (`busyPollMicros`): spins started, run out with nothing read, stopped as in vain (all 0 when off). */
  busyPoll: BusyPollCounters
}
