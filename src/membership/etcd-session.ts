/**
 * One node's session with etcd, as `etcdPeers` starts it: this node's key on a lease kept alive,
 * and a watch on the prefix. The watch only says *that* something changed; the list handed to the
 * node always comes from a read of the whole prefix, so a change is never half applied, and a read
 * after every reconnect covers anything a broken stream dropped. The watch starts at the revision
 * after the first read, so a change between the two is seen.
 *
 * Everything that goes wrong after start (a lost connection, a lost lease, a failed read) sets a
 * flag and one repair loop mends it, retrying with a backoff; the node's ring stays as it was.
 *
 * @module
 */

import { once } from 'node:events'
import { Etcd3, type IOptions, type Lease, type Watcher } from 'etcd3'
import { untilAborted } from '../abort.ts'
import type { PeerSourceContext } from './source.ts'

/** The checked options of a session (see `EtcdPeersOptions`). */
export interface EtcdSessionOptions {
  prefix: string
  leaseTtlSeconds: number
  timeoutMs: number
  client: IOptions
}

type FaultHandling = NonNullable<IOptions['faultHandling']>
type Backoff = NonNullable<FaultHandling['watchBackoff']>
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>

/** Repairs are retried after this long, doubling per failure up to the max. */
const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 5000
/** The watch stream reconnects after this long, doubling up to the max (etcd3's own goes to 30 s). */
const WATCH_RETRY_MIN_MS = 100
const WATCH_RETRY_MAX_MS = 2000

function watchBackoff(ms: number): Backoff {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, WATCH_RETRY_MAX_MS)) }
}

/**
 * Calls straight through to the host. etcd3's default circuit breaker refuses every call for 5 s
 * after three failures, which held a node off etcd for seconds after etcd was back; the session
 * retries by itself, with its own backoff. (etcd3's global retry, which tries the other
 * endpoints, stays.)
 */
const passThrough: HostPolicy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
  execute: async (fn) => fn({ signal: new AbortController().signal }),
}

export class EtcdSession {
  #options: EtcdSessionOptions
  #context: PeerSourceContext
  #client: Etcd3
  /** Where this node registers: the prefix, then its id. */
  #key: string
  #lease: Lease | undefined
  /** Whether `#lease` was granted (a lease whose grant is still pending is dropped, not revoked). */
  #granted = false
  #watcher: Watcher | undefined
  /** The revision of this node's last put: a read at or after it that lacks the key means it was deleted. */
  #putRevision = -1n
  /** The revision of the last list handed over; an older read never replaces a newer list. */
  #readRevision = -1n
  #running = false
  #stopped = false
  #stopping: Promise<void> | undefined
  /** Aborts whatever the session is waiting on when it stops. */
  #abort = new AbortController()
  #needsRegister = false
  #needsWatch = false
  #needsRead = false
  #repairing = false
  #retry: NodeJS.Timeout | undefined
  #retryMs = RETRY_MIN_MS
  /** Whether the watch's disconnection was reported (once per outage). */
  #watchDownReported = false

