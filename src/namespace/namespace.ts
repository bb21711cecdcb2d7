/**
 * A namespace: a named cache with its own byte budget, loader and freshness rules. The public
 * methods here check their arguments and hand over to the read path, the write path and the store.
 *
 * @module
 */

import { untilAborted } from '../abort.ts'
import type { Codec, StoredValue, ValueKind } from '../codec.ts'
import { channels } from '../diagnostics.ts'
import { BurrowError, describe } from '../errors.ts'
import { NOT_FOUND } from '../store/cached.ts'
import { type HotKey, Store } from '../store/store.ts'
import { DEFAULT_TTL, type ServedNamespace, type WriteResult } from '../transport/served.ts'
import type { NamespaceHost } from './host.ts'
import { Keys } from './keys.ts'
import { checkTtl, LoadRunner, quote } from './loader.ts'
import { type NamespaceConfig, resolveOptions } from './options.ts'
import { ReadPath } from './read-path.ts'
import { type NamespaceCounters, type NamespaceStats, newCounters } from './stats.ts'
import { WritePath } from './write-path.ts'

/** Options of a single get. */
export interface GetOptions {
  /** Aborting rejects this get at once with the signal's reason; the shared load goes on. */
  signal?: AbortSignal
}

/** Options of `ns.set`. */
export interface SetOptions {
  /** How long the value stays fresh, in ms; 0: never expires. @default the namespace's `ttl` */
  ttl?: number
  /** Aborting rejects the set with the signal's reason (the owner may have applied it already). */
  signal?: AbortSignal
}

/** Options of `ns.delete`. */
export interface DeleteOptions {
  /** Aborting rejects the delete with the signal's reason (some nodes may have applied it already). */
  signal?: AbortSignal
}

/**
 * A named cache. Made by `node.namespace(name, options)`; not constructed directly.
 *
 * @example
 * const users = node.namespace<User>('users', { load: (id) => db.user(id), codec: 'json', ttl: 60_000 })
 * const user = await users.get('42')
 * await users.set('42', { ...user, name: 'Ada' })
 */
export class Namespace<V = StoredValue> {
  /** The namespace's name. */
  readonly name: string
  #store: Store
  #read: ReadPath<V>
  #write: WritePath<V>
  #loads: LoadRunner<V>
  #counters: NamespaceCounters
  #keys: Keys
  /** Copies of `keys.fastChars` and `config.codec`: read on every hit, so one load each. */
  #fastChars: number
  #codec: Codec<V> | undefined

  /** @internal Use `node.namespace(name, options)`. */
  constructor(
    config: NamespaceConfig<V>,
    parts: {
      store: Store
      read: ReadPath<V>
      write: WritePath<V>
      loads: LoadRunner<V>
      counters: NamespaceCounters
      keys: Keys
    },
  ) {
    this.name = config.name
    this.#store = parts.store
    this.#read = parts.read
    this.#write = parts.write
    this.#loads = parts.loads
    this.#counters = parts.counters
    this.#keys = parts.keys
    this.#fastChars = parts.keys.fastChars
    this.#codec = config.codec
  }

