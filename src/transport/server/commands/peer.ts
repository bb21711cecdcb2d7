/**
 * The commands nodes send each other: `BURROW.FETCH`, `BURROW.PEEK`, `BURROW.STORE`,
 * `BURROW.PURGE`, `BURROW.FLUSH`, and `BURROW.PING` and `BURROW.LEAVE` for membership. Each
 * carries an id that its reply, `[id, +status, payload, ...fields]`, brings back, so replies go
 * out as soon as they are ready, in any order (docs/protocol.md). They are served on this node
 * and never forwarded, whatever its ring says.
 *
 * @module
 */
import type { Buffer } from 'node:buffer'
import type { CommandArgs } from '../../resp/command-reader.ts'
import { type Answer, DO_NOT_KEEP, NO_EXPIRY } from '../../served.ts'
import type { Command, Session, WriteTagged } from '../command.ts'
import { errorText, parseId, UNKNOWN_NAMESPACE, writeError, writeTaggedError } from '../replies.ts'

const FETCH_USAGE = 'ERR usage: BURROW.FETCH id namespace key'
const STORE_USAGE = 'ERR usage: BURROW.STORE id namespace key s|b value ttl (ttl: -1, 0 or milliseconds)'
const PURGE_USAGE = 'ERR usage: BURROW.PURGE id namespace key'
const PING_USAGE = 'ERR usage: BURROW.PING id'
const PEEK_USAGE = 'ERR usage: BURROW.PEEK id namespace key'
const LEAVE_USAGE = 'ERR usage: BURROW.LEAVE id peer'
const FLUSH_USAGE = 'ERR usage: BURROW.FLUSH id namespace'
/** A probe of a node that is leaving fails, so the prober keeps it off its ring. */
const LEAVING = 'BURROW_ERR_CLOSED the node is leaving'
/** `STORE`'s value (index 5) and ttl are bytes: a value must keep its exact bytes. */
const STORE_VALUE = 5

/** `BURROW.FETCH id namespace key` → `[id, +s|+b, $value, :ttl]`, `[id, +n, $-1, :ttl]` or `[id, +e, -error]`. */
function fetch(session: Session, args: CommandArgs): void {
  const id = args.length === 4 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, FETCH_USAGE)
  const ns = session.namespace(args[2] as string)
  if (ns === undefined) return session.tagged(id, writeTaggedError, UNKNOWN_NAMESPACE)
  let answer: Answer | Promise<Answer>
  try {
    answer = ns.fetch(args[3] as string)
  } catch (err) {
    return session.tagged(id, writeTaggedError, errorText(err))
  }
  // A cached answer is written in this tick; only a load waits.
  if (answer instanceof Promise) session.taggedLater(id, answer, writeAnswer)
  else session.tagged(id, writeAnswer, answer)
}

/** `BURROW.STORE id namespace key kind value ttl` → `[id, +k, $-1]` or `[id, +e, -error]`. */
function store(session: Session, args: CommandArgs): void {
  const id = args.length === 7 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, STORE_USAGE)
  const kind = args[4] as string
  const ttl = parseWriteTtl((args[6] as Buffer).toString('latin1'))
  if ((kind !== 's' && kind !== 'b') || ttl === undefined)
    return session.tagged(id, writeTaggedError, STORE_USAGE)
  const ns = session.namespace(args[2] as string)
  if (ns === undefined) return session.tagged(id, writeTaggedError, UNKNOWN_NAMESPACE)
  const bytes = args[STORE_VALUE] as Buffer
  try {
    ns.store(args[3] as string, kind === 's' ? bytes.toString('utf8') : bytes, ttl)
  } catch (err) {
    return session.tagged(id, writeTaggedError, errorText(err))
  }
  session.tagged(id, writeDone, undefined)
}

/**
 * `BURROW.PEEK id namespace key` → `[id, +s|+b, $value, :ttl]`, `[id, +n, $-1, :ttl]` (a cached
 * not-found), `[id, +m, $-1]` (not in this node's caches) or `[id, +e, -error]`. Warm hand-off:
 * a new owner asks the previous one, which answers from its caches only.
 */
function peek(session: Session, args: CommandArgs): void {
  const id = args.length === 4 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, PEEK_USAGE)
  const ns = session.namespace(args[2] as string)
  if (ns === undefined) return session.tagged(id, writeTaggedError, UNKNOWN_NAMESPACE)
  let answer: Answer | undefined
  try {
    answer = ns.peek(args[3] as string)
  } catch (err) {
    return session.tagged(id, writeTaggedError, errorText(err))
  }
  if (answer === undefined) session.tagged(id, writeMiss, undefined)
  else session.tagged(id, writeAnswer, answer)
}