  constructor(options: EtcdSessionOptions, context: PeerSourceContext) {
    this.#options = options
    this.#context = context
    this.#key = options.prefix + context.self
    this.#client = new Etcd3({
      ...options.client,
      // Every unary call gets the deadline; the two long-lived streams (watch, keepalive) cannot.
      defaultCallOptions: (call) => (call.isStream ? {} : { deadline: Date.now() + options.timeoutMs }),
      faultHandling: {
        host: () => passThrough,
        watchBackoff: { duration: WATCH_RETRY_MIN_MS, next: () => watchBackoff(WATCH_RETRY_MIN_MS) },
      },
    })
  }

  /**
   * Registers this node, reads the prefix, hands the list to the node and starts watching, all
   * within `timeoutMs`; rejects (after cleaning up) otherwise, or when the node closes meanwhile.
   */
  async start(): Promise<void> {
    try {
      await this.#bounded(async (signal) => {
        await this.#register(signal)
        await this.#watch(signal)
      })
      this.#running = true
      // A change that arrived while starting (flagged, not yet repaired) is read now.
      if (this.#needsRegister || this.#needsWatch || this.#needsRead) this.#schedule(0)
    } catch (err) {
      await this.stop()
      throw this.#context.signal.aborted ? this.#context.signal.reason : err
    }
  }

  /**
   * Revokes the lease (which deletes this node's key, so every other node drops it at once),
   * cancels the watch and closes the client. Bounded by `timeoutMs`; never rejects.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    this.#stopped = true
    this.#abort.abort()
    clearTimeout(this.#retry)
    const lease = this.#lease
    const watcher = this.#watcher
    this.#lease = undefined
    this.#watcher = undefined
    // A lease whose grant is still pending is dropped: there is no key on it to delete.
    const [revoked, cancelled] = await this.#bounded(
      (deadline) =>
        Promise.allSettled([
          lease === undefined || !this.#granted
            ? lease?.release()
            : this.#within(lease.revoke(), deadline, 'revoke'),
          watcher === undefined ? undefined : this.#within(cancel(watcher), deadline, 'watch cancel'),
        ]),
      [],
    )
    if (revoked.status === 'rejected' && this.#running) {
      this.#context.error(
        new Error(
          `could not deregister ${this.#context.self} (${message(revoked.reason)}); its key goes when its lease expires`,
          { cause: revoked.reason },
        ),
      )
    }
    this.#client.close()
    // A watch whose cancel got no answer is still queued for reconnection; now that the client is
    // closed, cancelling it again drops it at once (so it does not retry forever).
    if (watcher !== undefined && cancelled.status === 'rejected') cancel(watcher).catch(() => {})
  }

  /** A fresh lease (or the current one while it lives), and this node's key put on it. */
  async #register(signal: AbortSignal): Promise<void> {
    let lease = this.#lease
    if (lease === undefined || lease.revoked()) {
      lease = this.#client.lease(this.#options.leaseTtlSeconds)
      this.#lease = lease
      this.#granted = false
      const current = lease
      current.on('lost', (err: unknown) => this.#lost(current, err))
    }
    await this.#within(lease.grant(), signal, 'lease grant')
    if (lease === this.#lease) this.#granted = true
    const put = await this.#within(
      lease.put(this.#key).value(this.#context.self).exec(),
      signal,
      'registration',
    )
    this.#putRevision = BigInt(put.header.revision)
  }

  /** Reads the prefix (handing the list over), then watches it from the revision after the read. */
  async #watch(signal: AbortSignal): Promise<void> {
    const revision = await this.#read(signal)
    const watcher = this.#client
      .watch()
      .prefix(this.#options.prefix)
      .startRevision(String(revision + 1n))
      .watcher()
    this.#watcher = watcher
    let wasDown = false
    watcher.on('data', () => this.#needs('read'))
    watcher.on('connected', () => {
      if (!wasDown) return
      wasDown = false
      this.#watchDownReported = false
      // etcd answers again: a repair waiting out its backoff runs now.
      this.#retryMs = RETRY_MIN_MS
      if (this.#retry !== undefined && !this.#repairing) {
        clearTimeout(this.#retry)
        this.#retry = undefined
      }
      // Read again, in case the broken stream dropped a change.
      this.#needs('read')
    })
    watcher.on('disconnected', (err: unknown) => {
      wasDown = true
      if (this.#watchDownReported || !this.#running || this.#stopped) return
      this.#watchDownReported = true
      this.#context.error(
        new Error(`lost the etcd watch (${message(err)}); keeping the ring, reconnecting`, { cause: err }),
      )
    })
    watcher.on('error', (err: unknown) => {
      // etcd cancelled the watch (say, its revision was compacted): it is gone, start another.
      if (this.#watcher === watcher) this.#watcher = undefined
      if (this.#running && !this.#stopped)
        this.#context.error(
          new Error(`etcd ended the watch (${message(err)}); watching again`, { cause: err }),
        )
      this.#needs('watch')
    })
    try {
      await this.#within(once(watcher, 'connected'), signal, 'watch')
    } catch (err) {
      // Not connected in time: drop it, or it would connect later beside the next attempt's.
      if (this.#watcher === watcher) this.#watcher = undefined
      cancel(watcher).catch(() => {})
      throw err
    }
  }

  /** Reads the whole prefix and hands its ids to the node; resolves with the read's revision. */
  async #read(signal: AbortSignal): Promise<bigint> {
    const range = await this.#within(
      this.#client.getAll().prefix(this.#options.prefix).exec(),
      signal,
      'read',
    )
    const revision = BigInt(range.header.revision)
    if (revision <= this.#readRevision) return revision
    this.#readRevision = revision
    const peers = new Set<string>()
    let registered = false
    for (const kv of range.kvs) {
      peers.add(kv.value.toString())
      if (kv.key.toString() === this.#key) registered = true
    }
    // Deleted by someone else (etcdctl, a stray revoke): put it back.
    if (!registered && revision >= this.#putRevision && this.#running) this.#needs('register')
    this.#context.update([...peers].sort())
    return revision
  }

  /** This lease can no longer be renewed (expired, revoked, or etcd unreachable for 2 TTLs). */
  #lost(lease: Lease, err: unknown): void {
    // A lease whose grant failed is reported by the registration that asked for it.
    if (lease !== this.#lease || !this.#granted || !this.#running || this.#stopped) return
    this.#context.error(
      new Error(`lost the etcd lease of ${this.#context.self} (${message(err)}); registering again`, {
        cause: err,
      }),
    )
    this.#needs('register')
  }

  /** Flags what must be mended; the repair runs once the session has started. */
  #needs(what: 'register' | 'watch' | 'read'): void {
    if (this.#stopped) return
    if (what === 'register') this.#needsRegister = true
    else if (what === 'watch') this.#needsWatch = true
    else this.#needsRead = true
    if (this.#running) this.#schedule(0)
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || this.#repairing || this.#retry !== undefined) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      void this.#repair()
    }, delayMs)
    // Only a retry: it must not keep a process alive by itself.
    this.#retry.unref()
  }

  /** Mends whatever is flagged, one step at a time, until nothing is; retries with a backoff. */
  async #repair(): Promise<void> {
    this.#repairing = true
    let delayMs = 0
    try {
      while (!this.#stopped && (this.#needsRegister || this.#needsWatch || this.#needsRead)) {
        await this.#bounded(async (signal) => {
          if (this.#needsRegister) {
            this.#needsRegister = false
            await this.#step(() => this.#register(signal), 'register')
          }
          if (this.#needsWatch) {
            this.#needsWatch = false
            this.#needsRead = false
            await this.#step(() => this.#watch(signal), 'watch')
          }
          if (this.#needsRead) {
            this.#needsRead = false
            await this.#step(() => this.#read(signal), 'read')
          }
        })
      }
      this.#retryMs = RETRY_MIN_MS
    } catch (err) {
      if (this.#stopped) return
      delayMs = this.#retryMs
      this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS)
      this.#context.error(new Error(`${message(err)}; trying again in ${delayMs} ms`, { cause: err }))
    } finally {
      this.#repairing = false
    }
    if (this.#needsRegister || this.#needsWatch || this.#needsRead) this.#schedule(delayMs)
  }

  /** Runs one repair step; on failure flags it again and rethrows with what was being done. */
  async #step(work: () => Promise<unknown>, what: 'register' | 'watch' | 'read'): Promise<void> {
    try {
      await work()
    } catch (err) {
      if (what === 'register') this.#needsRegister = true
      else if (what === 'watch') this.#needsWatch = true
      else this.#needsRead = true
      const doing = what === 'register' ? `register ${this.#context.self}` : `${what} ${this.#options.prefix}`
      throw new Error(`could not ${doing} in etcd: ${message(err)}`, { cause: err })
    }
  }

  /**
   * Runs `task` with a signal that aborts after `timeoutMs`, or when one of `sources` aborts (by
   * default: the session stops, the node closes).
   */
  async #bounded<T>(
    task: (signal: AbortSignal) => Promise<T>,
    sources = [this.#context.signal, this.#abort.signal],
  ): Promise<T> {
    // A timer of our own: inside AbortSignal.any, Node 20 may collect an AbortSignal.timeout
    // before it fires (seen here: a 500 ms deadline ending after 1.5 s).
    const timeout = new AbortController()
    const timer = setTimeout(
      () => timeout.abort(new DOMException('etcd did not answer in time', 'TimeoutError')),
      this.#options.timeoutMs,
    )
    try {
      return await task(AbortSignal.any([...sources, timeout.signal]))
    } finally {
      clearTimeout(timer)
    }
  }

  /** `work`, or a rejection as soon as `signal` aborts (`work` goes on, its outcome ignored). */
  #within<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
    const timeoutMs = this.#options.timeoutMs
    const reason = (): unknown =>
      (signal.reason as Error | undefined)?.name === 'TimeoutError'
        ? new Error(`etcd ${what} got no answer within ${timeoutMs} ms`)
        : signal.reason
    work.catch(() => {})
    return untilAborted(work, signal).catch((err: unknown) => {
      throw err === signal.reason ? reason() : err
    })
  }
}

/** Cancels a watch; etcd3's `cancel` can throw at once (on a closed stream) instead of rejecting. */
function cancel(watcher: Watcher): Promise<void> {
  return Promise.resolve().then(() => watcher.cancel())
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
