/**
 * What a node asks of the client that talks to its peers, whatever the protocol: burrow's own
 * over RESP (`PeerClient`, the default) or golang/groupcache's over HTTP (`GroupcacheClient`,
 * `protocol: 'groupcache'`). A leaf: it imports nothing but types.
 *
 * @module
 */
import type { StoredValue } from '../../codec.ts'
import type { Answer, WriteTtl } from '../served.ts'

/**
 * Where the outcome of a request goes when the caller takes it by callback rather than as a
 * promise: exactly one of the two is called, once, and never before the call that sent the
 * request has returned. They are called from inside the client (a socket's read, the deadline
 * sweep, a connection closing) and must not throw. The read path's remote flight is one, so a
 * remote get settles its own promise and the client makes none (one promise, one reaction and one
 * microtask fewer per get).
 */
export interface Receiver<T> {
  answered(answer: T): void
  failed(reason: unknown): void
}

/** Counters of the peer client, as found in `node.stats().peerClient`. */
export interface PeerClientStats {
  /** Requests sent. */
  requests: number
  /** Requests that ran past the deadline. */
  timeouts: number
  /** Requests that failed because the connection failed or closed, or the reply was malformed. */
  failures: number
  /** Connections opened so far. */
  connectionsOpened: number
  /** Connections open now. */
  connectionsOpen: number
  /** Requests sent and not answered yet. */
  inFlight: number
}

/**
 * A node's peer client. Every request has a deadline and honours its `signal`; it rejects with a
 * `BurrowError` (the owner's own code, e.g. `BURROW_ERR_LOADER`, or one that says the peer could
 * not answer), or with `signal.reason`.
 */
export interface PeerTransport {
  /** Asks `peer` for `key`, answered from its caches or loaded there; `value` undefined: not found. */
  fetch(peer: string, namespace: string, key: string, signal?: AbortSignal): Promise<Answer>
  /** `fetch`, its outcome told to `to` (see {@link Receiver}). */
  fetchTo(
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal | undefined,
    to: Receiver<Answer>,
  ): void
  /** `peer`'s cached answer, never a load there; `undefined` when it holds none. */
  peek(
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<Answer | undefined>
  /** Stores `value` on `peer`, its owner. */
  store(
    peer: string,
    namespace: string,
    key: string,
    value: StoredValue,
    ttl: WriteTtl,
    signal?: AbortSignal,
  ): Promise<void>
  /** Drops `key` from `peer`'s caches. */
  purge(peer: string, namespace: string, key: string, signal?: AbortSignal): Promise<void>
  /** Drops every key of `namespace` from `peer`'s caches. */
  flush(peer: string, namespace: string, signal?: AbortSignal): Promise<void>
  /**
   * Whether `store`, `purge` and `flush` can reach a peer at all. When they cannot (groupcache's
   * protocol has no writes), a purge that failed is not owed to the peer: no later try could
   * deliver it.
   */
  readonly carriesWrites: boolean
  /** Resolves once `peer` answers; rejects when it does not within `timeoutMs` (liveness). */
  ping(peer: string, timeoutMs: number): Promise<void>
  /** Tells `peer` that `self` leaves the cluster; rejects when it does not answer within `timeoutMs`. */
  leave(peer: string, self: string, timeoutMs: number): Promise<void>
  /** `peer` was found down: its requests in flight fail now, not at their deadline. */
  abandon(peer: string): void
  /** Drops the connections to peers not in `peers`; their requests in flight fail. */
  retain(peers: ReadonlySet<string>): void
  /** Closes every connection; every request in flight rejects with `BURROW_ERR_CLOSED`. */
  close(): void
  /** The client's counters, a fresh object. */
  stats(): PeerClientStats
}
