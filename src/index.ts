/**
 * burrow: an embeddable distributed cache for Node.js. This file lists the public surface.
 *
 * @module
 */
export { Burrow, type BurrowOptions, type BurrowStats, type Clock, type ListenOptions } from './burrow.ts'
export { type Codec, jsonCodec, type StoredValue, type ValueKind } from './codec.ts'
export { BurrowError, type BurrowErrorDetails, type ErrorCode, ErrorCodes } from './errors.ts'
export type {
  GetOptions,
  HotCacheOptions,
  LoadContext,
  Loader,
  Namespace,
  NamespaceOptions,
  NamespaceStats,
} from './namespace.ts'
export { crc32, type HashFunction, Ring, type RingOptions } from './ring.ts'
export type { LruStats } from './store/lru.ts'
export { ENTRY_OVERHEAD_BYTES } from './store/store.ts'
export type { PeerClientStats } from './transport/client.ts'
