/**
 * A namespace's options: their public types, their defaults, and the eager checks that turn them
 * into a {@link NamespaceConfig}. A bad or unknown option fails `node.namespace()` with
 * `BURROW_ERR_BAD_OPTION` and a message naming the option and the value received.
 *
 * @module
 */
import { type Codec, jsonCodec, type StoredValue, type ValueKind } from '../codec.ts'
import { BurrowError, describe } from '../errors.ts'
import {
  booleanOption,
  choiceOption,
  durationOption,
  functionOption,
  integerOption,
  numberOption,
  objectOption,
  onlyKnownOptions,
} from '../options.ts'
import type { StorePolicy, StoreStorage } from '../store/store.ts'
import { MAX_TTL_MS } from '../transport/served.ts'

/** What a loader receives besides the key. */
export interface LoadContext {
  /** Aborts when the node closes; pass it on to the data source. */
  signal: AbortSignal
  /** The namespace the key belongs to. */
  namespace: string
  /**
   * The TTL of what this load returns, in ms: set it to override the namespace's `ttl` (for a
   * value: 0 means never expires) or `notFoundTtl` (for `undefined`: 0 means not cached). Read
   * after the loader settles; a number outside [0, 100 years] fails the load with
   * `BURROW_ERR_BAD_TTL`.
   */
  ttl: number | undefined
}

/**
 * Loads the value of a key from the data source. Return `undefined` for "not found" (cached only
 * with `notFoundTtl`). Without a codec the value must be a `string` or a `Uint8Array`/`Buffer`.
 * Bytes are kept as returned when they fill their own ArrayBuffer; a view into a larger one (a
 * `subarray`, or a small `Buffer.from(…)`, which is a slice of Node's pool) is copied once, so that
 * the cache never keeps the larger buffer alive.
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
   * Under `policy: 'lru'` only: the chance that a value fetched from its owner is kept in the hot
   * cache. The draw uses the node's `random`, so tests can make it certain. Under `'tinylfu'` a
   * fetched value is kept when it has been read here more often, lately, than the copies (or main
   * entries) it would displace.
   * @default 0.1
   */
  probability?: number
  /**
   * The longest a copy of another node's value is kept here, in ms, whatever its own TTL: a
   * node that misses a purge (unreachable during a `set` or `delete`) serves the old copy at most
   * this long. Also bounds values loaded here because their owner was unreachable. 0: no bound.
   * @default 60000
   */
  maxTtl?: number
}

/** The options every namespace takes, whatever its value type. */
export interface BaseNamespaceOptions<V> {
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
  /** The hot cache; `false` turns it off. */
  hot?: HotCacheOptions | false
  /**
   * Which entries stay when the budget is full. `'tinylfu'` (W-TinyLFU) keeps the keys asked for
   * most often lately: a new entry must have been asked for more often than the entries it would
   * displace, so one scan of many keys cannot flush the popular ones. `'lru'` keeps the most
   * recently used, admitting every new entry; pick it when each key is read in bursts and never
   * again, where recency is all there is to go by.
   * @default 'tinylfu'
   */
  policy?: StorePolicy
  /**
   * Where cached keys and values are kept. `'heap'`: as the strings and Uint8Arrays the loader
   * returned, on the JS heap; a hit hands back the very value stored, at no cost. `'offheap'`: as
   * bytes in buffers outside the JS heap, allocated in segments and compacted in place; a hit copies
   * the value out (a new string or bytes each time: 0.5–3 µs for 1 KB), but the garbage
   * collector never traces or promotes the cache, so the process's memory stays close to
   * `maxBytes` under churn. Pick `'offheap'` for large caches whose keys are replaced often; see
   * the README's "Memory" section for figures.
   * @default 'heap'
   */
  storage?: StoreStorage
  /**
   * When the owner cannot be reached (timeout, refused, broken connection), load the key here
   * instead of failing the get. A loader error on the owner is final either way.
   * @default true
   */
  peerFallback?: boolean
  /**
   * How long a loaded or `set` value stays fresh, in ms; 0: never expires. A loader can override
   * it per value with `ctx.ttl`, a `set` with its `ttl` option.
   * @default 0
   */
  ttl?: number
  /**
   * Each TTL is shortened by a random fraction in [0, ttlJitter), drawn once on the owner, so
   * keys loaded together do not all expire together.
   * @default 0
   */
  ttlJitter?: number
  /** How long a "not found" (the loader returned `undefined`) is cached, in ms; 0: not cached. @default 0 */
  notFoundTtl?: number
  /**
   * For how long after its TTL a value may still be served, in ms, while one background refresh
   * runs (stale-while-revalidate); a refresh that fails keeps the stale value served until the
   * window ends (stale-if-error). 0: an expired value is never served.
   * @default 0
   */
  staleTtl?: number
  /**
   * After a background refresh fails, the next one for that key waits this long, doubling after
   * each further failure (up to 64 times this), so a failing data source is not hammered.
   * @default 1000
   */
  refreshBackoffMs?: number
  /**
   * What a value fetched from a Go groupcache peer becomes here (`protocol: 'groupcache'`): it
   * travels as bytes without a kind, so `'bytes'` keeps it a `Uint8Array` and `'string'` decodes
   * it as UTF-8 (a value that is not UTF-8 then fails the get with `BURROW_ERR_BAD_VALUE`, never
   * a string with U+FFFD in it). Required on a node with `protocol: 'groupcache'` unless the
   * namespace has a codec, whose `decode` then receives the value as this kind. It must match
   * the loader's kind (the types check it). Values from burrow peers keep their own kind.
   * @default 'bytes' (with a codec, or over RESP, where it does not apply)
   */
  groupcacheValues?: GroupcacheValues<V>
}

