/**
 * Every `diagnostics_channel` burrow publishes on, in one place, with the shape of its messages.
 * docs/diagnostics.md says when each is published. A channel nobody subscribes to costs a property
 * read: every publish is guarded by `hasSubscribers`, and its message is built inside the guard.
 * Nothing is published on a cache hit.
 *
 * Channels are process-wide (Node's), so every message names the node that published it.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('burrow:peer.fetch.error', ({ node, peer, namespace, error }) => {
 *   console.warn(`${node.self}: fetch from ${peer} failed in ${namespace}: ${error.code}`)
 * })
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel'

/** The node that published a message: the `Burrow` instance itself (`node.self` is its peer id). */
export interface PublishingNode {
  readonly self: string
}

/** A loader call begins on this node (`burrow:load.start`). */
export interface LoadStartMessage {
  node: PublishingNode
  namespace: string
  key: string
}

/** A loader call answered (`burrow:load.end`): a value, or not-found (`found: false`). */
export interface LoadEndMessage {
  node: PublishingNode
  namespace: string
  key: string
  /** Milliseconds since the loader was called; `undefined` when nobody was subscribed then. */
  durationMs: number | undefined
  found: boolean
}

/** A loader call failed (`burrow:load.error`): it threw, or returned a bad value or TTL. */
export interface LoadErrorMessage {
  node: PublishingNode
  namespace: string
  key: string
  /** Milliseconds since the loader was called; `undefined` when nobody was subscribed then. */
  durationMs: number | undefined
  /** A BurrowError: `BURROW_ERR_LOADER` (the loader's own error as `cause`), `BURROW_ERR_BAD_VALUE`, … */
  error: unknown
}

/** A fetch of a key from its owner begins (`burrow:peer.fetch.start`). */
export interface PeerFetchStartMessage {
  node: PublishingNode
  /** The owner asked. */
  peer: string
  namespace: string
  key: string
}

/** The owner answered a fetch (`burrow:peer.fetch.end`): a value, or not-found. */
export interface PeerFetchEndMessage {
  node: PublishingNode
  peer: string
  namespace: string
  key: string
  /** Milliseconds since the fetch was sent; `undefined` when nobody was subscribed then. */
  durationMs: number | undefined
  found: boolean
}

/** A fetch from the owner failed (`burrow:peer.fetch.error`). */
export interface PeerFetchErrorMessage {
  node: PublishingNode
  peer: string
  namespace: string
  key: string
  durationMs: number | undefined
  /**
   * Usually a BurrowError: `BURROW_ERR_PEER_TIMEOUT`, `BURROW_ERR_PEER_UNAVAILABLE`, … when the
   * owner could not answer; `BURROW_ERR_LOADER` when its loader failed.
   */
  error: unknown
}

/** The owner could not answer, so this node loads the key itself (`burrow:fallback`). */
export interface FallbackMessage {
  node: PublishingNode
  /** The owner that could not answer. */
  peer: string
  namespace: string
  key: string
  /** Why: the fetch's error (a BurrowError). */
  error: unknown
}

/** An entry left a cache to make room for others (`burrow:evict`). */
export interface EvictMessage {
  node: PublishingNode
  namespace: string
  key: string
  /** `main`: values this node owns or loaded; `hot`: copies of other nodes' values. */
  cache: 'main' | 'hot'
}

/** This node's ring changed (`burrow:ring`): peers set, found down, or back. */
export interface RingMessage {
  node: PublishingNode
  /** The peers on the ring now, sorted. */
  peers: readonly string[]
  added: string[]
  removed: string[]
}

/** A peer left this node's ring (`burrow:peer.down`). */
export interface PeerDownMessage {
  node: PublishingNode
  peer: string
  /** `unreachable`: it failed its probes; `left`: it said it leaves (a graceful close). */
  reason: 'unreachable' | 'left'
}

/** A peer that was down answered a probe and is back on the ring (`burrow:peer.up`). */
export interface PeerUpMessage {
  node: PublishingNode
  peer: string
}

/** A write's purge of a key on a peer settled (`burrow:purge.sent`). */
export interface PurgeSentMessage {
  node: PublishingNode
  peer: string
  namespace: string
  key: string
  /** `undefined`: the peer dropped its copy; else why it could not be reached (it is then owed the purge). */
  error: unknown
}

/** A peer missed a purge and is owed it, delivered when it answers again (`burrow:purge.owed`). */
export interface PurgeOwedMessage {
  node: PublishingNode
  peer: string
  namespace: string
  key: string
}

/** Owed purges were delivered to a peer (`burrow:purge.delivered`). */
export interface PurgeDeliveredMessage {
  node: PublishingNode
  peer: string
  /** Keys purged on the peer. */
  purges: number
  /** Namespaces flushed on the peer (it was owed more keys than are kept). */
  flushes: number
  /** Purges and flushes that failed again: owed still. */
  failed: number
}

/** The port cut a connection off at one of its limits (`burrow:server.limit`). */
export interface ServerLimitMessage {
  node: PublishingNode
  /**
   * The option whose limit was hit: `maxConnections` (refused on arrival), `requestTimeoutMs`
   * (a request too slow to arrive), `maxReplyBufferBytes` (a client that did not read its replies).
   */
  limit: 'maxConnections' | 'requestTimeoutMs' | 'maxReplyBufferBytes'
  /** The client's address, when known. */
  remoteAddress: string | undefined
}