  /**
   * The value of `key`: from the local caches, else from its owner, else from the loader — once
   * per key at a time however many callers ask. Resolves `undefined` for not found. Within the
   * stale window (`staleTtl`) an expired value is returned at once while one refresh runs.
   * Rejects with a BurrowError: `BURROW_ERR_BAD_KEY`, `BURROW_ERR_LOADER` (cause kept),
   * `BURROW_ERR_BAD_VALUE`, `BURROW_ERR_CODEC`, `BURROW_ERR_CLOSED`; or with `signal.reason`
   * when the caller's signal aborts.
   *
   * Bytes are returned as the cached `Uint8Array` itself, not a copy: do not modify them.
   */
  get(key: string, options?: GetOptions): Promise<V | undefined> {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.#fastChars) {
      const bad = this.#keys.bad(key)
      if (bad !== undefined) return Promise.reject(bad)
    }
    this.#counters.gets++
    const hit = this.#store.get(key, false)
    if (hit !== undefined) {
      this.#counters.hits++
      if (this.#codec === undefined) return Promise.resolve(hit as V)
      return this.#settle(key, hit)
    }
    const signal = options?.signal
    // A cached not-found is a hit that Store.get cannot tell from a miss: it answers even so.
    if (signal?.aborted && !this.#store.notFound(key)) return Promise.reject(signal.reason)
    const value = this.#read.missValue(key)
    if (!(value instanceof Promise)) return this.#settle(key, value)
    const waited = signal === undefined ? value : untilAborted(value, signal)
    if (this.#codec === undefined) return waited as Promise<V | undefined>
    return waited.then((v) => (v === undefined ? undefined : this.#loads.decode(key, v)))
  }

  /**
   * The locally cached value of `key` (main or hot cache) while it is fresh, or `undefined`.
   * Synchronous; never loads and never asks a peer. Counts as a use for recency. Throws
   * `BURROW_ERR_BAD_KEY`, or `BURROW_ERR_CODEC` when the codec cannot decode the value.
   */
  peek(key: string): V | undefined {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.#fastChars) {
      const bad = this.#keys.bad(key)
      if (bad !== undefined) throw bad
    }
    const hit = this.#store.get(key, false)
    if (hit === undefined) {
      this.#read.peekMissed(key)
      return undefined
    }
    if (this.#codec === undefined) return hit as V
    return this.#loads.decode(key, hit)
  }

  /**
   * Stores `value` for `key` on the key's owner, from any node, and purges every other copy:
   * once it resolves, no get that starts afterwards, on any node that was reached, returns the
   * old value. Resolves which peers could not be reached (`unreachable`). A value larger than
   * `maxEntryBytes` is kept nowhere: the set then purges the key everywhere, like `delete`, so
   * the next get loads it. Rejects with
   * `BURROW_ERR_BAD_KEY`, `BURROW_ERR_BAD_VALUE`, `BURROW_ERR_CODEC`, `BURROW_ERR_BAD_TTL`,
   * `BURROW_ERR_CLOSED`, or the owner's error when the owner could not take the write.
   *
   * @example
   * await users.set('42', row, { ttl: 10_000 })
   */
  async set(key: string, value: V, options?: SetOptions): Promise<WriteResult> {
    this.#keys.check(key)
    const ttl = options?.ttl === undefined ? DEFAULT_TTL : checkTtl(options.ttl, 'ttl', this.name, key)
    return this.#write.set(key, this.#storable(key, value), ttl, options?.signal)
  }

  /**
   * Removes `key` from every node's caches: its owner, earlier owners, and every hot copy. Resolves
   * once every reachable node has applied it, with the peers that could not be reached.
   *
   * @example
   * await users.delete('42')
   */
  async delete(key: string, options?: DeleteOptions): Promise<WriteResult> {
    this.#keys.check(key)
    return this.#write.delete(key, options?.signal)
  }

  /**
   * Up to `limit` keys this node is asked for most lately, among those it holds and was asked
   * for again while holding (its own keys and hot copies of other nodes'), each with its count of
   * asks since the counts were last halved, most first. Cheap (it reads the most recently used
   * entries only, `max(64, 4 × limit)` of each segment, so a key asked for long ago may be
   * missing) and not a use.
   * @example ns.hotKeys(5) // [{ key: 'user:42', part: 'main', asks: 63 }, …]
   */
  hotKeys(limit = 10): HotKey[] {
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000) {
      throw new BurrowError(
        'BURROW_ERR_BAD_OPTION',
        `hotKeys(limit): limit must be an integer from 0 to 1000, received ${describe(limit)}`,
      )
    }
    return this.#store.hottest(limit)
  }

  /** Counters and sizes; a fresh plain object on every call. */
  stats(): NamespaceStats {
    return {
      ...this.#counters,
      expired: this.#store.expired,
      ...this.#store.stats(),
      admission: this.#store.admission(),
      storage: this.#store.storageStats(),
      maxBytes: this.#store.limits.maxBytes,
    }
  }

  /** A cached value (or not-found) as the caller receives it, decoded by the codec if there is one. */
  #settle(key: string, hit: StoredValue | undefined): Promise<V | undefined> {
    if (hit === undefined) return Promise.resolve(undefined)
    if (this.#codec === undefined) return Promise.resolve(hit as V)
    try {
      return Promise.resolve(this.#loads.decode(key, hit))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** What `set` stores: the value checked or encoded; bytes are copied, as the caller may reuse them. */
  #storable(key: string, value: V): StoredValue {
    if (this.#codec !== undefined) return this.#loads.encode(key, value)
    if (typeof value === 'string') return value
    if (value instanceof Uint8Array) return new Uint8Array(value)
    throw new BurrowError(
      'BURROW_ERR_BAD_VALUE',
      `set of namespace ${this.name} was given ${describe(value)} for key ${quote(key)}; ` +
        'give a string or a Uint8Array, or give the namespace a codec',
      { namespace: this.name, key },
    )
  }
}

/** Builds namespace `name` on `host`, checking every option. */
export function createNamespace<V>(
  host: NamespaceHost,
  name: string,
  options: unknown,
): {
  namespace: Namespace<V>
  served: ServedNamespace
  inFlight: () => Promise<unknown>[]
  /** What a value from a Go groupcache peer becomes here. */
  groupcacheValues: ValueKind
} {
  const config = resolveOptions<V>(name, options)
  const counters = newCounters()
  const store = new Store(
    {
      maxBytes: config.maxBytes,
      maxEntryBytes: config.maxEntryBytes,
      maxHotBytes: Math.floor(config.maxBytes * config.hotFraction),
      staleMs: config.staleTtl,
    },
    host.now,
    { policy: config.policy, storage: config.storage, random: host.random },
  )
  store.onEvict = (key, cache) => {
    if (channels.evict.hasSubscribers)
      channels.evict.publish({ node: host.node, namespace: name, key, cache })
  }
  const loads = new LoadRunner(config, host, counters)
  const read = new ReadPath(config, host, store, loads, counters)
  const write = new WritePath(config, host, store, read, loads, counters)
  const keys = new Keys(config.name, host.maxKeyBytes)
  // One listener for the node's close, not one per flight: waiters are rejected at once.
  host.signal.addEventListener('abort', () => read.close(), { once: true })
  return {
    namespace: new Namespace(config, { store, read, write, loads, counters, keys }),
    served: servedSide(config.name, { store, read, write, counters, keys }),
    inFlight: () => [...read.flights.inFlight(), ...write.inFlight()],
    groupcacheValues: config.groupcacheValues,
  }
}

/** The side of a namespace that the node's servers call; see {@link ServedNamespace}. */
function servedSide<V>(
  name: string,
  parts: { store: Store; read: ReadPath<V>; write: WritePath<V>; counters: NamespaceCounters; keys: Keys },
): ServedNamespace {
  const { store, read, write, counters, keys } = parts
  /** Checks and counts a request; a bad key is a BurrowError the server answers with. */
  const accept = (key: string): void => {
    const bad = keys.bad(key)
    if (bad !== undefined) throw bad
    counters.serverRequests++
  }
  return {
    name,
    fetch: (key) => {
      const bad = keys.bad(key)
      if (bad !== undefined) return Promise.reject(bad)
      counters.serverRequests++
      counters.gets++
      const hit = store.get(key, false)
      if (hit === undefined) return read.peerMiss(key)
      counters.hits++
      return read.answerOfHit(hit)
    },
    read: (key) => {
      const bad = keys.bad(key)
      if (bad !== undefined) return Promise.reject(bad)
      counters.serverRequests++
      counters.gets++
      const hit = store.get(key, false)
      if (hit !== undefined) {
        counters.hits++
        return hit
      }
      return read.missValue(key)
    },
    peek: (key) => {
      accept(key)
      // The peer asking (a new owner) counts its own miss; this node keeps the key no longer.
      const hit = store.get(key, false)
      if (hit !== undefined) return read.answerOfHit(hit)
      return store.notFound(key) ? read.answerOfHit(NOT_FOUND) : undefined
    },
    store: (key, value, ttl) => {
      accept(key)
      write.store(key, value, ttl)
    },
    purge: (key) => {
      accept(key)
      write.purge(key)
    },
    flush: () => {
      counters.serverRequests++
      write.flush()
    },
    set: async (key, value, ttl) => {
      accept(key)
      return write.set(key, value, ttl)
    },
    delete: async (key) => {
      accept(key)
      return write.delete(key)
    },
  }
}
