/**
 * burrow: an embeddable distributed cache for Node.js. This file lists the public surface.
 *
 * @module
 */
export { Burrow, type BurrowOptions, type Clock, type ListenOptions } from './burrow.ts'
export { type Codec, jsonCodec, type StoredValue, type ValueKind } from './codec.ts'
export {
  type DiagnosticsChannelName,
  type DiagnosticsMessages,
  diagnosticsChannels,
  type EvictMessage,
  type FallbackMessage,
  type LoadEndMessage,
  type LoadErrorMessage,
  type LoadStartMessage,
  type OverloadMessage,
  type PeerDownMessage,
  type PeerFetchEndMessage,
  type PeerFetchErrorMessage,
  type PeerFetchStartMessage,
  type PeerSourceErrorMessage,
  type PeerUpMessage,
  type PublishingNode,
  type PurgeDeliveredMessage,
  type PurgeOwedMessage,
  type PurgeSentMessage,
  type RingMessage,
  type ServerLimitMessage,
} from './diagnostics.ts'
export { BurrowError, type BurrowErrorDetails, type ErrorCode, ErrorCodes } from './errors.ts'
export type { LoadGateStats } from './load-gate.ts'
export type { Logger } from './logger.ts'
export { MaglevRing, type MaglevRingOptions } from './maglev-ring.ts'
export { type DnsPeersOptions, dnsPeers } from './membership/dns.ts'
export type { MembershipEvent } from './membership/membership-log.ts'
export type { PeerSource, PeerSourceContext, PeerSubscription } from './membership/source.ts'
export type { DeleteOptions, GetOptions, Namespace, SetOptions } from './namespace/namespace.ts'
export type {
  BaseNamespaceOptions,
  HotCacheOptions,
  LoadContext,
  Loader,
  NamespaceOptions,
} from './namespace/options.ts'
export type { NamespaceCounters, NamespaceStats } from './namespace/stats.ts'
export { crc32, type HashFunction, Ring, type RingLayout, type RingLike, type RingOptions } from './ring.ts'
export type { AuthOptions } from './security/secrets.ts'
export type { BurrowStats } from './stats.ts'
export {
  type AdmissionStats,
  ENTRY_OVERHEAD_BYTES,
  type HotKey,
  type PartStats,
  type StorageStats,
  type StorePolicy,
  type StoreStorage,
} from './store/store.ts'
export type { PeerClientStats } from './transport/client/transport.ts'
export type { RingReport } from './transport/http/admin.ts'
export type { WriteResult } from './transport/served.ts'
export type { ServerStats } from './transport/server/node-server.ts'
