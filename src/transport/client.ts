/**
 * The peer client: asks a key's owner for its value over RESP. Each peer gets a small pool of
 * persistent TCP connections; requests are pipelined over them and tagged with an id, so the owner
 * may answer them in any order and a reply is always matched to its own request. Writes made in
 * one tick go out in one `write`. Every request has a deadline and honours an AbortSignal.
 *
 * @module
 */
import { connect, type Socket } from 'node:net'
import type { StoredValue } from '../codec.ts'
import { BurrowError, type ErrorCode, isErrorCode } from '../errors.ts'
import { PendingTable } from './pending.ts'
import { ReplyReader, type ReplyStatus } from './reply.ts'

/** The peer command: `BURROW.FETCH id namespace key`; see docs/protocol.md. */
export const FETCH = 'BURROW.FETCH'

/** Options of the peer client; the node fills them from its own options. */
export interface PeerClientOptions {
  /** The deadline of one request, connecting included. */
  timeoutMs: number
  /** Connections kept per peer. */
  connections: number
  /** The largest reply frame accepted. */
  maxFrameBytes: number
  /** The node's lifetime signal: when it aborts, every request is rejected and every connection closed. */
  signal: AbortSignal
}

/** Counters of the peer client, as found in `node.stats().peerClient`. */
export interface PeerClientStats {
  /** Requests sent. */
  requests: number
  /** Requests that ran past the deadline. */
  timeouts: number
  /** Requests that failed because the connection failed or closed, or the reply was malformed. */
  failures: number
  /** Connections opened so far. */
  connectionsOpened: number
  /** Connections open now. */
  connectionsOpen: number
}

interface Pending {
  /** Given by the connection's PendingTable when the request is sent. */
  id: number
  resolve: (value: StoredValue | undefined) => void
  reject: (err: BurrowError) => void
  deadline: number
  peer: string
  namespace: string
  key: string
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/** The first bytes of every request. */
const FETCH_HEAD = Buffer.from('*4\r\n$12\r\nBURROW.FETCH\r\n', 'latin1')
/** The size of a fresh output buffer; it doubles when a tick's commands need more. */
const OUT_BYTES = 4096

function digitCount(n: number): number {
  let count = 1
  while (n >= 10) {
    n = Math.floor(n / 10)
    count++
  }
  return count
}

/** The bytes of `$<n>\r\n<payload>\r\n` for a payload of `length` bytes whose length has `lengthDigits` digits. */
function bulkSize(lengthDigits: number, length: number): number {
  return 1 + lengthDigits + 2 + length + 2
}

/** Writes the decimal digits of `n` so that they end just before `end`; returns `end`. */
function writeDigits(buf: Buffer, end: number, n: number): number {
  let at = end
  do {
    buf[--at] = 48 + (n % 10)
    n = Math.floor(n / 10)
  } while (n > 0)
  return end
}

/** Writes `$<n>\r\n` (or another type byte) at `at`; returns the position after it. */
function writeHeader(buf: Buffer, at: number, type: number, n: number): number {
  buf[at++] = type
  at = writeDigits(buf, at + digitCount(n), n)
  buf[at++] = 13
  buf[at++] = 10
  return at
}

/** After a failed connect, a peer is not dialled again for this long; its requests fail at once. */
const RECONNECT_DELAY_MS = 250

/** One pooled, pipelined peer client per node. */
export class PeerClient {
  #options: PeerClientOptions
  #pools = new Map<string, Connection[]>()
  #next = 0
  #downUntil = new Map<string, number>()
  #sweeper: NodeJS.Timeout | undefined
  #open = new Set<Connection>()
  readonly counters = { requests: 0, timeouts: 0, failures: 0, connectionsOpened: 0 }

  constructor(options: PeerClientOptions) {
    this.#options = options
  }

