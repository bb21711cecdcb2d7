/**
 * The node's one port. The first bytes of each connection say which protocol it speaks: a RESP
 * array (`*`) is the peer protocol, a request line ending in `HTTP/1.x` is HTTP, and any other
 * line is an inline RESP command (as typed into telnet).
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'
import { channels, type PublishingNode, type ServerLimitMessage } from '../../diagnostics.ts'
import type { Secrets } from '../../security/secrets.ts'
import type { BusyPoll } from '../busy-poll.ts'
import { LF, STAR } from '../resp/constants.ts'
import type { RingView, ServedMembership, ServedNamespace } from '../served.ts'
import { type ConnectionHost, RespConnection } from './connection.ts'

/** What the server needs from its node. */
export interface NodeServerOptions {
  /** The node, as named in diagnostics messages. */
  readonly node: PublishingNode
  /** The namespace named `name` on this node, or `undefined`. */
  namespace(name: string): ServedNamespace | undefined
  /** Serves the connections that speak HTTP. */
  http: (req: IncomingMessage, res: ServerResponse) => void
  /** The largest RESP frame a connection may send. */
  maxFrameBytes: number
  /** The node's stats, for `BURROW.STATS`. */
  stats(): unknown
  /** The ring as this node sees it, for `BURROW.RING`. */
  ring(): RingView
  /** Membership: peers that leave (`BURROW.LEAVE`), and whether this node is leaving. */
  readonly membership: ServedMembership
  /** What connections must present before anything runs (RESP `AUTH`; HTTP is the handler's). */
  readonly secrets: Secrets | undefined
  /** The most connections open at once; more are closed as they come. */
  readonly maxConnections: number
  /**
   * How long a request may take to arrive once it has begun: a connection's first line, a RESP
   * command, an HTTP request's head. A sender slower than that is cut off (slowloris).
   */
  readonly requestTimeoutMs: number
  /** The most reply bytes a RESP connection may have waiting to be read before it is cut off. */
  readonly maxReplyBufferBytes: number
  /** With these (node:tls options: key, cert, and ca for mutual TLS), the port speaks TLS only. */
  readonly tls?: TlsOptions
  /** Told of every RESP read (`busyPollMicros`), when the node polls. */
  readonly busyPoll?: BusyPoll
}

/** Counters of the node's port, as found in `node.stats().server`. */
export interface ServerStats {
  /** Connections open now. */
  connections: number
  /** Connections closed on arrival because `maxConnections` were open. */
  refused: number
  /** Connections cut off because a request did not arrive whole within `requestTimeoutMs`. */
  timedOut: number
  /** Connections cut off because their client left more than `maxReplyBufferBytes` of replies unread. */
  overflowed: number
}

/** The longest first line looked at to tell HTTP from RESP. */
const SNIFF_BYTES = 8192
/** An HTTP connection idle this long between requests is dropped. */
const IDLE_TIMEOUT_MS = 30_000
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/

/** Serves RESP and HTTP on one TCP port. */
export class NodeServer {
  readonly #options: NodeServerOptions
  readonly #tcp: Server
  readonly #http: ReturnType<typeof createHttpServer>
  readonly #sockets = new Set<Socket>()
  /** The RESP connections among the sockets, so close() can end them gracefully. */
  readonly #resp = new Map<Socket, RespConnection>()
  /** The sockets handed to the HTTP server, with the requests each is serving now. */
  readonly #httpSockets = new Map<Socket, number>()
  /** HTTP sockets waiting for a request's head, with the deadline for it. */
  readonly #httpDeadlines = new Map<Socket, NodeJS.Timeout>()
  readonly #connectionHost: ConnectionHost
  readonly #counters = { refused: 0, timedOut: 0, overflowed: 0 }
  #closing = false
  #abortListen: (() => void) | undefined