/** A load was refused with `BURROW_ERR_OVERLOADED` (`burrow:overload`). */
export interface OverloadMessage {
  node: PublishingNode
  /** Loader calls running (`maxConcurrentLoads` of them). */
  running: number
  /** Loads waiting (`maxQueuedLoads` of them). */
  queued: number
}

/** The peer source failed in a way it recovers from (`burrow:peer-source.error`). */
export interface PeerSourceErrorMessage {
  node: PublishingNode
  /** The source's name (`dns`, `etcd`, …). */
  source: string
  /** A BurrowError with code `BURROW_ERR_PEER_SOURCE`, its `cause` the failure. */
  error: unknown
}

/** Every channel's name, by what it reports. */
export const diagnosticsChannels = {
  loadStart: 'burrow:load.start',
  loadEnd: 'burrow:load.end',
  loadError: 'burrow:load.error',
  peerFetchStart: 'burrow:peer.fetch.start',
  peerFetchEnd: 'burrow:peer.fetch.end',
  peerFetchError: 'burrow:peer.fetch.error',
  fallback: 'burrow:fallback',
  evict: 'burrow:evict',
  ring: 'burrow:ring',
  peerDown: 'burrow:peer.down',
  peerUp: 'burrow:peer.up',
  purgeSent: 'burrow:purge.sent',
  purgeOwed: 'burrow:purge.owed',
  purgeDelivered: 'burrow:purge.delivered',
  serverLimit: 'burrow:server.limit',
  overload: 'burrow:overload',
  peerSourceError: 'burrow:peer-source.error',
} as const

/** The message published on each channel, by channel name. */
export interface DiagnosticsMessages {
  'burrow:load.start': LoadStartMessage
  'burrow:load.end': LoadEndMessage
  'burrow:load.error': LoadErrorMessage
  'burrow:peer.fetch.start': PeerFetchStartMessage
  'burrow:peer.fetch.end': PeerFetchEndMessage
  'burrow:peer.fetch.error': PeerFetchErrorMessage
  'burrow:fallback': FallbackMessage
  'burrow:evict': EvictMessage
  'burrow:ring': RingMessage
  'burrow:peer.down': PeerDownMessage
  'burrow:peer.up': PeerUpMessage
  'burrow:purge.sent': PurgeSentMessage
  'burrow:purge.owed': PurgeOwedMessage
  'burrow:purge.delivered': PurgeDeliveredMessage
  'burrow:server.limit': ServerLimitMessage
  'burrow:overload': OverloadMessage
  'burrow:peer-source.error': PeerSourceErrorMessage
}

/** The name of one of burrow's channels. */
export type DiagnosticsChannelName = keyof DiagnosticsMessages

/** A channel that publishes messages of one shape. */
export interface TypedChannel<M> {
  readonly name: string
  readonly hasSubscribers: boolean
  publish(message: M): void
}

function typed<N extends DiagnosticsChannelName>(name: N): TypedChannel<DiagnosticsMessages[N]> {
  return channel(name) as unknown as TypedChannel<DiagnosticsMessages[N]>
}

/** The channels themselves, for the code that publishes. Held here, so Node never collects them. */
export const channels = {
  loadStart: typed(diagnosticsChannels.loadStart),
  loadEnd: typed(diagnosticsChannels.loadEnd),
  loadError: typed(diagnosticsChannels.loadError),
  peerFetchStart: typed(diagnosticsChannels.peerFetchStart),
  peerFetchEnd: typed(diagnosticsChannels.peerFetchEnd),
  peerFetchError: typed(diagnosticsChannels.peerFetchError),
  fallback: typed(diagnosticsChannels.fallback),
  evict: typed(diagnosticsChannels.evict),
  ring: typed(diagnosticsChannels.ring),
  peerDown: typed(diagnosticsChannels.peerDown),
  peerUp: typed(diagnosticsChannels.peerUp),
  purgeSent: typed(diagnosticsChannels.purgeSent),
  purgeOwed: typed(diagnosticsChannels.purgeOwed),
  purgeDelivered: typed(diagnosticsChannels.purgeDelivered),
  serverLimit: typed(diagnosticsChannels.serverLimit),
  overload: typed(diagnosticsChannels.overload),
  peerSourceError: typed(diagnosticsChannels.peerSourceError),
} as const

/** A start time not taken: nobody subscribed when the work began. */
export const NOT_TIMED = -1

/** The start time of a load, when anyone listens to loads; else {@link NOT_TIMED}. */
export function loadTimer(): number {
  const { loadStart, loadEnd, loadError } = channels
  return loadStart.hasSubscribers || loadEnd.hasSubscribers || loadError.hasSubscribers
    ? performance.now()
    : NOT_TIMED
}

/** The start time of a peer fetch, when anyone listens to fetches; else {@link NOT_TIMED}. */
export function fetchTimer(): number {
  const { peerFetchStart, peerFetchEnd, peerFetchError } = channels
  return peerFetchStart.hasSubscribers || peerFetchEnd.hasSubscribers || peerFetchError.hasSubscribers
    ? performance.now()
    : NOT_TIMED
}

/** Milliseconds since `started`, or `undefined` when it was {@link NOT_TIMED}. */
export function since(started: number): number | undefined {
  return started === NOT_TIMED ? undefined : performance.now() - started
}
