/**
 * Running the user's loader and codec: the load context (with its `ttl`), wrapping what the loader
 * throws, checking or encoding what it returns, and turning a TTL into the time an answer stays
 * fresh, jittered once, here on the owner.
 *
 * @module
 */
import {
  type Codec,
  checkStored,
  jsonCodec,
  ownBytes,
  ownValue,
  runCodec,
  type StoredValue,
} from '../codec.ts'
import { channels, loadTimer, NOT_TIMED, since } from '../diagnostics.ts'
import { BurrowError, describe } from '../errors.ts'
import { type Answer, DO_NOT_KEEP, MAX_TTL_MS, NO_EXPIRY } from '../transport/served.ts'
import type { NamespaceHost } from './host.ts'
import type { LoadContext, NamespaceConfig } from './options.ts'
import type { NamespaceCounters } from './stats.ts'

/** Runs one namespace's loader and codec. */
export class LoadRunner<V> {
  #config: NamespaceConfig<V>
  /** Kept strings are copied (see `keep`): on the heap, unless the built-in JSON codec made them, flat. */
  readonly #copiesStrings: boolean
  #host: NamespaceHost
  #counters: NamespaceCounters

  constructor(config: NamespaceConfig<V>, host: NamespaceHost, counters: NamespaceCounters) {
    this.#config = config
    this.#copiesStrings = config.storage === 'heap' && config.codec !== jsonCodec
    this.#host = host
    this.#counters = counters
  }