/**
 * The `groupcacheValues` a namespace of `V` may take: `'string'` for strings, `'bytes'` for bytes,
 * either for values that go through a codec (or a loader returning both kinds).
 */
export type GroupcacheValues<V> = [Exclude<Awaited<V>, undefined>] extends [string]
  ? 'string'
  : [Exclude<Awaited<V>, undefined>] extends [Uint8Array]
    ? 'bytes'
    : ValueKind

/**
 * Options of {@link Burrow.namespace}. A namespace whose values are not strings or bytes needs a
 * `codec` (`'json'`, or any `{ encode, decode }`); with a codec, `decode` runs on every get, so
 * each caller gets its own object.
 */
export type NamespaceOptions<V = StoredValue> = BaseNamespaceOptions<V> &
  // A loader that only ever returns undefined (a stub) is inferred as V = undefined: no codec needed.
  ([Exclude<Awaited<V>, undefined>] extends [StoredValue]
    ? { codec?: 'json' | Codec<V> }
    : { codec: 'json' | Codec<V> })

/** A namespace's options, checked and with every default filled in. */
export interface NamespaceConfig<V> {
  name: string
  load: Loader<V>
  codec: Codec<V> | undefined
  maxBytes: number
  maxEntryBytes: number
  hotFraction: number
  hotProbability: number
  hotMaxTtl: number
  policy: StorePolicy
  storage: StoreStorage
  peerFallback: boolean
  ttl: number
  ttlJitter: number
  notFoundTtl: number
  staleTtl: number
  refreshBackoffMs: number
  groupcacheValues: ValueKind
}

const KNOWN = [
  'load',
  'maxBytes',
  'maxEntryBytes',
  'codec',
  'hot',
  'policy',
  'storage',
  'peerFallback',
  'ttl',
  'ttlJitter',
  'notFoundTtl',
  'staleTtl',
  'refreshBackoffMs',
  'groupcacheValues',
] as const
const KNOWN_HOT = ['fraction', 'probability', 'maxTtl'] as const

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

/** Checks every option of namespace `name` and fills in the defaults. */
export function resolveOptions<V>(name: string, options: unknown): NamespaceConfig<V> {
  const opts = objectOption<BaseNamespaceOptions<V> & { codec?: unknown }>('options', options)
  onlyKnownOptions(name, opts, KNOWN)
  const maxBytes = integerOption(`${name}.maxBytes`, opts.maxBytes, 64 * 1024 * 1024)
  const hot =
    opts.hot === false
      ? { fraction: 0, probability: 0 }
      : objectOption<HotCacheOptions>(`${name}.hot`, opts.hot)
  onlyKnownOptions(`${name}.hot`, hot, KNOWN_HOT)
  return {
    name: checkNamespaceName(name),
    load: functionOption<Loader<V>>(`${name}.load`, opts.load),
    codec: resolveCodec<V>(name, opts.codec),
    maxBytes,
    maxEntryBytes: integerOption(
      `${name}.maxEntryBytes`,
      opts.maxEntryBytes,
      Math.floor(maxBytes / 8),
      0,
      maxBytes,
    ),
    hotFraction: numberOption(`${name}.hot.fraction`, hot.fraction, 0.125, 0, 0.5),
    hotProbability: numberOption(`${name}.hot.probability`, hot.probability, 0.1, 0, 1),
    hotMaxTtl: durationOption(`${name}.hot.maxTtl`, hot.maxTtl, 60_000, MAX_TTL_MS),
    policy: choiceOption(`${name}.policy`, opts.policy, ['tinylfu', 'lru']),
    storage: choiceOption(`${name}.storage`, opts.storage, ['heap', 'offheap']),
    peerFallback: booleanOption(`${name}.peerFallback`, opts.peerFallback, true),
    ttl: durationOption(`${name}.ttl`, opts.ttl, 0, MAX_TTL_MS),
    ttlJitter: jitterOption(`${name}.ttlJitter`, opts.ttlJitter),
    notFoundTtl: durationOption(`${name}.notFoundTtl`, opts.notFoundTtl, 0, MAX_TTL_MS),
    staleTtl: durationOption(`${name}.staleTtl`, opts.staleTtl, 0, MAX_TTL_MS),
    refreshBackoffMs: durationOption(`${name}.refreshBackoffMs`, opts.refreshBackoffMs, 1000, MAX_TTL_MS),
    groupcacheValues: choiceOption(`${name}.groupcacheValues`, opts.groupcacheValues, ['bytes', 'string']),
  }
}

/** A fraction in [0, 1): a jitter of 1 could shorten a TTL to nothing. */
function jitterOption(name: string, value: unknown): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option ${name} must be a number in [0, 1), received ${describe(value)}`,
    )
  }
  return value
}

function resolveCodec<V>(name: string, codec: unknown): Codec<V> | undefined {
  if (codec === undefined) return undefined
  if (codec === 'json') return jsonCodec as Codec<V>
  if (
    codec !== null &&
    typeof codec === 'object' &&
    typeof (codec as Codec<V>).encode === 'function' &&
    typeof (codec as Codec<V>).decode === 'function'
  ) {
    return codec as Codec<V>
  }
  throw new BurrowError(
    'BURROW_ERR_BAD_OPTION',
    `option ${name}.codec must be 'json' or { encode, decode }, received ${describe(codec)}`,
  )
}
