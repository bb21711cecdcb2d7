/**
 * The peer client: asks a key's owner to fetch, store or purge it over RESP. Each peer gets a
 * small pool of persistent TCP connections; requests are pipelined over them and tagged with an
 * id, so the owner may answer them in any order and a reply is always matched to its own
 * request. Every request has a deadline and honours an AbortSignal.
 *
 * @module
 */
import { performance } from 'node:perf_hooks'
import type { ConnectionOptions } from 'node:tls'
import { byteLength, type StoredValue } from '../../codec.ts'
import { BurrowError, describe } from '../../errors.ts'
import type { BusyPoll } from '../busy-poll.ts'
import { type Answer, DEFAULT_TTL, type WriteTtl } from '../served.ts'
import {
  AUTH,
  Connection,
  FETCH,
  FLUSH,
  failLater,
  LEAVE,
  PEEK,
  type Pending,
  PING,
  PURGE,
  STORE,
} from './connection.ts'
import { closed, timedOut, unavailable } from './errors.ts'
import type { PeerClientStats, PeerTransport, Receiver } from './transport.ts'

/** Options of the peer client; the node fills them from its own options. */
export interface PeerClientOptions {
  /** The deadline of one request, connecting included. */
  timeoutMs: number
  /** Connections kept per peer. */
  connections: number
  /** The largest reply frame accepted; a larger value fails its own request only. */
  maxFrameBytes: number
  /** The node's lifetime signal: when it aborts, every request is rejected and every connection closed. */
  signal: AbortSignal
  /** The secret presented first on every connection (`BURROW.AUTH`), when peers require one. */
  secret?: string
  /** How `https://` peers are dialled: the CA that verifies them, a client certificate. */
  tls?: ConnectionOptions
  /** Told of every read (`busyPollMicros`), when the node polls. */
  busyPoll?: BusyPoll
}

/** After a failed connect, a peer is not dialled again for this long; its requests fail at once. */
const RECONNECT_DELAY_MS = 250

/**
 * One pooled, pipelined peer client per node. Every request rejects with a BurrowError:
 * `BURROW_ERR_PEER_TIMEOUT`, `BURROW_ERR_PEER_UNAVAILABLE`, `BURROW_ERR_PROTOCOL`,
 * `BURROW_ERR_CLOSED`, `BURROW_ERR_FRAME_TOO_LARGE` (a value over `maxFrameBytes`), or the
 * owner's own code (e.g. `BURROW_ERR_LOADER`, `BURROW_ERR_UNKNOWN_NAMESPACE`,
 * `BURROW_ERR_BAD_KEY`); or with `signal.reason` when the request's `signal` aborts.
 *
 * @example
 * const client = new PeerClient({ timeoutMs: 3000, connections: 2, maxFrameBytes: 32 << 20, signal })
 * const { value, ttlMs } = await client.fetch('http://10.0.0.2:5001', 'users', '42')
 */
export class PeerClient implements PeerTransport {
  readonly carriesWrites = true
  readonly #options: PeerClientOptions
  readonly #pools = new Map<string, Connection[]>()
  readonly #downUntil = new Map<string, number>()
  /** Where the next pick starts looking among equals. */
  #next = 0
  #sweeper: NodeJS.Timeout | undefined
  readonly #open = new Set<Connection>()
  readonly #counters = { requests: 0, timeouts: 0, failures: 0, connectionsOpened: 0 }

  constructor(options: PeerClientOptions) {
    this.#options = options
  }

  /**
   * `BURROW.FETCH`: asks `peer` for `key` of `namespace`, answered from its caches or loaded
   * there. Resolves the value (`undefined` for not found) and how long it may be kept.
   */
  fetch(peer: string, namespace: string, key: string, signal?: AbortSignal): Promise<Answer> {
    return this.#request(FETCH, peer, namespace, key, signal, undefined, DEFAULT_TTL) as Promise<Answer>
  }

