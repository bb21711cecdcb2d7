/**
 * One pipelined TCP connection to a peer: it writes tagged commands, matches each reply to its
 * request by id, and fails its requests when it closes. Commands written in one tick go out in
 * one `write`, at the end of the tick (`nextTick`): put off to `setImmediate`, as the server's
 * replies are, they cost a remote get 11–17 % (BENCHMARKS.md, the #13 A/B table).
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { isIP, connect as netConnect, type Socket } from 'node:net'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'
import type { StoredValue } from '../../codec.ts'
import { BurrowError } from '../../errors.ts'
import { peerAddress } from '../../membership/peer-id.ts'
import type { BusyPoll } from '../busy-poll.ts'
import { type OnReply, ReplyReader } from '../resp/reply-reader.ts'
import { RespWriter } from '../resp/writer.ts'
import type { Answer } from '../served.ts'
import { protocol, type RequestContext, remoteError, timedOut, unavailable } from './errors.ts'
import { PendingTable } from './pending.ts'
import type { Receiver } from './transport.ts'

/** The read buffer of a plain TCP connection (Node's own default read size). */
const READ_BUFFER_BYTES = 64 * 1024

/** The array header and name of each command, encoded once: `*4\r\n$12\r\nBURROW.FETCH\r\n`. */
const prefixes = [new Map<string, Buffer>(), new Map<string, Buffer>()]

function prefixOf(command: string, args: 4 | 7): Buffer {
  const cache = prefixes[args === 4 ? 0 : 1]!
  let prefix = cache.get(command)
  if (prefix === undefined) {
    prefix = Buffer.from(`*${args}\r\n$${command.length}\r\n${command}\r\n`, 'latin1')
    cache.set(command, prefix)
  }
  return prefix
}

/** The peer command that answers a value: `BURROW.FETCH id namespace key`; see docs/protocol.md. */
export const FETCH = 'BURROW.FETCH'
/** {@link FETCH}'s prefix, looked up once: nearly every request is one. */
const FETCH_PREFIX = prefixOf(FETCH, 4)
/** The peer command that stores a value on its owner: `BURROW.STORE id namespace key kind value ttl`. */
export const STORE = 'BURROW.STORE'
/** The peer command that drops a key from a node's caches: `BURROW.PURGE id namespace key`. */
export const PURGE = 'BURROW.PURGE'
/** The peer command that asks whether a node answers at all: `BURROW.PING id` (liveness). */
export const PING = 'BURROW.PING'
/** The peer command that asks a node's caches only (warm hand-off): `BURROW.PEEK id namespace key`. */
export const PEEK = 'BURROW.PEEK'
/** The peer command that drops a namespace from a node's caches: `BURROW.FLUSH id namespace`. */
export const FLUSH = 'BURROW.FLUSH'
/** The peer command that authenticates a connection: `BURROW.AUTH id secret`, sent first on it. */
export const AUTH = 'BURROW.AUTH'
/** The peer command by which a node says it is leaving: `BURROW.LEAVE id peer` (the peer in `key`). */
export const LEAVE = 'BURROW.LEAVE'

/** One request waiting for its reply. */
export interface Pending extends RequestContext {
  /** Given by the connection's PendingTable when the request is sent. */
  id: number
  /** {@link FETCH}, {@link PEEK}, {@link STORE}, {@link PURGE}, {@link FLUSH}, {@link PING} or {@link LEAVE}. */
  command: string
  /** Told a fetch's or a peek's answer (a peek's miss: `undefined`), the others' `undefined`; or the failure. */
  to: Receiver<Answer | undefined>
  /** When it times out, in `performance.now()` milliseconds (a monotonic clock, cheaper to read than `Date.now()`). */
  deadline: number
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/** What a connection tells its client. */
export interface ConnectionEvents {
  opened(conn: Connection): void
  closed(conn: Connection, refused: boolean): void
  failed(count: number): void
}

/** One TCP connection to a peer, with its requests in flight keyed by id. */
export class Connection {
  readonly peer: string
  readonly #socket: Socket
  readonly #reader: ReplyReader
  readonly #pending = new PendingTable<Pending>()
  readonly #writer = new RespWriter()
  readonly #events: ConnectionEvents
  #flushScheduled = false
  #lastNamespace = ''
  #lastNamespaceBulk = Buffer.from('$0\r\n\r\n')
  /** TLS: its writes are not known to be done when the stream holds nothing. */
  readonly #secure: boolean
  #connected = false
  #destroyed = false
  readonly #flushNow = (): void => this.#flush()
  readonly #busyPoll: BusyPoll | undefined

