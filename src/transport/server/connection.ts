/**
 * One RESP connection on the server: reads commands, runs them from the command table, and
 * writes their replies. Untagged replies go out in the order their commands came in; tagged ones
 * (the peer commands) as soon as they are ready. Replies go out in one `write` per connection once
 * the event loop has read every ready socket (see `flushLater`).
 *
 * @module
 */
import type { Socket } from 'node:net'
import { BurrowError } from '../../errors.ts'
import type { Secrets } from '../../security/secrets.ts'
import type { BusyPoll } from '../busy-poll.ts'
import { flushLater } from '../flush-later.ts'
import { type CommandArgs, CommandReader } from '../resp/command-reader.ts'
import { RespWriter } from '../resp/writer.ts'
import type { RingView, ServedMembership, ServedNamespace } from '../served.ts'
import type { Command, Session, Write, WriteTagged } from './command.ts'
import { lookupCommand } from './command-table.ts'
import { errorText, parseId, writeError, writeSimple, writeTaggedError } from './replies.ts'

/** What a connection needs from its node. */
export interface ConnectionHost {
  namespace(name: string): ServedNamespace | undefined
  maxFrameBytes: number
  stats(): unknown
  /** The ring as this node sees it, for `BURROW.RING`. */
  ring(): RingView
  /** Membership: peers that leave, and whether this node is leaving. */
  readonly membership: ServedMembership
  /** The secrets a connection must present (`AUTH`) before anything else runs; none: open. */
  readonly secrets: Secrets | undefined
  /** How long a command may take to arrive once its first byte has (slow senders are cut off). */
  readonly requestTimeoutMs: number
  /** A connection (from `remoteAddress`) was cut off for sending a command too slowly. */
  timedOut(remoteAddress: string | undefined): void
  /** The most reply bytes a connection may have waiting for its client to read them. */
  readonly maxReplyBufferBytes: number
  /** A connection (from `remoteAddress`) was cut off for not reading its replies. */
  overflowed(remoteAddress: string | undefined): void
  /** Told of every read and write (`busyPollMicros`), when the node polls. */
  readonly busyPoll: BusyPoll | undefined
}

/** Replies owed on one connection before it stops reading, and running, more commands. */
const MAX_OWED = 4096
const INVALID = 'ERR a command is an array of bulk strings'

/** An untagged reply in its place in line: `write` is set once its answer is ready. */
interface Slot {
  write: ((writer: RespWriter) => void) | undefined
}