  /**
   * `BURROW.PEEK`: `peer`'s cached answer for `key` of `namespace`, or `undefined` when its
   * caches do not hold it. The peer never loads. Its own deadline, `timeoutMs`, is short (a
   * timer of its own, as for ping); `signal` aborts it too.
   */
  peek(
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<Answer | undefined> {
    if (signal.aborted) return Promise.reject(signal.reason)
    // Not AbortSignal.any([signal, AbortSignal.timeout(ms)]): on Node 20 the timeout signal inside
    // it can be collected before it fires, and the deadline then passes unnoticed.
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(timedOut({ peer, namespace, key })), timeoutMs)
    const onAbort = (): void => deadline.abort(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    const answer = this.#request(PEEK, peer, namespace, key, deadline.signal, undefined, DEFAULT_TTL)
    answer.then(done, done)
    return answer
  }

  /**
   * `BURROW.LEAVE`: tells `peer` that `self` is leaving, so it takes `self` off its ring. Resolves
   * once told; rejects when `peer` does not answer within `timeoutMs`.
   */
  leave(peer: string, self: string, timeoutMs: number): Promise<void> {
    return this.#request(
      LEAVE,
      peer,
      '',
      self,
      AbortSignal.timeout(timeoutMs),
      undefined,
      DEFAULT_TTL,
    ) as Promise<unknown> as Promise<void>
  }

