/**
 * A namespace's counters, in the spirit of groupcache's `Stats`: plain numbers that only grow.
 *
 * @module
 */
import type { AdmissionStats, PartStats, StorageStats } from '../store/store.ts'

/** The counters a namespace keeps; every one starts at 0 and only grows. */
export interface NamespaceCounters {
  /** Calls of `get` (and reads through this node from its servers). */
  gets: number
  /** Gets answered from the main or the hot cache, fresh. */
  hits: number
  /** Gets answered with a stale value while a refresh ran (`staleTtl`). */
  staleHits: number
  /** Gets that missed the cache and joined or started a flight. */
  loads: number
  /** Misses that joined a flight already running, so no second load was made. */
  loadsDeduped: number
  /** Loader calls made on this node. */
  localLoads: number
  /** Loader calls made on this node that threw or returned a bad value. */
  localLoadErrors: number
  /** Values (or not-founds) fetched from their owner. */
  peerLoads: number
  /** Fetches from an owner that failed (timeout, unreachable, protocol error). */
  peerErrors: number
  /** Of the peer errors, those answered by loading here instead (`peerFallback`). */
  fallbackLoads: number
  /** Background refreshes of stale values started here. */
  refreshes: number
  /** Background refreshes that failed (the stale value went on being served). */
  refreshErrors: number
  /** Requests that other nodes (or HTTP/RESP clients) sent to this namespace here. */
  serverRequests: number
  /** Peer fetches refused because this node neither owns nor holds the key (`BURROW_ERR_NOT_OWNER`). */
  notOwner: number
  /** `set` calls made on this node. */
  sets: number
  /** `delete` calls made on this node. */
  deletes: number
  /** Values stored here as their owner by a `set` (from this node or another). */
  stores: number
  /** Purges applied here (by a `set` or `delete` from this node or another). */
  purges: number
  /** Flushes applied here: this node missed more purges while cut off than a peer keeps for it. */
  flushes: number
  /** Loads or peer fetches whose result was not cached because a write of the key came first. */
  writeRaces: number
  /** Purges or stores this node could not deliver to a peer. */
  unreachablePeers: number
  /** Misses of keys this node took over that the previous owner's cache answered (warm hand-off). */
  handoffHits: number
  /** Hand-off asks that found nothing (or failed) at the previous owner, so the loader ran. */
  handoffMisses: number
}

/** Counters and sizes of one namespace, as found in `node.stats().namespaces[name]`. */
export interface NamespaceStats extends NamespaceCounters {
  /** Entries dropped because they had expired. */
  expired: number
  /** The main cache: values this node owns or loaded itself. */
  main: PartStats
  /** The hot cache: copies of values owned by other nodes. */
  hot: PartStats
  /** The eviction policy at work: its segments, the window's share, rejections. */
  admission: AdmissionStats
  /** Where entries are kept (`storage`) and, off the heap, the segments' bytes. */
  storage: StorageStats
  /** The byte budget shared by main and hot. */
  maxBytes: number
}

export function newCounters(): NamespaceCounters {
  return {
    gets: 0,
    hits: 0,
    staleHits: 0,
    loads: 0,
    loadsDeduped: 0,
    localLoads: 0,
    localLoadErrors: 0,
    peerLoads: 0,
    peerErrors: 0,
    fallbackLoads: 0,
    refreshes: 0,
    refreshErrors: 0,
    serverRequests: 0,
    notOwner: 0,
    sets: 0,
    deletes: 0,
    stores: 0,
    purges: 0,
    flushes: 0,
    writeRaces: 0,
    unreachablePeers: 0,
    handoffHits: 0,
    handoffMisses: 0,
  }
}
