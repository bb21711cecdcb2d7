/**
 * The node's one port. The first bytes of each connection say which protocol it speaks: a RESP
 * array (`*`) is the peer protocol, a request line ending in `HTTP/1.x` is HTTP, and any other
 * line is an inline RESP command (as typed into telnet).
 *
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import type { StoredValue } from '../codec.ts'
import { BurrowError } from '../errors.ts'
import { type Namespace, serveLocal } from '../namespace.ts'
import { RespParser, type RespValue, RespWriter } from './resp.ts'

/** What the server needs from its node. */
export interface NodeServerOptions {
  namespace(name: string): Namespace<unknown> | undefined
  http: (req: IncomingMessage, res: ServerResponse) => void
  maxFrameBytes: number
  stats(): unknown
}

/** The longest first line looked at to tell HTTP from RESP. */
const SNIFF_BYTES = 8192
/** Replies owed on one connection before it stops reading more commands. */
const MAX_OWED = 4096
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/

/** Serves RESP and HTTP on one TCP port. */
export class NodeServer {
  #options: NodeServerOptions
  #tcp: Server
  #http: ReturnType<typeof createHttpServer>
  #sockets = new Set<Socket>()
  #abortListen: (() => void) | undefined

  constructor(options: NodeServerOptions) {
    this.#options = options
    this.#http = createHttpServer(options.http)
    // This server never listens itself (it is handed sockets), so Node's request and headers
    // timeouts never start; an idle timeout per socket bounds slow or silent clients instead.
    this.#http.timeout = 30_000
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
    socket.setTimeout(30_000, () => socket.destroy())
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
  if (head[0] === 0x2a) return 'resp' // '*'
  const eol = head.indexOf(0x0a)
  if (eol === -1 || eol > SNIFF_BYTES) return undefined
  return HTTP_REQUEST_LINE.test(head.toString('latin1', 0, eol)) ? 'http' : 'resp'
}

/** A reply slot of an untagged command: replies to those go out in the order they came in. */
interface Slot {
  reply: Reply | undefined
}

/** A reply ready to write: RESP text (UTF-8 on the wire) or bytes. */
type Reply = string | Buffer

/** One RESP connection: parses commands, runs them, writes replies in batches. */
class RespConnection {
  #socket: Socket
  #options: NodeServerOptions
  #parser: RespParser
  #ordered: Slot[] = []
  #owed = 0
  /** Replies waiting for the next flush: text runs are joined into one string, bytes kept apart. */
  #out: Reply[] = []
  #text = ''
  #flushScheduled = false
  #paused = false
  #quitting = false
  #maxFrameBytes: number
  readonly #onCommand = (command: RespValue): void => this.#run(command)

  constructor(socket: Socket, options: NodeServerOptions) {
    this.#maxFrameBytes = options.maxFrameBytes
    this.#socket = socket
    this.#options = options
    this.#parser = new RespParser({ maxFrameBytes: options.maxFrameBytes, inline: true, strings: true })
    socket.on('data', (chunk: Buffer) => this.feed(chunk))
    socket.on('drain', () => this.#maybeResume())
  }

  feed(chunk: Buffer): void {
    try {
      // Whole commands go through the fast path; the general parser takes over from the first
      // frame it cannot read (inline, split, unusual or malformed) until it is idle again.
      const pos =
        this.#parser.bufferedBytes === 0 ? readCommands(chunk, this.#maxFrameBytes, this.#onCommand) : 0
      if (pos < chunk.length) this.#parser.feed(pos === 0 ? chunk : chunk.subarray(pos), this.#onCommand)
    } catch (err) {
      const message = err instanceof BurrowError ? `${err.code} ${err.message}` : 'ERR protocol error'
      this.#send(errorReply(message))
      this.#flush()
      this.#socket.end()
      this.#socket.destroySoon()
    }
  }

  #run(command: RespValue): void {
    if (this.#quitting) return // nothing after QUIT is run
    if (!Array.isArray(command) || command.length === 0 || !command.every(isText)) {
      return this.#reply(errorReply('ERR a command is an array of bulk strings'))
    }
    const args = command as string[]
    const name = args[0]!.toUpperCase()
    switch (name) {
      case 'BURROW.FETCH':
        return this.#fetch(args)
      case 'BURROW.GET':
        return this.#get(args)
      case 'PING':
        return this.#reply(args.length > 1 ? bulkReply(args[1]!) : '+PONG\r\n')
      case 'BURROW.STATS':
        return this.#reply(bulkReply(JSON.stringify(this.#options.stats())))
      case 'COMMAND':
      case 'CONFIG':
        // redis-cli and redis-benchmark ask these on connect; an empty answer is enough for them.
        return this.#reply('*0\r\n')
      case 'QUIT':
        // +OK goes after every reply still owed; the connection ends once they are written.
        this.#reply('+OK\r\n')
        this.#quitting = true
        this.#socket.pause()
        return this.#maybeEnd()
      default:
        return this.#reply(errorReply(`ERR unknown command '${name.slice(0, 64)}'`))
    }
  }

  /** `BURROW.FETCH id namespace key`: a peer's request. Served here, never forwarded; tagged reply. */
  #fetch(args: string[]): void {
    const id = args.length === 4 ? parseId(args[1]!) : undefined
    if (id === undefined) return this.#reply(errorReply('ERR usage: BURROW.FETCH id namespace key'))
    const ns = this.#options.namespace(args[2]!)
    if (ns === undefined) return this.#send(fetchError(id, 'BURROW_ERR_UNKNOWN_NAMESPACE no such namespace'))
    const answer = ns[serveLocal](args[3]!, true)
    if (!(answer instanceof Promise)) return this.#send(fetchReply(id, answer))
    this.#owed++
    answer.then(
      (value) => this.#settleTagged(fetchReply(id, value)),
      (err: unknown) => this.#settleTagged(fetchError(id, errorText(err))),
    )
    this.#maybePause()
  }

