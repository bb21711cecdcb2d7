/**
 * The seam between a namespace and the wire: what the node's servers (RESP and HTTP) call on a
 * namespace, and the shape of an owner's answer as it travels back to the asking node. A leaf
 * module: it imports nothing but types.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'
import type { RingLayout } from '../ring.ts'

/**
 * An owner's answer to a fetch: the value (`undefined` for not found) and how long the asking
 * node may keep it, as time *remaining*, so that node clocks need not agree.
 */
export interface Answer {
  value: StoredValue | undefined
  /**
   * Milliseconds the answer stays fresh: `-1` never expires; `0` use it once but do not keep it
   * (a stale value served while a refresh runs, or a not-found that is not cached); `> 0` the
   * time remaining before it expires on the owner.
   */
  ttlMs: number
}

/** `ttlMs` of an {@link Answer} that never expires. */
export const NO_EXPIRY = -1
/** `ttlMs` of an {@link Answer} that must not be kept. */
export const DO_NOT_KEEP = 0

/**
 * The TTL a write carries to the owner: `-1` the owner's namespace default (`ttl` option),
 * `0` never expires, `> 0` milliseconds (the owner applies `ttlJitter` to it).
 */
export type WriteTtl = number

/**
 * The longest TTL, in ms: 100 years (a longer one is what "never expires", 0, is for). It keeps
 * every TTL on the wire a whole number of at most 13 digits.
 */
export const MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000

/** `WriteTtl` meaning "the namespace's default". */
export const DEFAULT_TTL = -1

/** How a `set` or `delete` went across the cluster. */
export interface WriteResult {
  /**
   * Peers that the write (or its purge) could not reach: they may still hold an old copy until
   * it expires (hot copies are bounded by `hot.maxTtl`). Empty when every peer acknowledged.
   */
  unreachable: string[]
}

/**
 * What a server needs of a namespace. Every method checks the key and fails with a
 * `BurrowError` (`BURROW_ERR_BAD_KEY`, `BURROW_ERR_CLOSED`, ...) instead of throwing anything else.
 */
export interface ServedNamespace {
  readonly name: string
  /**
   * `BURROW.FETCH` from a peer, and golang/groupcache's route: answer from this node's caches or
   * load here; never forwards to another node, whatever this node's ring says. A cached answer is returned synchronously so
   * the server can reply in the same tick.
   */
  fetch(key: string): Answer | Promise<Answer>
  /**
   * `BURROW.PEEK` from a peer (warm hand-off): this node's cached answer, or `undefined` when it
   * has none. Never loads, never forwards, never waits.
   */
  peek(key: string): Answer | undefined
  /**
   * `BURROW.GET` and the HTTP route: read through this node like `ns.get` (the owner is asked
   * when it is another node). `undefined` is not found. A cached answer is returned synchronously.
   */
  read(key: string): StoredValue | undefined | Promise<StoredValue | undefined>
  /** `BURROW.STORE` from a peer: store the value here as its owner. Never forwards. Throws BurrowError. */
  store(key: string, value: StoredValue, ttl: WriteTtl): void
  /** `BURROW.PURGE` from a peer: drop the key from this node's caches. Never forwards. Throws BurrowError. */
  purge(key: string): void
  /** `BURROW.FLUSH` from a peer: drop every key of this namespace from this node's caches. */
  flush(): void
  /** `BURROW.SET` from a client: `ns.set` on this node (stores on the owner, purges the others). */
  set(key: string, value: StoredValue, ttl: WriteTtl): Promise<WriteResult>
  /** `BURROW.DEL` from a client: `ns.delete` on this node (purges every node). */
  delete(key: string): Promise<WriteResult>
}

/** What the server tells its node about membership, and asks of it. */
export interface ServedMembership {
  /**
   * `BURROW.LEAVE`: `peer` says it is leaving the cluster; the node takes it off its ring until
   * it answers a probe again. Throws BurrowError `BURROW_ERR_BAD_OPTION` for a malformed id.
   */
  left(peer: string): void
  /** Whether this node is leaving (closing): its probes are answered with an error then. */
  leaving(): boolean
}

/**
 * What `BURROW.RING` tells a client: enough to compute every key's owner itself (the algorithms
 * are in docs/protocol.md). The layout names the ring (`groupcache` or `maglev`), its hash
 * (`crc32`, or `custom` when the node was given a hash function) and its parameters.
 */
export type RingView = RingLayout & {
  /** This node's peer id. */
  self: string
  /** The peers on this node's ring, canonical ids, sorted. */
  peers: readonly string[]
}
