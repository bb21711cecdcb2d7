/**
 * The balanced ring: Maglev's lookup table (Eisenbud et al., NSDI 2016). Every peer owns the same
 * number of slots, give or take one, so keys spread evenly however many peers there are; a key's
 * owner is one crc32 and one array read away.
 *
 * @module
 */

import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { describe } from './errors.ts'
import {
  badOption,
  crc32,
  distinctSortedPeers,
  type HashFunction,
  type RingLayout,
  type RingLike,
} from './ring.ts'

/** Options of a {@link MaglevRing}. */
export interface MaglevRingOptions {
  /**
   * Hashes keys (their UTF-8 bytes) to an unsigned 32-bit integer; a key's slot is that hash
   * modulo the table size. Every node of a cluster must use the same function.
   *
   * @default crc32 (IEEE)
   */
  hash?: HashFunction
}

/**
 * Slots in the table: a prime, so that every peer's walk visits every slot, and 2^16 + 1, so that
 * `mod` takes two integer operations. The busiest of n peers owns ceil(M / n) slots at most.
 */
const TABLE_SIZE = 65537
/** How many 32-bit hashes there are. */
const HASHES = 2 ** 32
/** Peers a table can index (its entries are 16-bit). */
const MAX_PEERS = 65536

/**
 * An immutable balanced ring over a set of peers: Maglev's lookup table of 65,537 slots, each
 * naming its owner. Peers take slots in turn, each along its own permutation of the table, so each
 * owns 1/n of them to within one slot. A key's owner is the owner of slot `crc32(key) mod 65537`.
 *
 * Compared with {@link Ring}: the busiest peer owns 1.00–1.01× the mean share of keys (against
 * 1.12× with 3 peers and 1.75× with 1,000 for groupcache's), lookups are faster, and a peer
 * joining or leaving moves a little more than its share of keys (about 1.5/n at 100 peers, 7/n
 * at 1,000; see BENCHMARKS.md). Every node of a cluster must use the same kind of ring. The
 * algorithm, for clients of other languages, is in docs/protocol.md (`BURROW.RING`).
 *
 * @example
 * const ring = new MaglevRing(['http://10.0.0.1:5001', 'http://10.0.0.2:5001'])
 * ring.owner('user:42') // one of the two, the same on every node
 */
export class MaglevRing implements RingLike {
  /** The distinct peers, sorted by UTF-16 code unit. */
  readonly peers: readonly string[]
  /** Slots in the lookup table. */
  readonly tableSize: number = TABLE_SIZE
  /** Whether keys are hashed with a function of the user's instead of crc32 IEEE. */
  readonly customHash: boolean

  /** `#table[slot]` is the index in `peers` of the slot's owner. */
  readonly #table: Uint16Array
  readonly #peerSet: ReadonlySet<string>
  /** A custom hash, or undefined for crc32 on the string itself (no Buffer allocated). */
  readonly #hash: HashFunction | undefined

  /**
   * @param peers - The peer ids; from 1 to 65,536. Duplicates are dropped.
   * @param options - See {@link MaglevRingOptions}.
   * @throws BurrowError `BURROW_ERR_BAD_OPTION` if `peers` is empty, too long, or holds anything
   * but non-empty strings, or an option is invalid.
   */
  constructor(peers: readonly string[], options: MaglevRingOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw badOption(`MaglevRing options must be an object; received ${describe(options)}`)
    }
    const { hash } = options
    if (hash !== undefined && typeof hash !== 'function') {
      throw badOption(`hash must be a function; received ${describe(hash)}`)
    }
    this.peers = Object.freeze(distinctSortedPeers(peers))
    if (this.peers.length > MAX_PEERS) {
      throw badOption(
        `peers must list at most ${MAX_PEERS} peers for a maglev ring; received ${this.peers.length}`,
      )
    }
    this.#peerSet = new Set(this.peers)
    this.#hash = hash === undefined || hash === crc32 ? undefined : hash
    this.customHash = this.#hash !== undefined
    this.#table = fill(this.peers)
  }

  /** The owner of `key`: the owner of slot `hash(key) mod tableSize`. */
  owner(key: string): string {
    const h = this.#hash === undefined ? crc32(key) : this.#hash(Buffer.from(key, 'utf8')) >>> 0
    // h mod 65537 in integer operations, as 2^16 ≡ -1 (mod 65537): `%` on a hash above 2^31,
    // which V8 holds as a double, is a floating-point remainder (measured ~10-20% slower here).
    const slot = (h & 0xffff) - (h >>> 16)
    return this.peers[this.#table[slot < 0 ? slot + TABLE_SIZE : slot]!]!
  }

  /** Is `peer` on this ring? */
  has(peer: string): boolean {
    return this.#peerSet.has(peer)
  }

  /** `{ ring: 'maglev', hash, table }`, for `BURROW.RING`. */
  get layout(): RingLayout {
    return { ring: 'maglev', hash: this.customHash ? 'custom' : 'crc32', table: TABLE_SIZE }
  }

  /**
   * The fraction of key hashes each peer owns: slot 0 owns 65,536 of the 2^32 hashes (0 and
   * 2^32 - 1 among them), every other slot 65,535.
   */
  shares(): Map<string, number> {
    const owned = new Float64Array(this.peers.length)
    const perSlot = Math.floor(HASHES / TABLE_SIZE)
    for (let slot = 0; slot < TABLE_SIZE; slot++) owned[this.#table[slot]!]! += perSlot
    owned[this.#table[0]!]! += HASHES - perSlot * TABLE_SIZE
    return new Map(this.peers.map((peer, p) => [peer, owned[p]! / HASHES]))
  }

  /** The owner of every slot, as an index into `peers` (for tests, the CLI and the dashboard). */
  slots(): Uint16Array {
    return this.#table.slice()
  }
}

/**
 * Maglev's population: peer i's permutation of the slots is `(offset_i + j × skip_i) mod M` for
 * j = 0, 1, …; in rounds, each peer in turn takes the first slot of its permutation not yet taken,
 * until every slot is taken. offset and skip come from the SHA-256 of the peer id.
 */
function fill(peers: readonly string[]): Uint16Array {
  const n = peers.length
  const next = new Int32Array(n)
  const skip = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const digest = createHash('sha256').update(peers[i]!, 'utf8').digest()
    next[i] = digest.readUInt32BE(0) % TABLE_SIZE
    skip[i] = (digest.readUInt32BE(4) % (TABLE_SIZE - 1)) + 1
  }
  const table = new Uint16Array(TABLE_SIZE)
  // A Uint16Array has no room for "empty" beside 65,536 peer indexes: a byte per slot says taken.
  const taken = new Uint8Array(TABLE_SIZE)
  let left = TABLE_SIZE
  for (;;) {
    for (let i = 0; i < n; i++) {
      // next[i] is the slot peer i looks at next; it walks on by skip[i], wrapping at M.
      let slot = next[i]!
      const step = skip[i]!
      while (taken[slot] === 1) {
        slot += step
        if (slot >= TABLE_SIZE) slot -= TABLE_SIZE
      }
      taken[slot] = 1
      table[slot] = i
      slot += step
      next[i] = slot >= TABLE_SIZE ? slot - TABLE_SIZE : slot
      if (--left === 0) return table
    }
  }
}