  /**
   * Asks `peer` for `key` of `namespace`: resolves the value or `undefined` (not found); rejects
   * with a BurrowError (`BURROW_ERR_PEER_TIMEOUT`, `BURROW_ERR_PEER_UNAVAILABLE`,
   * `BURROW_ERR_PROTOCOL`, or the owner's own code such as `BURROW_ERR_LOADER`), or with
   * `signal.reason` when `signal` aborts.
   */
  get(peer: string, namespace: string, key: string, signal?: AbortSignal): Promise<StoredValue | undefined> {
    if (this.#options.signal.aborted) return Promise.reject(closed(peer, namespace, key))
    if (signal !== undefined && signal !== this.#options.signal && signal.aborted)
      return Promise.reject(signal.reason)
    const down = this.#downUntil.get(peer)
    if (down !== undefined) {
      if (Date.now() < down)
        return Promise.reject(unavailable(peer, namespace, key, 'recently refused a connection'))
      this.#downUntil.delete(peer)
    }
    this.counters.requests++
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        resolve,
        reject,
        deadline: Date.now() + this.#options.timeoutMs,
        peer,
        namespace,
        key,
        signal: undefined,
        onAbort: undefined,
        id: 0,
      }
      const conn = this.#pick(peer)
      // The node's own signal is handled by close(); a per-request listener on it would pile up.
      if (signal !== undefined && signal !== this.#options.signal) {
        pending.signal = signal
        pending.onAbort = () => conn.cancel(pending, signal.reason)
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      conn.send(pending)
      this.#sweep()
    })
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

  stats(): PeerClientStats {
    return { ...this.counters, connectionsOpen: this.#open.size }
  }

  #pick(peer: string): Connection {
    let pool = this.#pools.get(peer)
    if (pool === undefined) {
      pool = []
      this.#pools.set(peer, pool)
    }
    if (pool.length < this.#options.connections) {
      const conn = new Connection(peer, this.#options.maxFrameBytes, {
        opened: (c) => {
          if (this.#options.signal.aborted) return c.destroy(closed(peer, '', ''))
          this.counters.connectionsOpened++
          this.#open.add(c)
        },
        closed: (c, refused) => {
          this.#open.delete(c)
          const list = this.#pools.get(peer)
          if (list !== undefined) {
            const at = list.indexOf(c)
            if (at !== -1) list.splice(at, 1)
          }
          if (refused) this.#downUntil.set(peer, Date.now() + RECONNECT_DELAY_MS)
        },
        failed: (count) => {
          this.counters.failures += count
        },
      })
      pool.push(conn)
      return conn
    }
    this.#next = (this.#next + 1) % pool.length
    return pool[this.#next]!
  }

  #sweep(): void {
    if (this.#sweeper !== undefined) return
    // One coarse timer for all requests instead of one timer each: deadlines fire up to
    // a tick (timeout / 8, at most 100 ms) late.
    const tick = Math.max(5, Math.min(100, Math.floor(this.#options.timeoutMs / 8)))
    this.#sweeper = setInterval(() => {
      const now = Date.now()
      let idle = true
      for (const pool of this.#pools.values()) {
        for (const conn of pool) {
          this.counters.timeouts += conn.expire(now)
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

interface ConnectionEvents {
  opened(conn: Connection): void
  closed(conn: Connection, refused: boolean): void
  failed(count: number): void
}

/** One TCP connection to a peer, with its requests in flight keyed by id. */
class Connection {
  readonly peer: string
  #socket: Socket
  #reader: ReplyReader
  #pending = new PendingTable<Pending>()
  /** Commands not yet written, encoded in place; a new Buffer after each flush. */
  #out = Buffer.allocUnsafe(OUT_BYTES)
  #outLength = 0
  #flushScheduled = false
  #connected = false
  #destroyed = false
  #events: ConnectionEvents

  constructor(peer: string, maxFrameBytes: number, events: ConnectionEvents) {
    this.peer = peer
    this.#events = events
    this.#reader = new ReplyReader(maxFrameBytes)
    const url = new URL(peer)
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.#socket = connect({ host, port: Number(url.port || 80), noDelay: true })
    this.#socket.on('connect', () => {
      this.#connected = true
      events.opened(this)
      this.#flush()
    })
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    this.#socket.on('error', (err) =>
      this.destroy(unavailable(peer, '', '', err.message, err), !this.#connected),
    )
    this.#socket.on('close', () => this.destroy(unavailable(peer, '', '', 'the connection closed')))
  }

  /** Requests waiting for a reply. */
  get inFlight(): number {
    return this.#pending.size
  }

  send(pending: Pending): void {
    if (this.#destroyed) {
      settle(pending)
      pending.reject(unavailable(pending.peer, pending.namespace, pending.key, 'the connection closed'))
      return
    }
    const id = this.#pending.add(pending)
    this.#encode(id, pending.namespace, pending.key)
    if (!this.#flushScheduled && this.#connected) {
      this.#flushScheduled = true
      process.nextTick(() => this.#flush())
    }
  }

  /** Rejects `pending` with `reason`; its reply, if it ever comes, is dropped. */
  cancel(pending: Pending, reason: unknown): void {
    if (this.#pending.take(pending.id) !== pending) return
    settle(pending)
    pending.reject(reason as BurrowError)
  }

  /** Rejects the requests past their deadline; returns how many. Pending ids ascend with deadlines. */
  expire(now: number): number {
    let expired = 0
    for (let p = this.#pending.oldest(); p !== undefined && p.deadline <= now; p = this.#pending.oldest()) {
      this.#pending.take(p.id)
      settle(p)
      expired++
      p.reject(
        new BurrowError('BURROW_ERR_PEER_TIMEOUT', `peer ${p.peer} did not answer within the deadline`, {
          peer: p.peer,
          namespace: p.namespace,
          key: p.key,
        }),
      )
    }
    // A connection that never came up within the deadline is abandoned.
    if (expired > 0 && !this.#connected)
      this.destroy(unavailable(this.peer, '', '', 'connecting timed out'), true)
    return expired
  }

  destroy(err: BurrowError, refused = false): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#socket.destroy()
    this.#events.closed(this, refused)
    const pending = this.#pending.drain()
    if (pending.length > 0 && err.code !== 'BURROW_ERR_CLOSED') this.#events.failed(pending.length)
    for (const p of pending) {
      settle(p)
      p.reject(
        new BurrowError(err.code, err.message, {
          cause: err.cause,
          peer: p.peer,
          namespace: p.namespace,
          key: p.key,
        }),
      )
    }
  }

  /** Appends `*4 $12 BURROW.FETCH $n id $n namespace $n key` to the output, with no string built. */
  #encode(id: number, namespace: string, key: string): void {
    const nsBytes = Buffer.byteLength(namespace)
    const keyBytes = Buffer.byteLength(key)
    const idDigits = digitCount(id)
    // The exact size: the fixed head, then `$<n>\r\n<bytes>\r\n` for the id, namespace and key.
    const size =
      FETCH_HEAD.length +
      bulkSize(digitCount(idDigits), idDigits) +
      bulkSize(digitCount(nsBytes), nsBytes) +
      bulkSize(digitCount(keyBytes), keyBytes)
    const need = this.#outLength + size
    if (need > this.#out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.#out.length * 2))
      this.#out.copy(bigger, 0, 0, this.#outLength)
      this.#out = bigger
    }
    const out = this.#out
    let at = this.#outLength + FETCH_HEAD.copy(out, this.#outLength)
    at = writeHeader(out, at, 0x24, idDigits)
    at = writeDigits(out, at + idDigits, id)
    out[at++] = 13
    out[at++] = 10
    at = writeHeader(out, at, 0x24, nsBytes)
    at += out.write(namespace, at, 'utf8')
    out[at++] = 13
    out[at++] = 10
    at = writeHeader(out, at, 0x24, keyBytes)
    at += out.write(key, at, 'utf8')
    out[at++] = 13
    out[at++] = 10
    this.#outLength = at
    if (at !== need)
      throw new Error(`burrow bug: a FETCH command took ${at - need + size} bytes, not ${size}`)
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#outLength === 0 || this.#destroyed) return
    const out = this.#out.subarray(0, this.#outLength)
    // The written Buffer belongs to the socket until it is sent: start a new one.
    this.#out = Buffer.allocUnsafe(OUT_BYTES)
    this.#outLength = 0
    this.#socket.write(out)
  }

  #onData(chunk: Buffer): void {
    try {
      this.#reader.feed(chunk, this.#onReply)
    } catch (err) {
      this.destroy(err instanceof BurrowError ? err : protocol(this.peer, 'an unreadable reply'))
    }
  }

  readonly #onReply = (id: number, status: ReplyStatus, value: string | Buffer | undefined): void => {
    const pending = this.#pending.take(id)
    if (pending === undefined) return // cancelled or expired: its late reply is dropped
    settle(pending)
    if (status === 'e') pending.reject(remoteError(pending, value as string))
    else pending.resolve(value)
  }
}

function settle(p: Pending): void {
  if (p.onAbort !== undefined) p.signal!.removeEventListener('abort', p.onAbort)
}

/** Turns an error reply `CODE message` back into a BurrowError with the owner's code. */
function remoteError(p: Pending, text: string): BurrowError {
  const space = text.indexOf(' ')
  const word = space === -1 ? text : text.slice(0, space)
  const code: ErrorCode = isErrorCode(word) ? word : 'BURROW_ERR_PROTOCOL'
  const message = `peer ${p.peer} answered: ${space === -1 ? text : text.slice(space + 1)}`
  return new BurrowError(code, message, { peer: p.peer, namespace: p.namespace, key: p.key })
}

function unavailable(
  peer: string,
  namespace: string,
  key: string,
  why: string,
  cause?: unknown,
): BurrowError {
  return new BurrowError('BURROW_ERR_PEER_UNAVAILABLE', `peer ${peer} is unavailable: ${why}`, {
    peer,
    namespace,
    key,
    cause,
  })
}

function protocol(peer: string, what: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `peer ${peer} sent ${what}`, { peer })
}

function closed(peer: string, namespace: string, key: string): BurrowError {
  return new BurrowError('BURROW_ERR_CLOSED', 'the node is closed', { peer, namespace, key })
}
