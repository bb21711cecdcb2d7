/**
 * The consistent-hash ring that picks each key's owner. By default it is golang/groupcache's
 * `consistenthash` exactly (crc32 IEEE, 50 virtual nodes per peer, virtual node key = replica index
 * then peer id), so burrow and Go groupcache nodes in one cluster agree on every owner.
 *
 * @module
 */

import { Buffer } from 'node:buffer'
import zlib from 'node:zlib'
import { BurrowError, describe } from './errors.ts'

/**
 * Hashes bytes to an unsigned 32-bit integer. Results are taken modulo 2^32 (`>>> 0`).
 */
export type HashFunction = (data: Uint8Array) => number

/**
 * What a client needs, besides the peers, to compute owners as a node does: the algorithm and its
 * parameters, as `BURROW.RING` sends them (docs/protocol.md).
 */
export type RingLayout =
  | {
      /** golang/groupcache's consistent-hash ring ({@link Ring}). */
      ring: 'groupcache'
      /** `crc32` (IEEE), or `custom` when the node was given a hash function. */
      hash: 'crc32' | 'custom'
      /** Virtual nodes per peer. */
      replicas: number
    }
  | {
      /** Maglev's lookup table ({@link MaglevRing}). */
      ring: 'maglev'
      /** `crc32` (IEEE), or `custom` when the node was given a hash function. */
      hash: 'crc32' | 'custom'
      /** Slots in the lookup table (a prime). */
      table: number
    }

/**
 * What a node asks of its ring: an immutable map from keys to peers, rebuilt whole on every
 * membership change. {@link Ring} and {@link MaglevRing} implement it.
 */
export interface RingLike {
  /** The distinct peers, sorted by UTF-16 code unit. */
  readonly peers: readonly string[]
  /** The algorithm and its parameters, for `BURROW.RING`. */
  readonly layout: RingLayout
  /** The peer that owns `key`. */
  owner(key: string): string
  /** Is `peer` on this ring? */
  has(peer: string): boolean
  /**
   * The fraction of the 2^32 key hashes each peer owns (they add up to 1): how evenly keys
   * spread, computed exactly rather than sampled.
   */
  shares(): Map<string, number>
}

/** Options of a {@link Ring}. */
export interface RingOptions {
  /**
   * Virtual nodes per peer: an integer from 1 to 1000. More spreads keys more evenly and costs a
   * little more memory and build time. Every node of a cluster must use the same value.
   *
   * @default 50
   */
  replicas?: number
  /**
   * Hashes virtual node keys and keys (their UTF-8 bytes). Every node of a cluster must use the
   * same function.
   *
   * @default crc32 (IEEE), as groupcache
   */
  hash?: HashFunction
}

const DEFAULT_REPLICAS = 50
/** How many 32-bit hashes there are. */
const HASHES = 2 ** 32
const MAX_REPLICAS = 1000

/**
 * The crc32 (IEEE) of a string's UTF-8 bytes, or of bytes; the ring's default hash.
 *
 * @example
 * crc32('0http://127.0.0.1:9001') // the hash of that peer's first virtual node
 */
export function crc32(data: Uint8Array | string): number {
  if (typeof data !== 'string' || data.length > SHORT_TEXT) return zlib.crc32(data)
  // An ASCII string's UTF-8 is its chars: hashed here, cheaper than zlib's call (bench/key-costs.mjs).
  let crc = -1
  for (let i = 0; i < data.length; i++) {
    const char = data.charCodeAt(i)
    if (char >= 0x80) return zlib.crc32(data)
    crc = CRC_TABLE[(crc ^ char) & 0xff]! ^ (crc >>> 8)
  }
  return (crc ^ -1) >>> 0
}

/** Strings up to this long are hashed in JS when ASCII (faster up to 64 characters: bench/key-costs.mjs crc32). */
const SHORT_TEXT = 64

/** crc32's byte table (IEEE, reflected: polynomial 0xedb88320). */
const CRC_TABLE = Int32Array.from({ length: 256 }, (_, byte) => {
  let crc = byte
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1
  return crc
})

/**
 * An immutable consistent-hash ring over a set of peers. A node builds a new ring on every
 * membership change and swaps it in; reads keep using the old one until then.
 *
 * Peers are added in sorted order, so the ring does not depend on the order peers are listed in.
 * When two virtual nodes hash alike, the peer added later owns both (as Go's map overwrite).
 *
 * @example
 * const ring = new Ring(['http://10.0.0.1:5001', 'http://10.0.0.2:5001'])
 * ring.owner('user:42') // 'http://10.0.0.2:5001' or 'http://10.0.0.1:5001'
 */
export class Ring implements RingLike {
  /** The distinct peers, sorted by UTF-16 code unit. */
  readonly peers: readonly string[]
  /** Virtual nodes per peer. */
  readonly replicas: number
  /** Whether the ring hashes with a function of the user's instead of crc32 IEEE. */
  readonly customHash: boolean

  /** Virtual node hashes, ascending. */
  readonly #hashes: Uint32Array
  /** `#owners[i]` is the index in `peers` of the peer owning `#hashes[i]`. */
  readonly #owners: Int32Array
  readonly #peerSet: ReadonlySet<string>
  /** A custom hash, or undefined for crc32 on the string itself (no Buffer allocated). */
  readonly #hash: HashFunction | undefined

