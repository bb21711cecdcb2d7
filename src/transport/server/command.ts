/**
 * What a command of the server's table is, and what it sees of its connection (a
 * {@link Session}). One file per family of commands (`commands/*.ts`) fills the table.
 *
 * @module
 */
import type { CommandArgs, CommandShape } from '../resp/command-reader.ts'
import type { RespWriter } from '../resp/writer.ts'
import type { RingView, ServedMembership, ServedNamespace } from '../served.ts'

/** Writes the reply for `value`. */
export type Write<T> = (writer: RespWriter, value: T) => void

/** Writes the tagged reply `[id, status, payload, ...fields]` for `value`. */
export type WriteTagged<T> = (writer: RespWriter, id: number, value: T) => void

/**
 * A command's view of its connection. Untagged replies go out in the order their commands came
 * in, whenever their answers settle; tagged ones as soon as they are ready. A promise that
 * rejects is answered with `-CODE message` (tagged: `[id, +e, -CODE message]`).
 */
export interface Session {
  /** The namespace named `name` on this node, or `undefined`. */
  namespace(name: string): ServedNamespace | undefined
  /** The node's stats, for `BURROW.STATS`. */
  stats(): unknown
  /** The ring as this node sees it, for `BURROW.RING`. */
  ring(): RingView
  /** Membership: peers that leave, and whether this node is leaving. */
  readonly membership: ServedMembership
  /** An untagged reply, ready now. */
  reply<T>(write: Write<T>, value: T): void
  /** An untagged reply once `answer` settles; the replies after it wait for it. */
  replyLater<T>(answer: Promise<T>, write: Write<T>): void
  /** A tagged reply, ready now. */
  tagged<T>(id: number, write: WriteTagged<T>, value: T): void
  /** A tagged reply once `answer` settles; nothing waits for it. */
  taggedLater<T>(id: number, answer: Promise<T>, write: WriteTagged<T>): void
  /** `+OK` after the untagged replies owed, then the connection ends once every reply is written. */
  quit(): void
  /**
   * Checks `secret` against the node's; on a match the connection is authenticated (a failed
   * attempt changes nothing). `undefined` when the node requires no authentication.
   */
  authenticate(secret: string | Uint8Array): boolean | undefined
  /** Whether commands may run: the node requires no authentication, or the connection has it. */
  readonly authenticated: boolean
  /** The protocol replies are written in: 2, or 3 once the reply to `HELLO 3` went out. */
  readonly protocol: 2 | 3
}

/** One command of the table. */
export interface Command extends CommandShape {
  /** The name, upper case; a client may send it in any case. */
  readonly name: string
  /** Runs the command; `args[0]` is its name as sent. */
  run(session: Session, args: CommandArgs): void
  /** Runs before the connection has authenticated (`AUTH`, `QUIT`); others are refused then. */
  readonly beforeAuth?: boolean
  /** A peer command: `args[1]` is its id, and its replies (a refusal too) are tagged. */
  readonly tagged?: boolean
}
