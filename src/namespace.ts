/**
 * A namespace: a named cache with its own byte budget and loader, and the read path of a get —
 * main cache, hot cache, then one flight per key that asks the owner or calls the loader.
 *
 * @module
 */
import { type Codec, checkStored, jsonCodec, runCodec, type StoredValue } from './codec.ts'
import { BurrowError, describe } from './errors.ts'
import { untilAborted } from './flight.ts'
import { booleanOption, functionOption, integerOption, numberOption, objectOption } from './options.ts'
import type { LruStats } from './store/lru.ts'
import { Store } from './store/store.ts'

/** What a loader receives besides the key. */
export interface LoadContext {
  /** Aborts when the node closes; pass it on to the data source. */
  signal: AbortSignal
  /** The namespace the key belongs to. */
  namespace: string
}

/**
 * Loads the value of a key from the data source. Return `undefined` for "not found" (nothing is
 * cached). Without a codec the value must be a `string` or a `Uint8Array`/`Buffer`.
 */
export type Loader<V> = (key: string, context: LoadContext) => V | undefined | Promise<V | undefined>

/** Hot cache settings: copies of values owned by other nodes, kept because they are read here. */
export interface HotCacheOptions {
  /**
   * The hot cache's most share of `maxBytes`, from 0 (no hot cache) to 0.5.
   * @default 0.125
   */
  fraction?: number
  /**
   * The chance that a value fetched from its owner is kept in the hot cache. The draw uses the
   * node's `random`, so tests can make it certain.
   * @default 0.1
   */
  probability?: number
}

/** Options of {@link Burrow.namespace}. */
export interface NamespaceOptions<V = StoredValue> {
  /** Loads a missing key from the data source; called on the key's owner, once per key at a time. */
  load: Loader<V>
  /**
   * The byte budget shared by the main and the hot cache; 0 stores nothing (every get loads).
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number
  /**
   * The largest entry (key + value + overhead) that is stored; a larger value is returned to its
   * callers but not kept, so that one huge value cannot flush the cache.
   * @default maxBytes / 8
   */
  maxEntryBytes?: number
  /**
   * How values other than strings and bytes are stored: `'json'`, or any `{ encode, decode }`.
   * With a codec, `decode` runs on every get, so each caller gets its own object.
   */
  codec?: 'json' | Codec<V>
  /** The hot cache; `false` turns it off. */
  hot?: HotCacheOptions | false
  /**
   * When the owner cannot be reached (timeout, refused, broken connection), load the key here
   * instead of failing the get. A loader error on the owner is final either way.
   * @default true
   */
  peerFallback?: boolean
}

/** Options of a single get. */
export interface GetOptions {
  /** Aborting rejects this get at once with the signal's reason; the shared load goes on. */
  signal?: AbortSignal
}

/** Counters and sizes of one namespace, as found in `node.stats().namespaces[name]`. */
export interface NamespaceStats {
  /** Calls of `get`. */
  gets: number
  /** Gets answered from the main or the hot cache. */
  hits: number
  /** Gets that missed the cache and joined or started a flight. */
  loads: number
  /** Misses that joined a flight already running, so no second load was made. */
  loadsDeduped: number
  /** Loader calls made on this node. */
  localLoads: number
  /** Loader calls made on this node that threw or returned a bad value. */
  localLoadErrors: number
  /** Values (or not-founds) fetched from their owner. */
  peerLoads: number
  /** Fetches from an owner that failed (timeout, unreachable, protocol error). */
  peerErrors: number
  /** Of the peer errors, those answered by loading here instead (`peerFallback`). */
  fallbackLoads: number
  /** Requests that other nodes (or HTTP/RESP clients) sent to this namespace here. */
  serverRequests: number
  /** The main cache: values this node owns or loaded itself. */
  main: LruStats
  /** The hot cache: copies of values owned by other nodes. */
  hot: LruStats
  /** The byte budget shared by main and hot. */
  maxBytes: number
}

/** What a namespace needs from its node. Implemented by `Burrow`; a leaf interface, no import upward. */
export interface NamespaceHost {
  /** Aborts when the node closes. */
  readonly signal: AbortSignal
  readonly random: () => number
  readonly maxKeyBytes: number
  /** The owner of `key` when it is another node; `undefined` when this node owns it. */
  remoteOwner(key: string): string | undefined
  /**
   * Asks `peer` for `key` in `namespace`: the value, or `undefined` for not found. Rejects with a
   * BurrowError: `BURROW_ERR_LOADER` when the owner's loader failed, another code when the peer
   * could not answer.
   */
  fetch(peer: string, namespace: string, key: string, signal: AbortSignal): Promise<StoredValue | undefined>
}