  /**
   * Dials `peer`: plain TCP for an `http://` id, TLS for an `https://` one, with `tls` (the CA
   * to verify the peer with, and this node's certificate for mutual TLS).
   */
  constructor(
    peer: string,
    maxFrameBytes: number,
    events: ConnectionEvents,
    tls: ConnectionOptions | undefined,
    busyPoll: BusyPoll | undefined,
  ) {
    this.peer = peer
    this.#events = events
    this.#busyPoll = busyPoll
    this.#reader = new ReplyReader(maxFrameBytes, this.#onReply)
    const { host, port, tls: secure } = peerAddress(peer)
    this.#secure = secure
    // A TLS connection is up once its handshake is done (and the peer's certificate verified).
    this.#socket = secure
      ? tlsConnect({ ...tls, host, port, servername: isIP(host) === 0 ? host : undefined })
      : netConnect({
          host,
          port,
          noDelay: true,
          // Plain TCP reads into one buffer of this connection's, handed straight to the reader:
          // no 64 KB allocation and no stream 'data' event per read. Nothing keeps a reference to
          // it past the callback (the reader copies what it keeps).
          onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: this.#onRead },
        })
    if (secure) {
      this.#socket.setNoDelay(true)
    }
    this.#socket.on(secure ? 'secureConnect' : 'connect', () => {
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

  /**
   * Sends `pending`: `command id namespace key`, followed for a store by the value's kind, the
   * value and its TTL.
   */
  send(pending: Pending, value: StoredValue | undefined, ttl: number): void {
    if (this.#destroyed) {
      settle(pending)
      failLater(
        pending.to,
        unavailable(pending.peer, pending.namespace, pending.key, 'the connection closed'),
      )
      return
    }
    const id = this.#pending.add(pending)
    const writer = this.#writer
    if (pending.command === PING) {
      writer.arrayHeader(2).bulk(PING).bulk(id)
    } else if (pending.command === AUTH) {
      // The secret travels as the value: it is never a request's key, so no error names it.
      writer
        .arrayHeader(3)
        .bulk(AUTH)
        .bulk(id)
        .bulk(value as string)
    } else if (pending.command === LEAVE) {
      writer.arrayHeader(3).bulk(LEAVE).bulk(id).bulk(pending.key)
    } else if (pending.command === FLUSH) {
      writer.arrayHeader(3).bulk(FLUSH).bulk(id).bulk(pending.namespace)
    } else if (value === undefined) {
      const prefix = pending.command === FETCH ? FETCH_PREFIX : prefixOf(pending.command, 4)
      writer.raw(prefix).bulk(id).raw(this.#bulkOf(pending.namespace)).bulk(pending.key)
    } else {
      writer.raw(prefixOf(pending.command, 7)).bulk(id).raw(this.#bulkOf(pending.namespace)).bulk(pending.key)
      writer
        .bulk(typeof value === 'string' ? 's' : 'b')
        .bulk(value)
        .bulk(ttl)
    }
    if (!this.#flushScheduled && this.#connected) {
      this.#flushScheduled = true
      process.nextTick(this.#flushNow)
    }
  }

  /** `namespace` as a bulk string, encoded once while the requests keep naming it. */
  #bulkOf(namespace: string): Buffer {
    if (namespace !== this.#lastNamespace) {
      this.#lastNamespace = namespace
      this.#lastNamespaceBulk = Buffer.from(`$${Buffer.byteLength(namespace)}\r\n${namespace}\r\n`)
    }
    return this.#lastNamespaceBulk
  }

  /** Fails `pending` with `reason`; its reply, if it ever comes, is dropped. */
  cancel(pending: Pending, reason: unknown): void {
    if (this.#pending.take(pending.id) !== pending) return
    settle(pending)
    pending.to.failed(reason)
  }

  /** Fails the requests past their deadline; returns how many. Pending ids ascend with deadlines. */
  expire(now: number): number {
    let expired = 0
    for (let p = this.#pending.oldest(); p !== undefined && p.deadline <= now; p = this.#pending.oldest()) {
      this.#pending.take(p.id)
      settle(p)
      expired++
      p.to.failed(timedOut(p))
    }
    // A connection that never came up within the deadline is abandoned.
    if (expired > 0 && !this.#connected)
      this.destroy(unavailable(this.peer, '', '', 'connecting timed out'), true)
    return expired
  }

  /** Closes the connection and fails every request in flight with `err`'s code and message. */
  destroy(err: BurrowError, refused = false): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#socket.destroy()
    this.#events.closed(this, refused)
    const pending = this.#pending.drain()
    if (pending.length > 0 && err.code !== 'BURROW_ERR_CLOSED') this.#events.failed(pending.length)
    for (const p of pending) {
      settle(p)
      p.to.failed(
        new BurrowError(err.code, err.message, {
          cause: err.cause,
          peer: p.peer,
          namespace: p.namespace,
          key: p.key,
        }),
      )
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#writer.length === 0 || this.#destroyed) return
    this.#busyPoll?.wrote()
    this.#socket.write(this.#writer.take())
    // Plain TCP, and all of it went to the kernel in the write (nothing waits in the stream): the
    // writer's slab is free again.
    if (!this.#secure && this.#socket.writableLength === 0) this.#writer.reuse()
  }

  /** Plain TCP's reads; true: go on reading. */
  readonly #onRead = (bytes: number, buffer: Uint8Array): boolean => {
    this.#onData((buffer as Buffer).subarray(0, bytes))
    return true
  }

  #onData(chunk: Buffer): void {
    this.#busyPoll?.read()
    try {
      this.#reader.feed(chunk)
    } catch (err) {
      this.destroy(
        err instanceof BurrowError
          ? err
          : new BurrowError('BURROW_ERR_PROTOCOL', `peer ${this.peer} sent an unreadable reply`),
      )
    }
  }

  readonly #onReply: OnReply = (id, status, value, ttl) => {
    const pending = this.#pending.take(id)
    if (pending === undefined) return // cancelled or expired: its late reply is dropped
    settle(pending)
    if (status === 'e') return pending.to.failed(remoteError(pending, value as string))
    const peek = pending.command === PEEK
    const answers = peek || pending.command === FETCH
    // A fetch or peek is answered with a value or not found (a peek also with a miss), the others with done.
    if (answers === (status === 'k') || (status === 'm' && !peek))
      return pending.to.failed(protocol(pending, `status ${status} to ${pending.command}`))
    pending.to.answered(answers && status !== 'm' ? { value, ttlMs: ttl } : undefined)
  }
}

function settle(p: Pending): void {
  if (p.onAbort !== undefined) p.signal!.removeEventListener('abort', p.onAbort)
}

/** Fails a request that never went out, after the call that sent it has returned (see Receiver). */
export function failLater(to: Receiver<unknown>, reason: unknown): void {
  queueMicrotask(() => to.failed(reason))
}