/** A RESP connection; it starts reading at once and feeds itself from its socket. */
export class RespConnection implements Session {
  readonly #socket: Socket
  readonly #host: ConnectionHost
  readonly #reader: CommandReader<Command>
  readonly #writer = new RespWriter()
  /** Untagged replies waiting behind one whose answer is not ready, in request order. */
  #ordered: Slot[] = []
  /** Replies (tagged or not) whose answers are not ready yet. */
  #owed = 0
  #flushScheduled = false
  #paused = false
  #quitting = false
  #authenticated: boolean
  /** Commands read past the bound on replies owed, run once replies go out (`undefined`: an invalid one). */
  #held: ({ command: Command | undefined; args: CommandArgs } | undefined)[] = []
  /** Armed while a command is half-read: it must be whole by then. */
  #deadline: NodeJS.Timeout | undefined
  /** Commands read whole (or found invalid) so far, and how many when the deadline was last set. */
  #commandsRead = 0
  #deadlineFrom = 0
  /** Armed while more replies than the bound wait unread: the client must read some by then. */
  #overflow: NodeJS.Timeout | undefined
  readonly #flushNow = (): void => this.#flush()
  /** Plain TCP: a write that leaves nothing in the stream has handed every byte to the kernel. */
  readonly #plain: boolean
  /** True while the commands of one read run: their ready replies wait (`#readyWrites`) until all ran. */
  #reading = false
  /** Replies ready while a read's commands ran, in order: how to write each, its id (-1: untagged), what. */
  readonly #readyWrites: (Write<never> | WriteTagged<never>)[] = []
  readonly #readyIds: number[] = []
  readonly #readyValues: unknown[] = []
  /** Where `#writeReady` sums the lengths it read: a store the compiler keeps, and the reads with it. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: written only, so that the reads stay
  #touched = 0

  constructor(socket: Socket, host: ConnectionHost) {
    this.#socket = socket
    this.#plain = (socket as { encrypted?: boolean }).encrypted !== true
    this.#host = host
    this.#authenticated = host.secrets === undefined
    this.#reader = new CommandReader<Command>({
      maxFrameBytes: host.maxFrameBytes,
      lookup: lookupCommand,
      onCommand: (command, args) => {
        this.#commandsRead++
        if (this.#quitting) return // nothing after QUIT is run
        // At the bound on replies owed, the commands left in this read wait their turn, in order.
        if (this.#owed >= MAX_OWED || this.#held.length > 0) this.#held.push({ command, args })
        else this.#run(command, args)
      },
      onInvalid: () => {
        this.#commandsRead++
        if (this.#quitting) return
        if (this.#owed >= MAX_OWED || this.#held.length > 0) this.#held.push(undefined)
        else this.reply(writeError, INVALID)
      },
    })
    socket.on('data', (chunk: Buffer) => this.feed(chunk))
    socket.on('drain', () => {
      if (this.#overflow !== undefined) clearTimeout(this.#overflow)
      this.#overflow = undefined
      this.#maybeResume()
    })
    socket.on('close', () => {
      if (this.#deadline !== undefined) clearTimeout(this.#deadline)
      if (this.#overflow !== undefined) clearTimeout(this.#overflow)
    })
  }

  #run(command: Command | undefined, args: CommandArgs): void {
    if (!this.#authenticated && command?.beforeAuth !== true) return this.#refuse(command, args)
    if (command !== undefined) return command.run(this, args)
    this.reply(writeError, `ERR unknown command '${(args[0] as string).slice(0, 64)}'`)
  }

  /** Reads `chunk` (the bytes the port sniffed arrive this way too); bad input ends the connection. */
  feed(chunk: Buffer): void {
    this.#host.busyPoll?.read()
    if (this.#quitting) return
    try {
      this.#reading = true
      this.#reader.feed(chunk)
      this.#reading = false
      this.#writeReady()
      this.#watchPartial()
    } catch (err) {
      this.#reading = false
      this.#writeReady()
      this.#writer.error(err instanceof BurrowError ? `${err.code} ${err.message}` : 'ERR protocol error')
      this.#flush()
      this.#socket.end()
      this.#socket.destroySoon()
    }
  }

  namespace(name: string): ServedNamespace | undefined {
    return this.#host.namespace(name)
  }

  stats(): unknown {
    return this.#host.stats()
  }

  ring(): RingView {
    return this.#host.ring()
  }

  get authenticated(): boolean {
    return this.#authenticated
  }

  get protocol(): 2 | 3 {
    return this.#writer.resp3 ? 3 : 2
  }

  authenticate(secret: string | Uint8Array): boolean | undefined {
    const secrets = this.#host.secrets
    if (secrets === undefined) return undefined
    // A failed attempt leaves the connection as it was, as in Redis.
    const ok = secrets.matches(secret)
    if (ok) this.#authenticated = true
    return ok
  }

  /**
   * A command that is half-read must be whole within the request deadline, however slowly its
   * bytes come (one a second would otherwise hold the connection, and its buffer, for ever).
   */
  #watchPartial(): void {
    if (this.#reader.idle) {
      if (this.#deadline !== undefined) clearTimeout(this.#deadline)
      this.#deadline = undefined
    } else if (this.#deadline === undefined) {
      this.#deadlineFrom = this.#commandsRead
      this.#deadline = setTimeout(this.#deadlinePassed, this.#host.requestTimeoutMs)
      this.#deadline.unref()
    } else if (this.#deadlineFrom !== this.#commandsRead) {
      // Commands came whole since the deadline was set: it is the half-read one's now, from now.
      // A client streaming pipelined commands rarely has a read end between two of them.
      this.#deadlineFrom = this.#commandsRead
      this.#deadline.refresh()
    }
  }

  /**
   * The half-read command's time ran out. Judged once the event loop has read its sockets: after
   * a stall (a long GC pause, a starved process) the timer fires before the loop reads what the
   * client sent meanwhile, and a client that sent the rest in time is not cut off for it.
   */
  readonly #deadlinePassed = (): void => {
    const from = this.#commandsRead
    setImmediate(() => {
      if (this.#socket.destroyed || this.#reader.idle || this.#commandsRead !== from) return
      // The node paused reading (replies owed, or the client's window full): the rest of the
      // command waits in the kernel for the node, not the client. The bound on unread replies
      // deals with a client that does not read; this deadline starts again.
      if (this.#paused) return void this.#deadline?.refresh()
      this.#deadline = undefined
      this.#host.timedOut(this.#socket.remoteAddress)
      this.#socket.destroy()
    })
  }

  /** A command before authentication: tagged for a peer command with an id, else as Redis does. */
  #refuse(command: Command | undefined, args: CommandArgs): void {
    const id = command?.tagged === true ? parseId(args[1]) : undefined
    if (id !== undefined) this.tagged(id, writeTaggedError, 'BURROW_ERR_AUTH authentication required')
    else this.reply(writeError, 'NOAUTH Authentication required.')
  }

  get membership(): ServedMembership {
    return this.#host.membership
  }

  /**
   * The node is closing: stop reading commands, and end the connection once every reply owed
   * is written (or at once when none is).
   */
  end(): void {
    if (this.#quitting) return
    this.#quitting = true
    // Reading goes on (commands are ignored now): a paused socket would never see the peer's
    // end of the connection, and would stay open until the grace period ran out.
    this.#paused = false
    this.#socket.resume()
    this.#maybeEnd()
  }

  reply<T>(write: Write<T>, value: T): void {
    if (this.#ordered.length === 0 && this.#reading) {
      this.#readyWrites.push(write as Write<never>)
      this.#readyIds.push(-1)
      this.#readyValues.push(value)
    } else if (this.#ordered.length === 0) {
      write(this.#writer, value)
      this.#scheduleFlush()
    } else {
      this.#ordered.push({ write: (writer) => write(writer, value) })
    }
  }

  replyLater<T>(answer: Promise<T>, write: Write<T>): void {
    const slot: Slot = { write: undefined }
    this.#ordered.push(slot)
    this.#owed++
    answer.then(
      (value) => this.#settleSlot(slot, (writer) => write(writer, value)),
      (err: unknown) => this.#settleSlot(slot, (writer) => writeError(writer, errorText(err))),
    )
    this.#maybePause()
  }

  tagged<T>(id: number, write: WriteTagged<T>, value: T): void {
    if (this.#reading) {
      this.#readyWrites.push(write as WriteTagged<never>)
      this.#readyIds.push(id)
      this.#readyValues.push(value)
      return
    }
    write(this.#writer, id, value)
    this.#scheduleFlush()
  }

  taggedLater<T>(id: number, answer: Promise<T>, write: WriteTagged<T>): void {
    this.#owed++
    answer.then(
      (value) => this.#settleTagged(id, write, value),
      (err: unknown) => this.#settleTagged(id, writeTaggedError, errorText(err)),
    )
    this.#maybePause()
  }

  quit(): void {
    this.reply(writeSimple, 'OK')
    this.end()
  }

  #settleTagged<T>(id: number, write: WriteTagged<T>, value: T): void {
    this.#owed--
    try {
      this.tagged(id, write, value)
    } catch {
      return this.#broken()
    }
    this.#maybeResume()
    this.#maybeEnd()
  }

  #settleSlot(slot: Slot, write: (writer: RespWriter) => void): void {
    this.#owed--
    slot.write = write
    const ordered = this.#ordered
    try {
      while (ordered.length > 0 && ordered[0]!.write !== undefined) ordered.shift()!.write!(this.#writer)
    } catch {
      return this.#broken()
    }
    this.#scheduleFlush()
    this.#maybeResume()
    this.#maybeEnd()
  }

  /**
   * A reply that could not be written (a value of the wrong type: a bug) ends this connection, not
   * the process, as an exception in a promise callback would.
   */
  #broken(): void {
    this.#socket.destroy()
  }

  /** After QUIT: once nothing is owed, write what is left and close the connection. */
  #maybeEnd(): void {
    if (!this.#quitting || this.#owed > 0 || this.#ordered.length > 0) return
    this.#flush()
    // Closed once written, not half-closed: a client that never ends its side would keep it open.
    this.#socket.destroySoon()
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    flushLater(this.#flushNow)
  }

  /**
   * Writes the replies that got ready while a read's commands ran. Their values' lengths are read
   * first, one after another: the strings' first bytes, out of the CPU's caches, are then fetched
   * together rather than one per reply as each is written (BENCHMARKS.md, the #13 A/B table).
   */
  #writeReady(): void {
    const writes = this.#readyWrites
    const count = writes.length
    if (count === 0) return
    const values = this.#readyValues
    let touched = 0
    for (let i = 0; i < count; i++) {
      const value = values[i]
      if (typeof value === 'string') touched += value.length
    }
    this.#touched = touched
    const ids = this.#readyIds
    try {
      for (let i = 0; i < count; i++) {
        const id = ids[i]!
        if (id < 0) (writes[i] as Write<never>)(this.#writer, values[i] as never)
        else (writes[i] as WriteTagged<never>)(this.#writer, id, values[i] as never)
      }
    } finally {
      // Emptied even when a write throws (the connection then answers an error and closes): no
      // reply is written twice.
      writes.length = 0
      ids.length = 0
      values.length = 0
    }
    this.#scheduleFlush()
  }

  #flush(): void {
    this.#flushScheduled = false
    try {
      this.#writeReady()
    } catch {
      // A reply that cannot be written (a bug) ends this connection; the flushes queued with
      // this one still run (`flushLater`).
      return this.#broken()
    }
    if (this.#socket.destroyed || this.#writer.length === 0) return
    this.#host.busyPoll?.wrote()
    if (!this.#socket.write(this.#writer.take()) && !this.#paused) {
      // The peer reads slower than we answer: stop reading its commands until it catches up.
      this.#paused = true
      this.#socket.pause()
    }
    // All of it went to the kernel in the write (nothing waits in the stream): the slab is free.
    if (this.#plain && this.#socket.writableLength === 0) this.#writer.reuse()
    // Replies to commands read before the pause still come: a client that never reads would hold
    // them all in memory. Past the bound, it has the request deadline to read some (a 'drain'),
    // or it is cut off, as Redis cuts off slow clients past their soft limit.
    if (this.#overflow === undefined && this.#socket.writableLength > this.#host.maxReplyBufferBytes) {
      this.#overflow = setTimeout(this.#overflowPassed, this.#host.requestTimeoutMs)
      this.#overflow.unref()
    }
  }

  /**
   * The client's time to read its replies ran out. Judged, as the half-read command's deadline is,
   * once the event loop has run its I/O: after a stall, the writes the client did read are counted
   * in `writableLength` until their completions have run.
   */
  readonly #overflowPassed = (): void => {
    const timer = this.#overflow
    setImmediate(() => {
      // A 'drain' in between cleared it (and a later flush may have set another): nothing to judge.
      if (this.#overflow !== timer) return
      this.#overflow = undefined
      if (this.#socket.destroyed || this.#socket.writableLength <= this.#host.maxReplyBufferBytes) return
      this.#host.overflowed(this.#socket.remoteAddress)
      this.#socket.destroy()
    })
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
      // The commands held back go first, as far as the bound lets them.
      while (this.#held.length > 0 && this.#owed < MAX_OWED && !this.#quitting) {
        const held = this.#held.shift()
        if (held === undefined) this.reply(writeError, INVALID)
        else this.#run(held.command, held.args)
      }
      if (this.#held.length > 0 || this.#quitting) return
      this.#paused = false
      this.#socket.resume()
    }
  }
}
