/**
 * One RESP connection on the server: reads commands, runs them from the command table, and
 * writes their replies. Untagged replies go out in the order their commands came in; tagged ones
 * (the peer commands) as soon as they are ready. Replies made in one tick leave in one `write`.
 *
 * @module
 */
import type { Socket } from 'node:net'
import { BurrowError } from '../../errors.ts'
import { CommandReader } from '../resp/command-reader.ts'
import { RespWriter } from '../resp/writer.ts'
import type { RingView, ServedMembership, ServedNamespace } from '../served.ts'
import type { Command, Session, Write, WriteTagged } from './command.ts'
import { lookupCommand } from './command-table.ts'
import { errorText, writeError, writeSimple, writeTaggedError } from './replies.ts'

/** What a connection needs from its node. */
export interface ConnectionHost {
  namespace(name: string): ServedNamespace | undefined
  maxFrameBytes: number
  stats(): unknown
  /** The ring as this node sees it, for `BURROW.RING`. */
  ring(): RingView
  /** Membership: peers that leave, and whether this node is leaving. */
  readonly membership: ServedMembership
}

/** Replies owed on one connection before it stops reading more commands. */
const MAX_OWED = 4096

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
  readonly #flushNow = (): void => this.#flush()

  constructor(socket: Socket, host: ConnectionHost) {
    this.#socket = socket
    this.#host = host
    this.#reader = new CommandReader<Command>({
      maxFrameBytes: host.maxFrameBytes,
      lookup: lookupCommand,
      onCommand: (command, args) => {
        if (this.#quitting) return // nothing after QUIT is run
        if (command !== undefined) return command.run(this, args)
        this.reply(writeError, `ERR unknown command '${(args[0] as string).slice(0, 64)}'`)
      },
      onInvalid: () => {
        if (!this.#quitting) this.reply(writeError, 'ERR a command is an array of bulk strings')
      },
    })
    socket.on('data', (chunk: Buffer) => this.feed(chunk))
    socket.on('drain', () => this.#maybeResume())
  }

  /** Reads `chunk` (the bytes the port sniffed arrive this way too); bad input ends the connection. */
  feed(chunk: Buffer): void {
    if (this.#quitting) return
    try {
      this.#reader.feed(chunk)
    } catch (err) {
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
    if (this.#ordered.length === 0) {
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
    process.nextTick(this.#flushNow)
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#socket.destroyed || this.#writer.length === 0) return
    if (!this.#socket.write(this.#writer.take()) && !this.#paused) {
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