  /**
   * `BURROW.STORE`: stores `value` as `key` of `namespace` on `peer`, its owner, with `ttl`
   * (`-1` the owner's default, `0` never expires, `> 0` milliseconds). Resolves once stored.
   */
  store(
    peer: string,
    namespace: string,
    key: string,
    value: StoredValue,
    ttl: WriteTtl,
    signal?: AbortSignal,
  ): Promise<void> {
    // Checked before anything is written, so a bad argument cannot leave half a command on the wire.
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      return Promise.reject(
        new BurrowError(
          'BURROW_ERR_BAD_VALUE',
          `a stored value is a string or a Uint8Array, received ${describe(value)}`,
        ),
      )
    }
    if (!Number.isSafeInteger(ttl) || ttl < DEFAULT_TTL) {
      return Promise.reject(
        new BurrowError(
          'BURROW_ERR_BAD_TTL',
          `ttl must be -1, 0 or whole milliseconds, received ${describe(ttl)}`,
        ),
      )
    }
    // The owner refuses a frame over its limit by closing the connection, failing every request
    // on it: refuse it here instead (nodes of a cluster share the limit). 128: the command's headers.
    const frame = byteLength(value) + Buffer.byteLength(key) + Buffer.byteLength(namespace) + 128
    if (frame > this.#options.maxFrameBytes) {
      return Promise.reject(
        new BurrowError(
          'BURROW_ERR_FRAME_TOO_LARGE',
          `a store of ${frame} bytes is over maxFrameBytes (${this.#options.maxFrameBytes})`,
          { peer, namespace, key },
        ),
      )
    }
    return this.#request(STORE, peer, namespace, key, signal, value, ttl) as Promise<unknown> as Promise<void>
  }

  /** `BURROW.PURGE`: drops `key` of `namespace` from `peer`'s caches. Resolves once dropped. */
  purge(peer: string, namespace: string, key: string, signal?: AbortSignal): Promise<void> {
    return this.#request(
      PURGE,
      peer,
      namespace,
      key,
      signal,
      undefined,
      DEFAULT_TTL,
    ) as Promise<unknown> as Promise<void>
  }

  /** `BURROW.FLUSH`: drops every key of `namespace` from `peer`'s caches. Resolves once dropped. */
  flush(peer: string, namespace: string, signal?: AbortSignal): Promise<void> {
    return this.#request(
      FLUSH,
      peer,
      namespace,
      '',
      signal,
      undefined,
      DEFAULT_TTL,
    ) as Promise<unknown> as Promise<void>
  }

  /**
   * `BURROW.PING`: resolves once `peer` answers, rejects when it does not within `timeoutMs` (its
   * own timer: the sweep expires requests in the order they were sent, and a probe must not wait
   * behind a fetch of a longer deadline). Used by liveness probing.
   */
  ping(peer: string, timeoutMs: number): Promise<void> {
    return this.#request(
      PING,
      peer,
      '',
      '',
      AbortSignal.timeout(timeoutMs),
      undefined,
      DEFAULT_TTL,
    ) as Promise<unknown> as Promise<void>
  }

  /**
   * `peer` was found down: its requests in flight fail now with `BURROW_ERR_PEER_UNAVAILABLE`
   * (their callers fall back) instead of waiting out their deadline, and its connections close.
   */
  abandon(peer: string): void {
    const pool = this.#pools.get(peer)
    if (pool === undefined) return
    for (const conn of [...pool]) conn.destroy(unavailable(peer, '', '', 'it was found down'))
  }

  /** Closes the connections of peers not in `peers`; their pending requests fail. */
  retain(peers: ReadonlySet<string>): void {
    for (const [peer, pool] of this.#pools) {
      if (peers.has(peer)) continue
      this.#pools.delete(peer)
      this.#downUntil.delete(peer)
      for (const conn of pool) conn.destroy(unavailable(peer, '', '', 'it left the peer set'))
    }
  }

  /** Closes every connection and rejects every pending request with `BURROW_ERR_CLOSED`. */
  close(): void {
    // Every connection of every pool, connected or still connecting.
    for (const pool of this.#pools.values()) {
      for (const conn of [...pool]) conn.destroy(closed(conn.peer, '', ''))
    }
    this.#pools.clear()
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }

  /** The client's counters, a fresh object. */
  stats(): PeerClientStats {
    let inFlight = 0
    for (const pool of this.#pools.values()) for (const conn of pool) inFlight += conn.inFlight
    return { ...this.#counters, connectionsOpen: this.#open.size, inFlight }
  }

  /** `fetch`, its outcome told to `to`. */
  fetchTo(
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal | undefined,
    to: Receiver<Answer>,
  ): void {
    // A fetch is answered with an Answer, never undefined (Connection's reply check), so `to` fits.
    this.#send(
      FETCH,
      peer,
      namespace,
      key,
      signal,
      undefined,
      DEFAULT_TTL,
      to as Receiver<Answer | undefined>,
    )
  }

  #request(
    command: string,
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal | undefined,
    value: StoredValue | undefined,
    ttl: WriteTtl,
  ): Promise<Answer | undefined> {
    const deferred = new Deferred()
    this.#send(command, peer, namespace, key, signal, value, ttl, deferred)
    return deferred.promise
  }

  /** Sends a request; whatever goes wrong on the way is told to `to` (later), never thrown. */
  #send(
    command: string,
    peer: string,
    namespace: string,
    key: string,
    signal: AbortSignal | undefined,
    value: StoredValue | undefined,
    ttl: WriteTtl,
    to: Receiver<Answer | undefined>,
  ): void {
    if (this.#options.signal.aborted) return failLater(to, closed(peer, namespace, key))
    if (signal !== undefined && signal !== this.#options.signal && signal.aborted)
      return failLater(to, signal.reason)
    const down = this.#downUntil.size === 0 ? undefined : this.#downUntil.get(peer)
    if (down !== undefined) {
      if (performance.now() < down)
        return failLater(to, unavailable(peer, namespace, key, 'recently refused a connection'))
      this.#downUntil.delete(peer)
    }
    this.#counters.requests++
    const pending: Pending = {
      id: 0,
      command,
      to,
      deadline: performance.now() + this.#options.timeoutMs,
      peer,
      namespace,
      key,
      signal: undefined,
      onAbort: undefined,
    }
    let conn: Connection
    try {
      // Dialling can throw (a port out of range): told to `to` like any other failure.
      conn = this.#pick(peer)
    } catch (err) {
      return failLater(to, err)
    }
    // The node's own signal is handled by close(); a per-request listener on it would pile up.
    if (signal !== undefined && signal !== this.#options.signal) {
      pending.signal = signal
      pending.onAbort = () => conn.cancel(pending, signal.reason)
      signal.addEventListener('abort', pending.onAbort, { once: true })
    }
    conn.send(pending, value, ttl)
    this.#sweep()
  }

  #pick(peer: string): Connection {
    let pool = this.#pools.get(peer)
    if (pool === undefined) {
      pool = []
      this.#pools.set(peer, pool)
    }
    if (pool.length < this.#options.connections) {
      const conn = new Connection(
        peer,
        this.#options.maxFrameBytes,
        {
          opened: (c) => {
            if (this.#options.signal.aborted) return c.destroy(closed(peer, '', ''))
            this.#counters.connectionsOpened++
            this.#open.add(c)
          },
          closed: (c, refused) => {
            this.#open.delete(c)
            const list = this.#pools.get(peer)
            if (list !== undefined) {
              const at = list.indexOf(c)
              if (at !== -1) list.splice(at, 1)
            }
            if (refused) this.#downUntil.set(peer, performance.now() + RECONNECT_DELAY_MS)
          },
          failed: (count) => {
            this.#counters.failures += count
          },
        },
        this.#options.tls,
        this.#options.busyPoll,
      )
      pool.push(conn)
      if (this.#options.secret !== undefined) this.#authenticate(conn)
      return conn
    }
    // The connection with the fewest requests in flight. Requests sent together (the follow-ups
    // of one batch of replies) go out together on the emptiest connection, as one write, until it
    // holds as many as another; so there are as many batches in flight as connections, each as
    // large as the load allows (round-robin per request split every batch into one small write
    // per connection). Among equals the search starts one further each time, so that under a
    // light load every connection is used, and one that silently stopped answering does not take
    // every request.
    const n = pool.length
    const first = this.#next
    this.#next = first + 1 < n ? first + 1 : 0
    let best = pool[first < n ? first : 0]!
    for (let k = 1; k < n; k++) {
      const conn = pool[(first + k) % n]!
      if (conn.inFlight < best.inFlight) best = conn
    }
    return best
  }

  /**
   * Sends `BURROW.AUTH` as the connection's first command; the requests written after it are run
   * after it, so nothing waits for its answer. A refusal closes the connection and fails its
   * requests with `BURROW_ERR_AUTH`.
   */
  #authenticate(conn: Connection): void {
    const peer = conn.peer
    const pending: Pending = {
      id: 0,
      command: AUTH,
      to: {
        answered: () => {},
        failed: (err: unknown) => {
          if (err instanceof BurrowError && err.code === 'BURROW_ERR_AUTH') conn.destroy(err)
        },
      },
      deadline: performance.now() + this.#options.timeoutMs,
      peer,
      namespace: '',
      key: '',
      signal: undefined,
      onAbort: undefined,
    }
    conn.send(pending, this.#options.secret, DEFAULT_TTL)
  }

  #sweep(): void {
    if (this.#sweeper !== undefined) return
    // One coarse timer for all requests instead of one timer each: deadlines fire up to
    // a tick (timeout / 8, at most 100 ms) late.
    const tick = Math.max(5, Math.min(100, Math.floor(this.#options.timeoutMs / 8)))
    this.#sweeper = setInterval(() => {
      const now = performance.now()
      let idle = true
      for (const pool of this.#pools.values()) {
        for (const conn of pool) {
          this.#counters.timeouts += conn.expire(now)
          if (conn.inFlight > 0) idle = false
        }
      }
      if (idle) {
        clearInterval(this.#sweeper)
        this.#sweeper = undefined
      }
    }, tick)
    this.#sweeper.unref()
  }
}

/** A request's outcome as a promise, for the callers that want one. */
class Deferred implements Receiver<Answer | undefined> {
  readonly promise: Promise<Answer | undefined>
  #resolve!: (answer: Answer | undefined) => void
  #reject!: (reason: unknown) => void

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  answered(answer: Answer | undefined): void {
    this.#resolve(answer)
  }

  failed(reason: unknown): void {
    this.#reject(reason)
  }
}