  /**
   * @param peers - The peer ids; at least one. Duplicates are dropped.
   * @param options - See {@link RingOptions}.
   * @throws BurrowError `BURROW_ERR_BAD_OPTION` if `peers` is empty or holds anything but
   * non-empty strings, or an option is invalid.
   */
  constructor(peers: readonly string[], options: RingOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw badOption(`Ring options must be an object; received ${describe(options)}`)
    }
    const { replicas = DEFAULT_REPLICAS, hash } = options
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
      throw badOption(`replicas must be an integer from 1 to ${MAX_REPLICAS}; received ${describe(replicas)}`)
    }
    if (hash !== undefined && typeof hash !== 'function') {
      throw badOption(`hash must be a function; received ${describe(hash)}`)
    }
    this.peers = Object.freeze(distinctSortedPeers(peers))
    this.#peerSet = new Set(this.peers)
    this.#hash = hash === undefined || hash === crc32 ? undefined : hash
    this.replicas = replicas
    this.customHash = this.#hash !== undefined

    // Built as Go builds it, and cheap enough to rebuild on every membership change: 100 peers ×
    // 50 replicas is 5,000 points, a few milliseconds, most of it hashing.
    const count = this.peers.length * replicas
    const hashes = new Uint32Array(count)
    // On a collision the peer added later wins, as with Go's map; both points stay in the array.
    const ownerOfHash = new Map<number, number>()
    for (let p = 0, n = 0; p < this.peers.length; p++) {
      const peer = this.peers[p]!
      for (let i = 0; i < replicas; i++) {
        const h = this.#hashOf(`${i}${peer}`)
        hashes[n++] = h
        ownerOfHash.set(h, p)
      }
    }
    hashes.sort()
    const owners = new Int32Array(count)
    for (let j = 0; j < count; j++) owners[j] = ownerOfHash.get(hashes[j]!)!
    this.#hashes = hashes
    this.#owners = owners
  }

  /**
   * The owner of `key`: the peer of the first virtual node whose hash is >= the hash of the key's
   * UTF-8 bytes, wrapping to the first virtual node.
   */
  owner(key: string): string {
    const h = this.#hashOf(key)
    const hashes = this.#hashes
    // Branch-free binary search for the first hash >= h: a compare the CPU cannot predict becomes a
    // conditional move (about 25% faster than the textbook loop on 5,000 points).
    let base = 0
    let n = hashes.length
    while (n > 1) {
      const half = n >>> 1
      base = hashes[base + half]! < h ? base + half : base
      n -= half
    }
    if (hashes[base]! < h) base++
    return this.peers[this.#owners[base === hashes.length ? 0 : base]!]!
  }

  /** Is `peer` on this ring? */
  has(peer: string): boolean {
    return this.#peerSet.has(peer)
  }

  /** `{ ring: 'groupcache', hash, replicas }`, for `BURROW.RING`. */
  get layout(): RingLayout {
    return { ring: 'groupcache', hash: this.customHash ? 'custom' : 'crc32', replicas: this.replicas }
  }

  /**
   * The fraction of key hashes each peer owns: a virtual node owns the hashes above the one before
   * it, up to its own; the first also owns those above the last.
   */
  shares(): Map<string, number> {
    const hashes = this.#hashes
    const owned = new Float64Array(this.peers.length)
    for (let j = 1; j < hashes.length; j++) owned[this.#owners[j]!]! += hashes[j]! - hashes[j - 1]!
    owned[this.#owners[0]!]! += HASHES - hashes[hashes.length - 1]! + hashes[0]!
    return new Map(this.peers.map((peer, p) => [peer, owned[p]! / HASHES]))
  }

  /**
   * Every virtual node, ascending by hash (for tests, the CLI and the dashboard). Its length is
   * always `peers.length × replicas`; colliding virtual nodes both name the winning peer.
   */
  points(): Array<{ hash: number; peer: string }> {
    const out = new Array<{ hash: number; peer: string }>(this.#hashes.length)
    for (let j = 0; j < this.#hashes.length; j++) {
      out[j] = { hash: this.#hashes[j]!, peer: this.peers[this.#owners[j]!]! }
    }
    return out
  }

  #hashOf(s: string): number {
    return this.#hash === undefined ? crc32(s) : this.#hash(Buffer.from(s, 'utf8')) >>> 0
  }
}

/**
 * The distinct peers of `peers`, sorted by UTF-16 code unit.
 * @throws BurrowError `BURROW_ERR_BAD_OPTION` if it is not a non-empty array of non-empty strings.
 */
export function distinctSortedPeers(peers: readonly string[]): string[] {
  if (!Array.isArray(peers)) {
    throw badOption(`peers must be an array of peer ids; received ${describe(peers)}`)
  }
  if (peers.length === 0) throw badOption('peers must list at least one peer; received an empty array')
  for (let i = 0; i < peers.length; i++) {
    const peer: unknown = peers[i]
    if (typeof peer !== 'string' || peer === '') {
      throw badOption(`peers[${i}] must be a non-empty string; received ${describe(peer)}`)
    }
  }
  return [...new Set(peers)].sort()
}

/** A `BURROW_ERR_BAD_OPTION` error of a ring. */
export function badOption(message: string): BurrowError {
  return new BurrowError('BURROW_ERR_BAD_OPTION', message)
}
