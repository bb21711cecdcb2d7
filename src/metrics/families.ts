/**
 * Every metric a node exports, defined once: its name, help, type, labels and how it is read from
 * `node.stats()`. The `/_burrow/metrics` route renders them as Prometheus text, and
 * `burrow/prometheus` registers them with a prom-client registry. docs/metrics.md lists them.
 *
 * @module
 */
import type { NamespaceStats } from '../namespace/stats.ts'
import type { BurrowStats } from '../stats.ts'
import type { PartStats } from '../store/store.ts'

/** Counters only grow; gauges go up and down. */
export type MetricType = 'counter' | 'gauge'

/** One value of a metric, with its labels. */
export interface Sample {
  labels: Readonly<Record<string, string>>
  value: number
}

/** One metric: what it is called (without the prefix), says, and how to read it. */
export interface MetricDefinition {
  /** The name without the prefix, e.g. `gets_total`. */
  name: string
  help: string
  type: MetricType
  labelNames: readonly string[]
  samples(stats: BurrowStats): Sample[]
}

/** The prefix of every metric name unless told otherwise. */
export const DEFAULT_PREFIX = 'burrow_'

function perNamespace(
  name: string,
  help: string,
  read: (ns: NamespaceStats) => number,
  type: MetricType = 'counter',
): MetricDefinition {
  return {
    name,
    help,
    type,
    labelNames: ['namespace'],
    samples: (stats) =>
      Object.entries(stats.namespaces).map(([namespace, ns]) => ({ labels: { namespace }, value: read(ns) })),
  }
}

/** A metric of the main and the hot cache of each namespace (label `cache`). */
function perCache(
  name: string,
  help: string,
  type: MetricType,
  read: (part: PartStats) => number,
): MetricDefinition {
  return {
    name,
    help,
    type,
    labelNames: ['namespace', 'cache'],
    samples: (stats) =>
      Object.entries(stats.namespaces).flatMap(([namespace, ns]) => [
        { labels: { namespace, cache: 'main' }, value: read(ns.main) },
        { labels: { namespace, cache: 'hot' }, value: read(ns.hot) },
      ]),
  }
}

function ofNode(
  name: string,
  help: string,
  type: MetricType,
  read: (stats: BurrowStats) => number,
): MetricDefinition {
  return { name, help, type, labelNames: [], samples: (stats) => [{ labels: {}, value: read(stats) }] }
}

