/**
 * The write path of a namespace. `set` stores the value on the key's owner, then purges every
 * other node; `delete` purges every node. Either resolves once the owner has applied the write
 * and every reachable peer has acknowledged its purge, so no get that starts afterwards, on any
 * node that was reached, returns the old value. Applying a write detaches the key's running
 * flights, so a load that was under way when the write came is not cached.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'
import { channels } from '../diagnostics.ts'
import { BurrowError } from '../errors.ts'
import type { Store } from '../store/store.ts'
import { DEFAULT_TTL, type WriteResult, type WriteTtl } from '../transport/served.ts'
import type { NamespaceHost } from './host.ts'
import type { LoadRunner } from './loader.ts'
import type { NamespaceConfig } from './options.ts'
import type { ReadPath } from './read-path.ts'
import type { NamespaceCounters } from './stats.ts'

/** The writes of one namespace. */
export class WritePath<V> {
  #config: NamespaceConfig<V>
  #host: NamespaceHost
  #store: Store
  #read: ReadPath<V>
  #loads: LoadRunner<V>
  #counters: NamespaceCounters

  /** Writes started here and not settled yet. */
  #running = new Set<Promise<WriteResult>>()

  constructor(
    config: NamespaceConfig<V>,
    host: NamespaceHost,
    store: Store,
    read: ReadPath<V>,
    loads: LoadRunner<V>,
    counters: NamespaceCounters,
  ) {
    this.#config = config
    this.#host = host
    this.#store = store
    this.#read = read
    this.#loads = loads
    this.#counters = counters
  }

  /**
   * Stores `value` on the owner of `key` and purges the key from every other node. When the owner
   * cannot be reached the write fails with its error, after the other nodes were purged anyway.
   */
  set(key: string, value: StoredValue, ttl: WriteTtl, signal?: AbortSignal): Promise<WriteResult> {
    return this.#track(this.#set(key, value, ttl, signal))
  }

  /** Purges `key` from every node, this one included; the owner's purge is its delete. */
  delete(key: string, signal?: AbortSignal): Promise<WriteResult> {
    return this.#track(this.#delete(key, signal))
  }

  /** The writes running now: what a graceful close waits for. */
  inFlight(): Promise<unknown>[] {
    return [...this.#running]
  }

  #track(write: Promise<WriteResult>): Promise<WriteResult> {
    this.#running.add(write)
    const done = (): void => {
      this.#running.delete(write)
    }
    write.then(done, done)
    return write
  }

  async #set(key: string, value: StoredValue, ttl: WriteTtl, signal?: AbortSignal): Promise<WriteResult> {
    this.#counters.sets++
    this.#checkOpen(key)
    // No node would keep it (Store.set refuses it): the write is a delete, and nothing large travels.
    if (!this.#store.fits('main', key, value)) return this.#deleteEverywhere(key, signal)
    const owner = this.#host.remoteOwner(key)
    const unreachable: string[] = []
    if (owner === undefined) {
      this.store(key, this.#loads.keep(value), ttl)
    } else {
      try {
        await this.#host.store(owner, this.#config.name, key, value, ttl, signal ?? this.#host.signal)
      } catch (err) {
        // The old value may be cached anywhere: drop it from every node before failing, with
        // the owner's error (not one raised while purging). The owner too, once it answers.
        if (!this.#host.signal.aborted) this.#host.owe(owner, this.#config.name, key)
        this.purge(key)
        await this.#purgePeers(key, owner, unreachable, signal).catch(() => {})
        throw err
      }
      this.purge(key)
    }
    await this.#purgePeers(key, owner, unreachable, signal)
    return { unreachable }
  }

  async #delete(key: string, signal?: AbortSignal): Promise<WriteResult> {
    this.#counters.deletes++
    this.#checkOpen(key)
    return this.#deleteEverywhere(key, signal)
  }

  /**
   * The owner first: a node purged before the owner could fetch the old value from it again and
   * keep it. Then this node and every other peer, in parallel.
   */
  async #deleteEverywhere(key: string, signal: AbortSignal | undefined): Promise<WriteResult> {
    const owner = this.#host.remoteOwner(key)
    const unreachable: string[] = []
    if (owner !== undefined) await this.#purgeOn([owner], key, unreachable, signal)
    this.purge(key)
    await this.#purgePeers(key, owner, unreachable, signal)
    return { unreachable }
  }

  /** Applies a write here, as the key's owner: the value replaces any copy and any running load. */
  store(key: string, value: StoredValue, ttl: WriteTtl): void {
    this.#counters.stores++
    this.#read.flights.detach(key)
    this.#read.forgetBackoff(key)
    const ttlMs = this.#loads.valueTtl(ttl === DEFAULT_TTL ? undefined : ttl)
    // A value too large to keep is not stored, and the old copy goes with it (Store.set).
    this.#store.set('main', key, value, this.#read.deadline(ttlMs, false))
  }

  /** Drops `key` from this node's caches and detaches its running loads. */
  purge(key: string): void {
    this.#counters.purges++
    this.#read.flights.detach(key)
    this.#read.forgetBackoff(key)
    this.#store.delete(key)
  }

  /**
   * Drops every entry of this namespace here and detaches every running load: this node missed
   * more purges, while it could not be reached, than a peer keeps for it.
   */
  flush(): void {
    this.#counters.flushes++
    this.#read.flights.detachAll()
    this.#read.forgetAllBackoffs()
    this.#store.clear()
  }

  /** Purges `key` on every peer but `skip`, in parallel; peers that could not be reached go to `unreachable`. */
  async #purgePeers(
    key: string,
    skip: string | undefined,
    unreachable: string[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.#purgeOn(
      this.#host.otherPeers().filter((peer) => peer !== skip),
      key,
      unreachable,
      signal,
    )
  }

  async #purgeOn(
    peers: readonly string[],
    key: string,
    unreachable: string[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const missed = unreachable.length
    const namespace = this.#config.name
    const sent = (peer: string, error: unknown): void => {
      if (channels.purgeSent.hasSubscribers)
        channels.purgeSent.publish({ node: this.#host.node, peer, namespace, key, error })
    }
    await Promise.all(
      peers.map((peer) =>
        this.#host.purge(peer, namespace, key, signal ?? this.#host.signal).then(
          () => sent(peer, undefined),
          (err: unknown) => {
            sent(peer, err)
            // A peer without this namespace holds no copy of the key.
            if (err instanceof BurrowError && err.code === 'BURROW_ERR_UNKNOWN_NAMESPACE') return
            unreachable.push(peer)
            // It may hold a copy: the purge goes to it again once it answers (unless the caller
            // gave up on the write, or the node closes).
            if (!this.#host.signal.aborted && !signal?.aborted) this.#host.owe(peer, namespace, key)
          },
        ),
      ),
    )
    if (signal?.aborted) throw signal.reason
    this.#checkOpen(key)
    this.#counters.unreachablePeers += unreachable.length - missed
    unreachable.sort()
  }

  #checkOpen(key: string): void {
    if (this.#host.signal.aborted) {
      throw new BurrowError(
        'BURROW_ERR_CLOSED',
        `the node is closed; namespace ${this.#config.name} takes no writes`,
        {
          namespace: this.#config.name,
          key,
        },
      )
    }
  }
}