/** Symbol-keyed entry point for the node's servers: not part of the public surface. */
export const serveLocal: unique symbol = Symbol('burrow.serveLocal')

const NAME = /^[A-Za-z0-9._-]{1,64}$/

/** Checks a namespace name; see `BURROW_ERR_BAD_NAMESPACE`. */
export function checkNamespaceName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BurrowError(
      'BURROW_ERR_BAD_NAMESPACE',
      `a namespace name must be 1-64 characters of A-Z a-z 0-9 . _ -, received ${describe(name)}`,
    )
  }
  return name
}

/** Peer errors that mean "the owner could not answer", as opposed to "the owner's loader failed". */
const UNREACHABLE = new Set([
  'BURROW_ERR_FRAME_TOO_LARGE',
  'BURROW_ERR_PEER_TIMEOUT',
  'BURROW_ERR_PEER_UNAVAILABLE',
  'BURROW_ERR_PROTOCOL',
  'BURROW_ERR_UNKNOWN_NAMESPACE',
])

/**
 * A named cache. Made by `node.namespace(name, options)`; not constructed directly.
 *
 * @example
 * const users = node.namespace('users', { maxBytes: 32 << 20, load: (id) => db.user(id), codec: 'json' })
 * const user = await users.get('42')
 */
export class Namespace<V = StoredValue> {
  /** The namespace's name. */
  readonly name: string
  #host: NamespaceHost
  #load: Loader<V>
  #codec: Codec<V> | undefined
  #store: Store
  /**
   * Running flights by key: every concurrent miss of a key waits on the one promise. Flights that
   * run the loader here and flights that ask the owner are kept apart, because a request from a
   * peer may only join the former: joining a flight that asks a peer would be forwarding, and two
   * nodes that disagree about the owner would then wait on each other until the deadline.
   *
   * They are null-prototype objects, not Maps: with one set and one delete per miss, a Map keyed
   * by strings kept a third of each scavenge's young objects alive (measured with --trace-gc-nvp:
   * 3.8 ms pauses and 31 % survival, against 0.2 ms and 1.6 % for an object), and those pauses
   * were the remote p99.
   */
  #local = flightTable()
  #remote = flightTable()
  /** Rejecters of the flights running the loader here, for close. */
  #guards = new Set<{ key: string; reject: (err: unknown) => void }>()
  #hotProbability: number
  #peerFallback: boolean
  #keyCharsFast: number
  #counters = {
    gets: 0,
    hits: 0,
    loads: 0,
    loadsDeduped: 0,
    localLoads: 0,
    localLoadErrors: 0,
    peerLoads: 0,
    peerErrors: 0,
    fallbackLoads: 0,
    serverRequests: 0,
  }

  /** @internal Use `node.namespace(name, options)`. */
  constructor(host: NamespaceHost, name: string, options: NamespaceOptions<V>) {
    const opts = objectOption<NamespaceOptions<V>>('options', options)
    this.name = checkNamespaceName(name)
    this.#host = host
    this.#load = functionOption<Loader<V>>(`${name}.load`, opts.load)
    const maxBytes = integerOption(`${name}.maxBytes`, opts.maxBytes, 64 * 1024 * 1024)
    const maxEntryBytes = integerOption(
      `${name}.maxEntryBytes`,
      opts.maxEntryBytes,
      Math.floor(maxBytes / 8),
      0,
      maxBytes,
    )
    const hot =
      opts.hot === false
        ? { fraction: 0, probability: 0 }
        : objectOption<HotCacheOptions>(`${name}.hot`, opts.hot)
    const fraction = numberOption(`${name}.hot.fraction`, hot.fraction, 0.125, 0, 0.5)
    this.#hotProbability = numberOption(`${name}.hot.probability`, hot.probability, 0.1, 0, 1)
    this.#peerFallback = booleanOption(`${name}.peerFallback`, opts.peerFallback, true)
    this.#codec = resolveCodec(name, opts.codec)
    this.#store = new Store({ maxBytes, maxEntryBytes, maxHotBytes: Math.floor(maxBytes * fraction) })
    // One listener for the node's close, not one per flight: waiters are rejected at once.
    host.signal.addEventListener('abort', () => this.#closeFlights(), { once: true })
    // A UTF-16 code unit is at most 3 UTF-8 bytes, so short keys need no byte count.
    this.#keyCharsFast = Math.floor(host.maxKeyBytes / 3)
  }

  /**
   * The value of `key`: from the local caches, else from its owner, else from the loader — once
   * per key at a time however many callers ask. Resolves `undefined` when the loader returned
   * `undefined`. Rejects with a BurrowError: `BURROW_ERR_BAD_KEY`, `BURROW_ERR_LOADER` (cause
   * kept), `BURROW_ERR_BAD_VALUE`, `BURROW_ERR_CODEC`, `BURROW_ERR_CLOSED`; or with
   * `signal.reason` when the caller's signal aborts.
   *
   * Bytes are returned as the cached `Uint8Array` itself, not a copy: do not modify them.
   */
  get(key: string, options?: GetOptions): Promise<V | undefined> {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.#keyCharsFast) {
      const bad = this.#badKey(key)
      if (bad !== undefined) return Promise.reject(bad)
    }
    this.#counters.gets++
    const hit = this.#store.get(key)
    if (hit !== undefined) {
      this.#counters.hits++
      if (this.#codec === undefined) return Promise.resolve(hit as V)
      try {
        return Promise.resolve(this.#decode(key, hit))
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return this.#miss(key, options?.signal)
  }

  /**
   * The locally cached value of `key` (main or hot cache), or `undefined`. Synchronous; never
   * loads and never asks a peer. Counts as a use for recency. Throws `BURROW_ERR_BAD_KEY`.
   */
  peek(key: string): V | undefined {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.#keyCharsFast) {
      const bad = this.#badKey(key)
      if (bad !== undefined) throw bad
    }
    const hit = this.#store.get(key)
    if (hit === undefined || this.#codec === undefined) return hit as V | undefined
    return this.#decode(key, hit)
  }

  /** Removes `key` from this node's caches (not yet from other nodes). Returns whether it was held. */
  delete(key: string): boolean {
    const bad = this.#badKey(key)
    if (bad !== undefined) throw bad
    return this.#store.delete(key)
  }

  /** Counters and sizes; a fresh plain object on every call. */
  stats(): NamespaceStats {
    return { ...this.#counters, ...this.#store.stats(), maxBytes: this.#store.limits.maxBytes }
  }

  /**
   * Serves a request that came from another node or a client of the node's servers: answers from
   * the cache or loads here, and never forwards to another node when `fromPeer` is set. A hit is
   * returned as the value itself, not a promise, so the server can answer it in the same tick.
   */
  [serveLocal](key: string, fromPeer: boolean): StoredValue | Promise<StoredValue | undefined> {
    const bad = this.#badKey(key)
    if (bad !== undefined) return Promise.reject(bad)
    this.#counters.serverRequests++
    this.#counters.gets++
    const hit = this.#store.get(key)
    if (hit !== undefined) {
      this.#counters.hits++
      return hit
    }
    return this.#join(key, fromPeer)
  }

  /** Drops every cached value; used by `node.close()`. */
  clear(): void {
    this.#store.clear()
  }

  #miss(key: string, signal: AbortSignal | undefined): Promise<V | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    const flight = this.#join(key, false)
    const waited = signal === undefined ? flight : untilAborted(flight, signal)
    if (this.#codec === undefined) return waited as Promise<V | undefined>
    return waited.then((stored) => (stored === undefined ? undefined : this.#decode(key, stored)))
  }

  #join(key: string, fromPeer: boolean): Promise<StoredValue | undefined> {
    if (this.#host.signal.aborted) return Promise.reject(this.#closedError(key))
    // A lone surrogate would reach the owner (or a data source) as U+FFFD: another key.
    if (!key.isWellFormed()) {
      return Promise.reject(
        new BurrowError('BURROW_ERR_BAD_KEY', 'a key must be well-formed UTF-16 (it has a lone surrogate)', {
          namespace: this.name,
        }),
      )
    }
    this.#counters.loads++
    const running = this.#local[key] ?? (fromPeer ? undefined : this.#remote[key])
    if (running !== undefined) {
      this.#counters.loadsDeduped++
      return running
    }
    // The caller checked the cache in this same tick, so no flight can have filled it since.
    const owner = fromPeer ? undefined : this.#host.remoteOwner(key)
    return owner === undefined ? this.#localFlight(key) : this.#remoteFlight(owner, key)
  }

  /**
   * Asks the owner. Each outcome ends the flight itself (no extra promise per miss for that).
   * The peer client settles every request by its deadline, and at once when the node closes.
   */
  #remoteFlight(owner: string, key: string): Promise<StoredValue | undefined> {
    const flight = this.#host.fetch(owner, this.name, key, this.#host.signal).then(
      (value) => {
        delete this.#remote[key]
        this.#counters.peerLoads++
        if (value !== undefined && this.#hotProbability > 0 && this.#host.random() < this.#hotProbability) {
          this.#store.set('hot', key, value)
        }
        return value
      },
      (err: unknown) => {
        const unreachable =
          err instanceof BurrowError && UNREACHABLE.has(err.code) && !this.#host.signal.aborted
        if (unreachable) this.#counters.peerErrors++
        if (!unreachable || !this.#peerFallback) {
          delete this.#remote[key]
          throw err
        }
        this.#counters.fallbackLoads++
        const local = this.#local[key] ?? this.#localFlight(key)
        const forget = (): void => {
          if (this.#remote[key] === flight) delete this.#remote[key]
        }
        local.then(forget, forget)
        return local
      },
    )
    this.#remote[key] = flight
    return flight
  }

  /**
   * Calls the loader here. The loader is user code that may ignore its signal, so the flight is
   * guarded: closing the node rejects its waiters at once.
   */
  #localFlight(key: string): Promise<StoredValue | undefined> {
    const flight = new Promise<StoredValue | undefined>((resolve, reject) => {
      const guard = { key, reject }
      this.#guards.add(guard)
      const done = (): void => {
        this.#guards.delete(guard)
        delete this.#local[key]
      }
      this.#loadHere(key).then(
        (value) => {
          done()
          resolve(value)
        },
        (err: unknown) => {
          done()
          reject(err)
        },
      )
    })
    this.#local[key] = flight
    return flight
  }

  /** Rejects the waiters of every running flight; the node is closing. */
  #closeFlights(): void {
    for (const { key, reject } of this.#guards) reject(this.#closedError(key))
    this.#guards.clear()
    this.#local = flightTable()
    this.#remote = flightTable()
  }

  async #loadHere(key: string): Promise<StoredValue | undefined> {
    this.#counters.localLoads++
    let loaded: V | undefined
    try {
      loaded = await this.#load(key, { signal: this.#host.signal, namespace: this.name })
    } catch (err) {
      this.#counters.localLoadErrors++
      throw new BurrowError(
        'BURROW_ERR_LOADER',
        `the loader of namespace ${this.name} failed for key ${JSON.stringify(key.slice(0, 64))}`,
        {
          cause: err,
          namespace: this.name,
          key,
        },
      )
    }
    if (loaded === undefined) return undefined
    let stored: StoredValue
    try {
      stored = this.#encode(key, loaded)
    } catch (err) {
      this.#counters.localLoadErrors++
      throw err
    }
    if (!this.#host.signal.aborted) this.#store.set('main', key, stored)
    return stored
  }

  #encode(key: string, value: V): StoredValue {
    const codec = this.#codec
    if (codec === undefined) return checkStored(value, this.name, key)
    const encoded = runCodec(() => codec.encode(value), 'encode', this.name, key)
    if (typeof encoded !== 'string' && !(encoded instanceof Uint8Array)) {
      throw new BurrowError(
        'BURROW_ERR_CODEC',
        `the codec of namespace ${this.name} encoded key ${JSON.stringify(key.slice(0, 64))} as ${describe(encoded)}`,
        {
          namespace: this.name,
          key,
        },
      )
    }
    return encoded
  }

  #decode(key: string, stored: StoredValue): V {
    const codec = this.#codec!
    return runCodec(() => codec.decode(stored), 'decode', this.name, key)
  }

  #badKey(key: unknown): BurrowError | undefined {
    if (typeof key !== 'string' || key.length === 0) {
      return new BurrowError(
        'BURROW_ERR_BAD_KEY',
        `a key must be a non-empty string, received ${describe(key)}`,
        {
          namespace: this.name,
        },
      )
    }
    if (key.length <= this.#keyCharsFast) return undefined
    const bytes = Buffer.byteLength(key, 'utf8')
    if (bytes <= this.#host.maxKeyBytes) return undefined
    return new BurrowError(
      'BURROW_ERR_BAD_KEY',
      `a key may be at most ${this.#host.maxKeyBytes} bytes of UTF-8 (maxKeyBytes), received ${bytes} bytes`,
      { namespace: this.name, key: key.slice(0, 64) },
    )
  }

  #closedError(key: string): BurrowError {
    return new BurrowError(
      'BURROW_ERR_CLOSED',
      `the node is closed; namespace ${this.name} takes no new loads`,
      {
        namespace: this.name,
        key,
      },
    )
  }
}

/** Running flights by key, in an object without a prototype (so any string is a safe key). */
function flightTable(): Record<string, Promise<StoredValue | undefined> | undefined> {
  return Object.create(null)
}

function resolveCodec<V>(name: string, codec: NamespaceOptions<V>['codec']): Codec<V> | undefined {
  if (codec === undefined) return undefined
  if (codec === 'json') return jsonCodec as Codec<V>
  if (
    codec !== null &&
    typeof codec === 'object' &&
    typeof codec.encode === 'function' &&
    typeof codec.decode === 'function'
  ) {
    return codec
  }
  throw new BurrowError(
    'BURROW_ERR_BAD_OPTION',
    `option ${name}.codec must be 'json' or { encode, decode }, received ${describe(codec)}`,
  )
}