  /**
   * Calls the loader for `key`: resolves the stored value (or `undefined`) and how long it stays
   * fresh; rejects with `BURROW_ERR_LOADER` (the loader's error as `cause`), `BURROW_ERR_BAD_VALUE`,
   * `BURROW_ERR_CODEC` or `BURROW_ERR_BAD_TTL`; or `BURROW_ERR_OVERLOADED` when the node's load
   * gate is full (the loader is not called then).
   */
  load(key: string): Promise<Answer> {
    const turn = this.#host.loads.enter()
    if (turn !== undefined) return turn.then(() => this.#admitted(key))
    return this.#admitted(key)
  }

  /**
   * Runs the loader with a turn of the load gate held, and gives the turn back once it settles.
   * Not `async`: one `then` on the loader's promise (none for a synchronous loader) allocates far
   * less per miss than two async functions did (BENCHMARKS.md, "Memory under churn").
   */
  #admitted(key: string): Promise<Answer> {
    const config = this.#config
    this.#counters.localLoads++
    const started = loadTimer()
    if (started !== NOT_TIMED && channels.loadStart.hasSubscribers)
      channels.loadStart.publish({ node: this.#host.node, namespace: config.name, key })
    const context: LoadContext = { signal: this.#host.signal, namespace: config.name, ttl: undefined }
    let loaded: V | undefined | PromiseLike<V | undefined>
    try {
      loaded = config.load(key, context)
    } catch (err) {
      this.#host.loads.leave()
      return Promise.reject(this.#loadFailed(key, started, this.#failed(key, err)))
    }
    if (typeof (loaded as PromiseLike<unknown> | undefined)?.then !== 'function') {
      this.#host.loads.leave()
      try {
        return Promise.resolve(this.#ended(key, started, loaded as V | undefined, context))
      } catch (err) {
        return Promise.reject(this.#loadFailed(key, started, err))
      }
    }
    return Promise.resolve(loaded).then(
      (value) => {
        this.#host.loads.leave()
        try {
          return this.#ended(key, started, value, context)
        } catch (err) {
          throw this.#loadFailed(key, started, err)
        }
      },
      (err: unknown) => {
        this.#host.loads.leave()
        throw this.#loadFailed(key, started, this.#failed(key, err))
      },
    )
  }

  /** The answer for what the loader returned, published on `burrow:load.end` for subscribers. */
  #ended(key: string, started: number, loaded: V | undefined, context: LoadContext): Answer {
    const answer = this.#answer(key, loaded, context)
    if (channels.loadEnd.hasSubscribers) {
      channels.loadEnd.publish({
        node: this.#host.node,
        namespace: this.#config.name,
        key,
        durationMs: since(started),
        found: answer.value !== undefined,
      })
    }
    return answer
  }

  /** `error`, published on `burrow:load.error` for subscribers. */
  #loadFailed(key: string, started: number, error: unknown): unknown {
    if (channels.loadError.hasSubscribers) {
      channels.loadError.publish({
        node: this.#host.node,
        namespace: this.#config.name,
        key,
        durationMs: since(started),
        error,
      })
    }
    return error
  }

  /** What the loader's error becomes. */
  #failed(key: string, err: unknown): BurrowError {
    this.#counters.localLoadErrors++
    const name = this.#config.name
    return new BurrowError(
      'BURROW_ERR_LOADER',
      `the loader of namespace ${name} failed for key ${quote(key)}`,
      {
        cause: err,
        namespace: name,
        key,
      },
    )
  }

  /** The answer for what the loader returned: checked or encoded, with its TTL. */
  #answer(key: string, loaded: V | undefined, context: LoadContext): Answer {
    try {
      const ttl =
        context.ttl === undefined ? undefined : checkTtl(context.ttl, 'ctx.ttl', this.#config.name, key)
      if (loaded === undefined) return { value: undefined, ttlMs: this.notFoundTtl(ttl) }
      return { value: this.keep(this.encode(key, loaded)), ttlMs: this.valueTtl(ttl) }
    } catch (err) {
      this.#counters.localLoadErrors++
      throw err
    }
  }

  /**
   * How long a value stays fresh, as an answer's `ttlMs`: `ttl` (or the namespace's), jittered;
   * `NO_EXPIRY` when it is 0.
   */
  valueTtl(ttl: number | undefined): number {
    return this.#jitter(ttl ?? this.#config.ttl, NO_EXPIRY)
  }

  /** How long a not-found stays cached, as an answer's `ttlMs`; `DO_NOT_KEEP` when it is 0. */
  notFoundTtl(ttl: number | undefined): number {
    return this.#jitter(ttl ?? this.#config.notFoundTtl, DO_NOT_KEEP)
  }

  /**
   * `value` as this node keeps it: with `storage: 'heap'`, a string that may view a longer one is
   * copied (`ownValue`); off the heap its characters are copied into the arena anyway.
   */
  keep(value: StoredValue): StoredValue {
    return this.#copiesStrings ? ownValue(value) : value
  }

  /**
   * A value to store: checked to be a string or bytes, or encoded by the codec; bytes that view a
   * larger buffer are copied (see `ownBytes`).
   */
  encode(key: string, value: V): StoredValue {
    const codec = this.#config.codec
    if (codec === undefined) return ownBytes(checkStored(value, this.#config.name, key))
    const encoded = runCodec(() => codec.encode(value), 'encode', this.#config.name, key)
    if (typeof encoded !== 'string' && !(encoded instanceof Uint8Array)) {
      throw new BurrowError(
        'BURROW_ERR_CODEC',
        `the codec of namespace ${this.#config.name} encoded key ${quote(key)} as ${describe(encoded)}`,
        { namespace: this.#config.name, key },
      )
    }
    return ownBytes(encoded)
  }

  /** A stored value turned back into a `V` by the codec (there must be one). */
  decode(key: string, stored: StoredValue): V {
    const codec = this.#config.codec as Codec<V>
    return runCodec(() => codec.decode(stored), 'decode', this.#config.name, key)
  }

  /** `ms` shortened by a random fraction in [0, ttlJitter); `zero` when `ms` is 0. At least 1 ms. */
  #jitter(ms: number, zero: number): number {
    if (ms === 0) return zero
    const jitter = this.#config.ttlJitter
    const shortened = jitter === 0 ? ms : ms - ms * jitter * this.#host.random()
    return Math.max(1, Math.round(shortened))
  }
}

/**
 * A TTL given at run time, checked: a number of ms in [0, 100 years], rounded up to a whole
 * millisecond; else `BURROW_ERR_BAD_TTL`.
 */
export function checkTtl(ttl: unknown, what: string, namespace: string, key: string): number {
  if (typeof ttl === 'number' && ttl >= 0 && ttl <= MAX_TTL_MS) return Math.ceil(ttl)
  throw new BurrowError(
    'BURROW_ERR_BAD_TTL',
    `${what} must be a number of milliseconds from 0 (never expires) to ${MAX_TTL_MS} (100 years), received ${describe(ttl)}`,
    { namespace, key },
  )
}

/** A key for an error message: quoted, and cut at 64 characters. */
export function quote(key: string): string {
  return JSON.stringify(key.slice(0, 64))
}
