/**
 * Coded errors. Every error burrow raises on purpose is a {@link BurrowError} whose `code` is one
 * of {@link ErrorCodes}; the codes are stable and safe to branch on.
 *
 * @module
 */

/**
 * Every error code burrow uses, with what it means. The values equal the keys so that
 * `err.code === ErrorCodes.BURROW_ERR_BAD_KEY` and `err.code === 'BURROW_ERR_BAD_KEY'` both read well.
 */
export const ErrorCodes = {
  /** A key is not a string, is empty, or is longer than `maxKeyBytes` in UTF-8. */
  BURROW_ERR_BAD_KEY: 'BURROW_ERR_BAD_KEY',
  /** A namespace name is not 1–64 characters of `A-Z a-z 0-9 . _ -`. */
  BURROW_ERR_BAD_NAMESPACE: 'BURROW_ERR_BAD_NAMESPACE',
  /** `node.namespace(name)` was called twice with one name. */
  BURROW_ERR_DUPLICATE_NAMESPACE: 'BURROW_ERR_DUPLICATE_NAMESPACE',
  /** A request named a namespace this node does not have. */
  BURROW_ERR_UNKNOWN_NAMESPACE: 'BURROW_ERR_UNKNOWN_NAMESPACE',
  /** An option has the wrong type or an out-of-range value; the message names both. */
  BURROW_ERR_BAD_OPTION: 'BURROW_ERR_BAD_OPTION',
  /** The loader threw or rejected (here or on the owner); `cause` holds what it threw. */
  BURROW_ERR_LOADER: 'BURROW_ERR_LOADER',
  /**
   * A value of the wrong kind: the loader returned, or `set` was given, something other than a
   * string or a Uint8Array (or `undefined`, from a loader) in a namespace without a codec.
   */
  BURROW_ERR_BAD_VALUE: 'BURROW_ERR_BAD_VALUE',
  /** A TTL given at run time (`set(k, v, { ttl })`, a loader's `ctx.ttl`) is negative or not finite. */
  BURROW_ERR_BAD_TTL: 'BURROW_ERR_BAD_TTL',
  /** A codec's `encode` or `decode` threw, or returned the wrong type. */
  BURROW_ERR_CODEC: 'BURROW_ERR_CODEC',
  /** The node is closed (or closing): it takes no new gets. */
  BURROW_ERR_CLOSED: 'BURROW_ERR_CLOSED',
  /** A peer did not answer within the peer deadline (`peerTimeoutMs`). */
  BURROW_ERR_PEER_TIMEOUT: 'BURROW_ERR_PEER_TIMEOUT',
  /** A peer could not be reached, or its connection closed before it answered. */
  BURROW_ERR_PEER_UNAVAILABLE: 'BURROW_ERR_PEER_UNAVAILABLE',
  /** A peer answered with something that is not a valid burrow reply. */
  BURROW_ERR_PROTOCOL: 'BURROW_ERR_PROTOCOL',
  /** A frame on the wire is larger than `maxFrameBytes`. */
  BURROW_ERR_FRAME_TOO_LARGE: 'BURROW_ERR_FRAME_TOO_LARGE',
  /** `listen()` failed, or was called on a node that is already listening. */
  BURROW_ERR_LISTEN: 'BURROW_ERR_LISTEN',
  /**
   * A peer source failed: it could not start (`listen()` rejects), or a lookup or watch failed
   * (emitted as `'peerSourceError'`; the node keeps its last peers), or `setPeers` was called on
   * a node whose peers come from a source.
   */
  BURROW_ERR_PEER_SOURCE: 'BURROW_ERR_PEER_SOURCE',
  /**
   * Authentication failed: a peer refused this node's secret (the nodes' `auth.secret` lists
   * share none), or a request came before `AUTH` to a node that requires it.
   */
  BURROW_ERR_AUTH: 'BURROW_ERR_AUTH',
  /**
   * The node runs `maxConcurrentLoads` loader calls and has `maxQueuedLoads` more waiting: a new
   * load is refused rather than queued without bound. The get fails; it can be retried.
   */
  BURROW_ERR_OVERLOADED: 'BURROW_ERR_OVERLOADED',
  /**
   * A peer's fetch named a key this node neither holds nor owns on its ring: it loads only keys it
   * owns, so no client can make every node load one key. The asking node loads it itself.
   */
  BURROW_ERR_NOT_OWNER: 'BURROW_ERR_NOT_OWNER',
} as const

/** One of the stable error codes of {@link ErrorCodes}. */
export type ErrorCode = keyof typeof ErrorCodes

/** Context that an error may carry; every field is optional. */
export interface BurrowErrorDetails {
  /** What caused this error (the loader's own error, a socket error, …). */
  cause?: unknown
  /** The namespace involved. */
  namespace?: string
  /** The key involved. */
  key?: string
  /** The peer id involved. */
  peer?: string
}

/**
 * The one error class burrow throws. Branch on `code`, never on `message`.
 *
 * @example
 * try {
 *   await users.get(id)
 * } catch (err) {
 *   if (err instanceof BurrowError && err.code === 'BURROW_ERR_LOADER') console.error(err.cause)
 * }
 */
export class BurrowError extends Error {
  /** The stable code; see {@link ErrorCodes}. */
  readonly code: ErrorCode
  /** The namespace involved, when there is one. */
  readonly namespace: string | undefined
  /** The key involved, when there is one. */
  readonly key: string | undefined
  /** The peer involved, when there is one. */
  readonly peer: string | undefined

  constructor(code: ErrorCode, message: string, details: BurrowErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'BurrowError'
    this.code = code
    this.namespace = details.namespace
    this.key = details.key
    this.peer = details.peer
  }
}

/** Is `code` one of burrow's codes? Used when a code arrives over the wire. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ErrorCodes, code)
}

/** Describe a received value for an error message: its type, and the value itself when short. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string')
    return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`
  }
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'Object'})` : typeof value
}