  /** `BURROW.GET namespace key`: a client's read through this node (the owner is asked if needed). */
  #get(args: string[]): void {
    if (args.length !== 3) return this.#reply(errorReply('ERR usage: BURROW.GET namespace key'))
    const ns = this.#options.namespace(args[1]!)
    if (ns === undefined) return this.#reply(errorReply('BURROW_ERR_UNKNOWN_NAMESPACE no such namespace'))
    const answer = ns[serveLocal](args[2]!, false)
    if (!(answer instanceof Promise)) return this.#reply(bulkReply(answer))
    const slot: Slot = { reply: undefined }
    this.#ordered.push(slot)
    this.#owed++
    answer.then(
      (value) => this.#settleSlot(slot, value === undefined ? '$-1\r\n' : bulkReply(value)),
      (err: unknown) => this.#settleSlot(slot, errorReply(errorText(err))),
    )
    this.#maybePause()
  }

  /** An untagged reply that is ready now; it still waits behind earlier untagged ones. */
  #reply(reply: Reply): void {
    if (this.#ordered.length === 0) return this.#send(reply)
    this.#ordered.push({ reply })
  }

  #settleTagged(reply: Reply): void {
    this.#owed--
    this.#send(reply)
    this.#maybeResume()
    this.#maybeEnd()
  }

  #settleSlot(slot: Slot, reply: Reply): void {
    this.#owed--
    slot.reply = reply
    while (this.#ordered.length > 0 && this.#ordered[0]!.reply !== undefined)
      this.#send(this.#ordered.shift()!.reply!)
    this.#maybeResume()
    this.#maybeEnd()
  }

  /** After QUIT: once nothing is owed, write what is left and end the connection. */
  #maybeEnd(): void {
    if (!this.#quitting || this.#owed > 0 || this.#ordered.length > 0) return
    this.#flush()
    this.#socket.end()
  }

  #send(reply: Reply): void {
    if (typeof reply === 'string') this.#text += reply
    else {
      if (this.#text.length > 0) {
        this.#out.push(this.#text)
        this.#text = ''
      }
      this.#out.push(reply)
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      process.nextTick(() => this.#flush())
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#socket.destroyed) return
    let ok: boolean
    if (this.#out.length === 0) {
      if (this.#text.length === 0) return
      ok = this.#socket.write(this.#text)
    } else {
      if (this.#text.length > 0) this.#out.push(this.#text)
      // Corked, the parts leave in one writev.
      this.#socket.cork()
      for (const part of this.#out) this.#socket.write(part)
      this.#socket.uncork()
      ok = !this.#socket.writableNeedDrain
    }
    this.#out = []
    this.#text = ''
    if (!ok && !this.#paused) {
      // The peer reads slower than we answer: stop reading its commands until it catches up.
      this.#paused = true
      this.#socket.pause()
    }
  }

  #maybePause(): void {
    if (!this.#paused && this.#owed >= MAX_OWED) {
      this.#paused = true
      this.#socket.pause()
    }
  }

  #maybeResume(): void {
    if (this.#quitting) return
    if (this.#paused && this.#owed < MAX_OWED / 2 && !this.#socket.writableNeedDrain) {
      this.#paused = false
      this.#socket.resume()
    }
  }
}

/** The most arguments the fast path reads; longer commands go to the general parser. */
const FAST_MAX_ARGS = 16

/**
 * Reads the complete commands (`*N` arrays of `$len` bulk strings) at the start of `buf` and hands
 * each to `onCommand` as strings. Returns where it stopped: the end, or the first frame it does
 * not read itself (incomplete, inline, another type, too large or malformed), which the general
 * parser then reads — and, if it is bad, refuses.
 */
function readCommands(buf: Buffer, maxFrameBytes: number, onCommand: (command: string[]) => void): number {
  const end = buf.length
  let pos = 0
  while (pos < end) {
    if (buf[pos] !== 0x2a) return pos
    let p = pos + 1
    const count = readNumber(buf, p, end)
    if (count <= 0 || count > FAST_MAX_ARGS) return pos
    p = skipLine(buf, p, end)
    const args: string[] = new Array(count)
    for (let i = 0; i < count; i++) {
      if (p >= end || buf[p] !== 0x24) return pos
      const length = readNumber(buf, p + 1, end)
      if (length < 0 || length > maxFrameBytes) return pos
      const start = skipLine(buf, p + 1, end)
      const stop = start + length
      if (stop + 2 > end || buf[stop] !== 13 || buf[stop + 1] !== 10) return pos
      args[i] = buf.toString('utf8', start, stop)
      p = stop + 2
    }
    onCommand(args)
    pos = p
  }
  return pos
}

/** The decimal number (1 to 9 digits) at `p` that ends in CRLF, or -1. */
function readNumber(buf: Buffer, p: number, end: number): number {
  let n = 0
  let digits = 0
  for (; p < end && digits <= 9; p++, digits++) {
    const c = buf[p]!
    if (c === 13) return digits > 0 && p + 1 < end && buf[p + 1] === 10 ? n : -1
    if (c < 48 || c > 57) return -1
    n = n * 10 + (c - 48)
  }
  return -1
}

/** The position after the CRLF that ends the number at `p` (which readNumber accepted). */
function skipLine(buf: Buffer, p: number, end: number): number {
  while (p < end && buf[p] !== 13) p++
  return p + 2
}

function isText(arg: unknown): arg is string {
  return typeof arg === 'string'
}

/** A request id: decimal digits only (Number() alone would take ' 7', '0x7' or '1e3'). */
function parseId(arg: string): number | undefined {
  if (arg.length === 0 || arg.length > 15 || !/^[0-9]+$/.test(arg)) return undefined
  return Number(arg)
}

/** `[id, s|b, value]`, or `[id, n, nil]` for not found. A string value travels as text. */
function fetchReply(id: number, value: StoredValue | undefined): Reply {
  if (value === undefined) return `*3\r\n:${id}\r\n+n\r\n$-1\r\n`
  if (typeof value === 'string') return `*3\r\n:${id}\r\n+s\r\n$${Buffer.byteLength(value)}\r\n${value}\r\n`
  return new RespWriter().arrayHeader(3).integer(id).simple('b').bulk(value).take()
}

function fetchError(id: number, text: string): string {
  return `*3\r\n:${id}\r\n+e\r\n${errorReply(text)}`
}

function bulkReply(value: StoredValue): Reply {
  if (typeof value === 'string') return `$${Buffer.byteLength(value)}\r\n${value}\r\n`
  return new RespWriter().bulk(value).take()
}

/** `-text\r\n`, with any CR or LF in the text turned into spaces so the line cannot end early. */
function errorReply(text: string): string {
  const line = text.length > 1024 ? `${text.slice(0, 1021)}...` : text
  return `-${line.replace(/[\r\n]/g, ' ')}\r\n`
}

function errorText(err: unknown): string {
  return err instanceof BurrowError ? `${err.code} ${err.message}` : 'ERR internal error'
}