/** Every metric, in the order they are rendered. */
export const METRICS: readonly MetricDefinition[] = [
  {
    name: 'node_info',
    help: "This node's peer id (label self); always 1.",
    type: 'gauge',
    labelNames: ['self'],
    samples: (stats) => [{ labels: { self: stats.self }, value: 1 }],
  },
  // Reads.
  perNamespace(
    'gets_total',
    'Gets of the namespace on this node (calls of get, and reads served here).',
    (n) => n.gets,
  ),
  perNamespace('hits_total', "Gets answered fresh from this node's main or hot cache.", (n) => n.hits),
  perNamespace(
    'stale_hits_total',
    'Gets answered with a stale value while one refresh ran (staleTtl).',
    (n) => n.staleHits,
  ),
  perNamespace(
    'misses_total',
    'Gets not answered from the cache: gets - hits - stale hits.',
    (n) => n.gets - n.hits - n.staleHits,
  ),
  perNamespace(
    'flights_total',
    'Misses that joined or started a flight (a load here or a fetch from the owner).',
    (n) => n.loads,
  ),
  perNamespace(
    'flights_joined_total',
    'Misses that joined a flight already running: loads saved.',
    (n) => n.loadsDeduped,
  ),
  perNamespace('loads_total', 'Loader calls made on this node.', (n) => n.localLoads),
  perNamespace(
    'load_errors_total',
    'Loader calls on this node that threw or returned a bad value.',
    (n) => n.localLoadErrors,
  ),
  perNamespace('peer_fetches_total', 'Values (or not-founds) fetched from their owner.', (n) => n.peerLoads),
  perNamespace(
    'peer_fetch_errors_total',
    'Fetches from the owner that failed as unreachable (timeout, connection, protocol).',
    (n) => n.peerErrors,
  ),
  perNamespace(
    'fallbacks_total',
    'Keys loaded here because their owner could not answer.',
    (n) => n.fallbackLoads,
  ),
  perNamespace('refreshes_total', 'Background refreshes of stale values started here.', (n) => n.refreshes),
  perNamespace(
    'refresh_errors_total',
    'Background refreshes that failed (the stale value was served on).',
    (n) => n.refreshErrors,
  ),
  perNamespace(
    'handoff_hits_total',
    "Misses of keys this node took over that the previous owner's cache answered.",
    (n) => n.handoffHits,
  ),
  perNamespace(
    'handoff_misses_total',
    'Hand-off asks that found nothing, so the loader ran.',
    (n) => n.handoffMisses,
  ),
  perNamespace(
    'served_requests_total',
    'Requests from other nodes or clients served by this namespace here.',
    (n) => n.serverRequests,
  ),
  perNamespace(
    'not_owner_total',
    'Peer fetches refused here: this node neither owns nor holds the key.',
    (n) => n.notOwner,
  ),
  // Writes.
  perNamespace('sets_total', 'set calls made on this node.', (n) => n.sets),
  perNamespace('deletes_total', 'delete calls made on this node.', (n) => n.deletes),
  perNamespace(
    'stores_total',
    "Values stored here as their owner by a set (this node's or another's).",
    (n) => n.stores,
  ),
  perNamespace('purges_total', 'Purges applied here (by a set or delete from any node).', (n) => n.purges),
  perNamespace(
    'flushes_total',
    'Flushes of the namespace applied here (it missed more purges than are kept).',
    (n) => n.flushes,
  ),
  perNamespace(
    'write_races_total',
    'Loads or fetches not cached because a write of the key came first.',
    (n) => n.writeRaces,
  ),
  perNamespace(
    'unreachable_peers_total',
    'Purges or stores of writes that could not reach a peer.',
    (n) => n.unreachablePeers,
  ),
  // The caches.
  perNamespace('expired_total', 'Entries dropped because they had expired.', (n) => n.expired),
  perCache('evictions_total', 'Entries evicted to make room.', 'counter', (c) => c.evictions),
  perCache(
    'cache_bytes',
    'Bytes held (keys, values and a fixed overhead per entry).',
    'gauge',
    (c) => c.bytes,
  ),
  perCache('cache_entries', 'Entries held.', 'gauge', (c) => c.items),
  perNamespace(
    'cache_max_bytes',
    'The byte budget shared by the main and hot caches.',
    (n) => n.maxBytes,
    'gauge',
  ),
  perNamespace(
    'admission_rejections_total',
    'New entries and hot copies refused by W-TinyLFU: asked for less often than what they would displace.',
    (n) => n.admission.rejections,
  ),
  perNamespace(
    'admission_misses_total',
    'Misses W-TinyLFU learned from: of keys this node may keep (its own, or any with hot copies on), and peeks.',
    (n) => n.admission.misses,
  ),
  perNamespace(
    'admission_window_ratio',
    "The W-TinyLFU window's share of the byte budget, steered by the misses of keys that recently left (0 under LRU).",
    (n) => n.admission.windowShare,
    'gauge',
  ),
  perNamespace(
    'offheap_bytes',
    "Bytes of the off-heap segments allocated (storage: 'offheap'; 0 on the heap).",
    (n) => n.storage.offHeapBytes,
    'gauge',
  ),
  // Membership.
  ofNode('peers', "Peers on this node's ring (live, this node included).", 'gauge', (s) => s.peers.length),
  ofNode(
    'peers_down',
    'Listed peers found down, off the ring until they answer.',
    'gauge',
    (s) => s.down.length,
  ),
  ofNode('ring_changes_total', "Times this node's ring changed.", 'counter', (s) => s.ringChanges),
  ofNode(
    'owed_purges',
    'Purges owed to peers that missed them, delivered when they answer.',
    'gauge',
    (s) => s.owedPurges,
  ),
  // The load gate.
  ofNode(
    'loads_running',
    'Loader calls running now (bounded by maxConcurrentLoads).',
    'gauge',
    (s) => s.loads.running,
  ),
  ofNode(
    'loads_queued',
    'Loads waiting for a turn (bounded by maxQueuedLoads).',
    'gauge',
    (s) => s.loads.queued,
  ),
  ofNode(
    'loads_overloaded_total',
    'Loads refused with BURROW_ERR_OVERLOADED.',
    'counter',
    (s) => s.loads.overloaded,
  ),
  // The peer client.
  ofNode(
    'peer_requests_total',
    'Requests sent to peers (fetches, writes, probes).',
    'counter',
    (s) => s.peerClient.requests,
  ),
  ofNode(
    'peer_request_timeouts_total',
    'Requests to peers that ran past peerTimeoutMs.',
    'counter',
    (s) => s.peerClient.timeouts,
  ),
  ofNode(
    'peer_request_failures_total',
    'Requests to peers failed by a connection that failed or closed, or a malformed reply.',
    'counter',
    (s) => s.peerClient.failures,
  ),
  ofNode(
    'peer_requests_in_flight',
    'Requests to peers sent and not answered yet.',
    'gauge',
    (s) => s.peerClient.inFlight,
  ),
  ofNode('peer_connections', 'Connections to peers open now.', 'gauge', (s) => s.peerClient.connectionsOpen),
  ofNode(
    'peer_connections_opened_total',
    'Connections to peers opened.',
    'counter',
    (s) => s.peerClient.connectionsOpened,
  ),
  // The port.
  ofNode('server_listening', '1 while the port is served, else 0.', 'gauge', (s) => (s.listening ? 1 : 0)),
  ofNode(
    'server_connections',
    'Connections to the port open now (clients and peers).',
    'gauge',
    (s) => s.server.connections,
  ),
  ofNode(
    'server_refused_total',
    'Connections refused on arrival: maxConnections were open.',
    'counter',
    (s) => s.server.refused,
  ),
  ofNode(
    'server_timed_out_total',
    'Connections cut off: a request did not arrive within requestTimeoutMs.',
    'counter',
    (s) => s.server.timedOut,
  ),
  ofNode(
    'server_overflowed_total',
    'Connections cut off: their client left more than maxReplyBufferBytes of replies unread.',
    'counter',
    (s) => s.server.overflowed,
  ),
  // Busy polling.
  ofNode(
    'busy_poll_spins_total',
    'Spins of busy polling started (busyPollMicros): reads came within the budget of each other.',
    'counter',
    (s) => s.busyPoll.spins,
  ),
  ofNode(
    'busy_poll_timed_out_total',
    'Spins of busy polling that ran their budget out with nothing read or written.',
    'counter',
    (s) => s.busyPoll.timedOut,
  ),
  ofNode(
    'busy_poll_vain_total',
    'Spins of busy polling stopped because their polls mostly found nothing to read.',
    'counter',
    (s) => s.busyPoll.vain,
  ),
]