  constructor(options: NodeServerOptions) {
    this.#options = options
    this.#connectionHost = {
      namespace: (name) => options.namespace(name),
      maxFrameBytes: options.maxFrameBytes,
      stats: () => options.stats(),
      ring: () => options.ring(),
      membership: options.membership,
      secrets: options.secrets,
      requestTimeoutMs: options.requestTimeoutMs,
      timedOut: (remoteAddress) => {
        this.#counters.timedOut++
        this.#limitHit('requestTimeoutMs', remoteAddress)
      },
      maxReplyBufferBytes: options.maxReplyBufferBytes,
      busyPoll: options.busyPoll,
      overflowed: (remoteAddress) => {
        this.#counters.overflowed++
        this.#limitHit('maxReplyBufferBytes', remoteAddress)
      },
    }
    this.#http = createHttpServer((req, res) => this.#serveHttp(req, res))
    // This server never listens itself (it is handed sockets), so Node's request and headers
    // timeouts never start: a deadline per request head (#awaitHead) and an idle timeout per
    // socket bound slow or silent clients instead.
    this.#http.timeout = IDLE_TIMEOUT_MS
    const accept = (socket: Socket): void => this.#accept(socket)
    // With TLS, a connection is accepted once its handshake is done; the handshake itself has the
    // request deadline, and the bound on connections counts handshakes too.
    this.#tcp =
      options.tls === undefined
        ? createServer({ noDelay: true }, accept)
        : createTlsServer(
            { handshakeTimeout: options.requestTimeoutMs, ...options.tls, noDelay: true },
            accept,
          )
    // Node closes connections over the bound itself (before any handshake) and says so with 'drop'.
    this.#tcp.maxConnections = options.maxConnections
    this.#tcp.on('drop', (data) => {
      this.#counters.refused++
      this.#limitHit('maxConnections', data?.remoteAddress)
    })
  }

  /** Binds `host:port` (port 0: any free port); resolves the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      // close() before the bind completes: Node then calls neither back, so settle here.
      this.#abortListen = () => reject(new Error('the node closed while it was starting to listen'))
      this.#tcp.once('error', onError)
      this.#tcp.listen({ host, port }, () => {
        this.#abortListen = undefined
        this.#tcp.off('error', onError)
        const address = this.#tcp.address()
        if (address === null || typeof address === 'string') return reject(new Error('no TCP address'))
        resolve({ host: address.address, port: address.port })
      })
    })
  }

  /**
   * Stops accepting and closes every connection; resolves once the port is free. With `graceMs`,
   * connections first get that long to write the replies they owe (RESP) and finish the
   * responses under way (HTTP); idle ones close at once.
   */
  close(graceMs = 0): Promise<void> {
    this.#abortListen?.()
    this.#abortListen = undefined
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const destroyAll = (): void => {
        for (const socket of this.#sockets) socket.destroy()
        this.#http.closeAllConnections()
      }
      this.#tcp.close(() => {
        if (timer !== undefined) clearTimeout(timer)
        resolve()
      })
      if (graceMs <= 0) return destroyAll()
      this.#closing = true
      for (const socket of this.#sockets) {
        const conn = this.#resp.get(socket)
        if (conn !== undefined) conn.end()
        // An HTTP socket serving nothing, or one still sniffing, owes nothing.
        else if ((this.#httpSockets.get(socket) ?? 0) === 0) socket.destroy()
      }
      timer = setTimeout(destroyAll, graceMs)
    })
  }

  /** The port's counters, a fresh object. */
  stats(): ServerStats {
    return { connections: this.#sockets.size, ...this.#counters }
  }

  /** Serves one HTTP request, counting it on its socket so close() can wait for it. */
  #serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    this.#clearHeadDeadline(socket)
    this.#httpSockets.set(socket, (this.#httpSockets.get(socket) ?? 0) + 1)
    if (this.#closing) res.shouldKeepAlive = false
    res.once('close', () => {
      if (!this.#httpSockets.has(socket)) return // the socket closed first
      const busy = (this.#httpSockets.get(socket) ?? 1) - 1
      this.#httpSockets.set(socket, busy)
      if (this.#closing && busy === 0) socket.destroySoon()
      else if (busy === 0 && !socket.destroyed) this.#awaitHead(socket) // the next request's head
    })
    this.#options.http(req, res)
  }

  /** A request head must arrive whole within the deadline, however slowly its bytes come. */
  #awaitHead(socket: Socket): void {
    this.#clearHeadDeadline(socket)
    const timer: NodeJS.Timeout = setTimeout(
      () => this.#cutOffUnless(socket, () => this.#httpDeadlines.get(socket) !== timer),
      this.#options.requestTimeoutMs,
    )
    timer.unref()
    this.#httpDeadlines.set(socket, timer)
  }

  #clearHeadDeadline(socket: Socket): void {
    const timer = this.#httpDeadlines.get(socket)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#httpDeadlines.delete(socket)
  }

  /**
   * A deadline ran out: judged once the event loop has read its sockets, so that bytes which came
   * in time during a stall of this process (a long GC pause) are read first. `done`: whether what
   * the deadline waited for came meanwhile.
   */
  #cutOffUnless(socket: Socket, done: () => boolean): void {
    setImmediate(() => {
      if (!socket.destroyed && !done()) this.#cutOff(socket)
    })
  }

  #cutOff(socket: Socket): void {
    this.#counters.timedOut++
    this.#limitHit('requestTimeoutMs', socket.remoteAddress)
    socket.destroy()
  }

  #limitHit(limit: ServerLimitMessage['limit'], remoteAddress: string | undefined): void {
    if (channels.serverLimit.hasSubscribers)
      channels.serverLimit.publish({ node: this.#options.node, limit, remoteAddress })
  }

  #accept(socket: Socket): void {
    if (this.#sockets.size >= this.#options.maxConnections) {
      this.#counters.refused++
      this.#limitHit('maxConnections', socket.remoteAddress)
      socket.destroy()
      return
    }
    this.#sockets.add(socket)
    socket.on('close', () => this.#sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    // The first line must come whole within the deadline, or the connection is dropped.
    let sniffed = false
    const sniffing = setTimeout(
      () => this.#cutOffUnless(socket, () => sniffed),
      this.#options.requestTimeoutMs,
    )
    sniffing.unref()
    socket.on('close', () => clearTimeout(sniffing))
    let head: Buffer = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
      const protocol = sniff(head)
      if (protocol === undefined) {
        if (head.length > SNIFF_BYTES) socket.destroy()
        return
      }
      sniffed = true
      socket.off('data', onData)
      clearTimeout(sniffing)
      if (protocol === 'http') {
        this.#httpSockets.set(socket, 0)
        socket.on('close', () => {
          this.#httpSockets.delete(socket)
          this.#clearHeadDeadline(socket)
        })
        this.#awaitHead(socket)
        socket.pause()
        socket.unshift(head)
        this.#http.emit('connection', socket)
        socket.resume()
      } else {
        const conn = new RespConnection(socket, this.#connectionHost)
        this.#resp.set(socket, conn)
        socket.on('close', () => this.#resp.delete(socket))
        conn.feed(head)
      }
    }
    socket.on('data', onData)
  }
}

function sniff(head: Buffer): 'http' | 'resp' | undefined {
  if (head[0] === STAR) return 'resp'
  const eol = head.indexOf(LF)
  if (eol === -1 || eol > SNIFF_BYTES) return undefined
  return HTTP_REQUEST_LINE.test(head.toString('latin1', 0, eol)) ? 'http' : 'resp'
}