/**
 * `BURROW.PING id` → `[id, +k, $-1]`: the node answers (liveness probes); `[id, +e, -error]`
 * once it is leaving.
 */
function ping(session: Session, args: CommandArgs): void {
  const id = args.length === 2 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, PING_USAGE)
  if (session.membership.leaving()) session.tagged(id, writeTaggedError, LEAVING)
  else session.tagged(id, writeDone, undefined)
}

/** `BURROW.LEAVE id peer` → `[id, +k, $-1]`: `peer` is leaving; it goes off this node's ring. */
function leave(session: Session, args: CommandArgs): void {
  const id = args.length === 3 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, LEAVE_USAGE)
  try {
    session.membership.left(args[2] as string)
  } catch (err) {
    return session.tagged(id, writeTaggedError, errorText(err))
  }
  session.tagged(id, writeDone, undefined)
}

/** `BURROW.PURGE id namespace key` → `[id, +k, $-1]` or `[id, +e, -error]`. */
function purge(session: Session, args: CommandArgs): void {
  const id = args.length === 4 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, PURGE_USAGE)
  const ns = session.namespace(args[2] as string)
  if (ns === undefined) return session.tagged(id, writeTaggedError, UNKNOWN_NAMESPACE)
  try {
    ns.purge(args[3] as string)
  } catch (err) {
    return session.tagged(id, writeTaggedError, errorText(err))
  }
  session.tagged(id, writeDone, undefined)
}

/**
 * `BURROW.FLUSH id namespace` → `[id, +k, $-1]`: drops every key of the namespace from this
 * node's caches (it missed more purges while cut off than its peers keep for it).
 */
function flush(session: Session, args: CommandArgs): void {
  const id = args.length === 3 ? parseId(args[1]) : undefined
  if (id === undefined) return session.reply(writeError, FLUSH_USAGE)
  const ns = session.namespace(args[2] as string)
  if (ns === undefined) return session.tagged(id, writeTaggedError, UNKNOWN_NAMESPACE)
  ns.flush()
  session.tagged(id, writeDone, undefined)
}

const writeAnswer: WriteTagged<Answer> = (writer, id, answer) => {
  const value = answer.value
  writer.arrayHeader(4).integer(id)
  if (value === undefined) writer.simple('n').nil()
  else writer.simple(typeof value === 'string' ? 's' : 'b').bulk(value)
  writer.integer(wireTtl(answer.ttlMs))
}

const writeDone: WriteTagged<undefined> = (writer, id) => {
  writer.arrayHeader(3).integer(id).simple('k').nil()
}

const writeMiss: WriteTagged<undefined> = (writer, id) => {
  writer.arrayHeader(3).integer(id).simple('m').nil()
}

/** A `WriteTtl` on the wire: `-1`, or whole milliseconds (`0`: never expires). */
function parseWriteTtl(arg: string): number | undefined {
  return /^(?:-1|[0-9]{1,15})$/.test(arg) ? Number(arg) : undefined
}

/**
 * An answer's `ttlMs` as the integer the wire carries. A fraction of a millisecond left is
 * rounded up, not down to 0 ("do not keep"); anything negative or not a number never expires.
 */
function wireTtl(ms: number): number {
  if (ms > 0) return Number.isSafeInteger(ms) ? ms : Math.min(Math.ceil(ms), Number.MAX_SAFE_INTEGER)
  return ms === DO_NOT_KEEP ? DO_NOT_KEEP : NO_EXPIRY
}

/** The peer commands of the table. */
export const peerCommands: readonly Command[] = [
  { name: 'BURROW.PING', binaryFrom: Number.POSITIVE_INFINITY, run: ping, tagged: true },
  { name: 'BURROW.FETCH', binaryFrom: Number.POSITIVE_INFINITY, run: fetch, tagged: true },
  { name: 'BURROW.STORE', binaryFrom: STORE_VALUE, run: store, tagged: true },
  { name: 'BURROW.PURGE', binaryFrom: Number.POSITIVE_INFINITY, run: purge, tagged: true },
  { name: 'BURROW.PEEK', binaryFrom: Number.POSITIVE_INFINITY, run: peek, tagged: true },
  { name: 'BURROW.LEAVE', binaryFrom: Number.POSITIVE_INFINITY, run: leave, tagged: true },
  { name: 'BURROW.FLUSH', binaryFrom: Number.POSITIVE_INFINITY, run: flush, tagged: true },
]
