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
import { LF, STAR } from '../resp/constants.ts'
import type { RingView, ServedNamespace } from '../served.ts'
import { RespConnection } from './connection.ts'

/** What the server needs from its node. */
export interface NodeServerOptions {
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
}

/** The longest first line looked at to tell HTTP from RESP. */
const SNIFF_BYTES = 8192
/** A connection idle this long is dropped: before its protocol is known, and on HTTP. */
const IDLE_TIMEOUT_MS = 30_000
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/

/** Serves RESP and HTTP on one TCP port. */
export class NodeServer {
  readonly #options: NodeServerOptions
  readonly #tcp: Server
  readonly #http: ReturnType<typeof createHttpServer>
  readonly #sockets = new Set<Socket>()
  #abortListen: (() => void) | undefined

  constructor(options: NodeServerOptions) {
    this.#options = options
    this.#http = createHttpServer(options.http)
    // This server never listens itself (it is handed sockets), so Node's request and headers
    // timeouts never start; an idle timeout per socket bounds slow or silent clients instead.
    this.#http.timeout = IDLE_TIMEOUT_MS
    this.#tcp = createServer({ noDelay: true }, (socket) => this.#accept(socket))
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

  /** Stops accepting, closes every open connection, and resolves once the port is free. */
  close(): Promise<void> {
    this.#abortListen?.()
    this.#abortListen = undefined
    return new Promise((resolve) => {
      this.#tcp.close(() => resolve())
      for (const socket of this.#sockets) socket.destroy()
      this.#http.closeAllConnections()
    })
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on('close', () => this.#sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    // A connection that sends nothing for a while is dropped before the protocol is known.
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy())
    let head: Buffer = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
      const protocol = sniff(head)
      if (protocol === undefined) {
        if (head.length > SNIFF_BYTES) socket.destroy()
        return
      }
      socket.off('data', onData)
      socket.setTimeout(0)
      if (protocol === 'http') {
        socket.pause()
        socket.unshift(head)
        this.#http.emit('connection', socket)
        socket.resume()
      } else {
        new RespConnection(socket, this.#options).feed(head)
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
