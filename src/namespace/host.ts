/**
 * What a namespace needs from its node: the node's lifetime, clock and randomness, the ring, and
 * the peer client. Implemented by `Burrow`; a leaf interface, so nothing imports upward.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'
import type { PublishingNode } from '../diagnostics.ts'
import type { LoadGate } from '../load-gate.ts'
import type { Receiver } from '../transport/client/transport.ts'
import type { Answer, WriteTtl } from '../transport/served.ts'

export interface NamespaceHost {
  /** The node, as named in the diagnostics messages it publishes. */
  readonly node: PublishingNode
  /** Aborts when the node closes. */
  readonly signal: AbortSignal
  /** The node's bound on loader calls, shared by its namespaces. */
  readonly loads: LoadGate
  /** Random numbers in [0, 1): hot-cache draws and TTL jitter. */
  readonly random: () => number
  /** Milliseconds since the epoch: deadlines and expiry. */
  readonly now: () => number
  readonly maxKeyBytes: number
  /** Every peer listed but this one (down ones too): where writes go. */
  otherPeers(): readonly string[]
  /** A request to `peer` failed as if it were unreachable (liveness may probe it at once). */
  suspect(peer: string): void
  /** The owner of `key` when it is another node; `undefined` when this node owns it. */
  remoteOwner(key: string): string | undefined
  /**
   * For a key this node owns: the live peer that would own it without this node (its holder
   * before this node joined, or while it was away), while the last ring change is recent (warm
   * hand-off); `undefined` otherwise.
   */
  previousOwner(key: string): string | undefined
  /** A hand-off ask was answered from the previous owner's cache (`true`), or not. */
  handedOff(hit: boolean): void
  /** Asks `peer`'s caches only for `key` (a short deadline); `undefined` when they miss. */
  peek(peer: string, namespace: string, key: string, signal: AbortSignal): Promise<Answer | undefined>
  /**
   * Asks `peer` for `key`, its outcome told to `to` (never before this returns). Fails with a
   * BurrowError: `BURROW_ERR_LOADER` when the owner's loader failed, another code when the peer
   * could not answer.
   */
  fetchTo(peer: string, namespace: string, key: string, signal: AbortSignal, to: Receiver<Answer>): void
  /** Stores a value on `peer`, as its owner. */
  store(
    peer: string,
    namespace: string,
    key: string,
    value: StoredValue,
    ttl: WriteTtl,
    signal: AbortSignal,
  ): Promise<void>
  /** Drops `key` from `peer`'s caches. */
  purge(peer: string, namespace: string, key: string, signal: AbortSignal): Promise<void>
  /** `peer` could not be reached to purge `key`: purge it there once it answers again. */
  owe(peer: string, namespace: string, key: string): void
}
