/**
 * The commands for people and any Redis client: `BURROW.GET`, `BURROW.SET` and `BURROW.DEL`.
 * They act through this node like `ns.get`, `ns.set` and `ns.delete` (the owner is asked when it
 * is another node) and are answered in the order they came in.
 *
 * @module
 */
import type { Buffer } from 'node:buffer'
import type { StoredValue } from '../../../codec.ts'
import type { CommandArgs } from '../../resp/command-reader.ts'
import { DEFAULT_TTL, type WriteResult } from '../../served.ts'
import type { Command, Session, Write } from '../command.ts'
import { errorText, UNKNOWN_NAMESPACE, writeError, writeValue } from '../replies.ts'

const GET_USAGE = 'ERR usage: BURROW.GET namespace key'
const SET_USAGE = 'ERR usage: BURROW.SET namespace key value [PX milliseconds | EX seconds] [BYTES]'
const DEL_USAGE = 'ERR usage: BURROW.DEL namespace key'
/** `SET`'s value (index 3) and the options after it are bytes: a value must keep its exact bytes. */
const SET_VALUE = 3

/** `BURROW.GET namespace key` → the value as a bulk string, nil for not found, or `-CODE message`. */
function get(session: Session, args: CommandArgs): void {
  if (args.length !== 3) return session.reply(writeError, GET_USAGE)
  const ns = session.namespace(args[1] as string)
  if (ns === undefined) return session.reply(writeError, UNKNOWN_NAMESPACE)
  let answer: StoredValue | undefined | Promise<StoredValue | undefined>
  try {
    answer = ns.read(args[2] as string)
  } catch (err) {
    return session.reply(writeError, errorText(err))
  }
  if (answer instanceof Promise) session.replyLater(answer, writeValue)
  else session.reply(writeValue, answer)
}

/** `BURROW.SET namespace key value [PX ms | EX s] [BYTES]` → `+OK[ unreachable peer...]` or `-CODE message`. */
function set(session: Session, args: CommandArgs): void {
  if (args.length < 4) return session.reply(writeError, SET_USAGE)
  const options = setOptions(args)
  if (typeof options === 'string') return session.reply(writeError, options)
  const ns = session.namespace(args[1] as string)
  if (ns === undefined) return session.reply(writeError, UNKNOWN_NAMESPACE)
  const bytes = args[SET_VALUE] as Buffer
  write(session, () => ns.set(args[2] as string, options.bytes ? bytes : bytes.toString('utf8'), options.ttl))
}

/** `BURROW.DEL namespace key` → `+OK[ unreachable peer...]` or `-CODE message`. */
function del(session: Session, args: CommandArgs): void {
  if (args.length !== 3) return session.reply(writeError, DEL_USAGE)
  const ns = session.namespace(args[1] as string)
  if (ns === undefined) return session.reply(writeError, UNKNOWN_NAMESPACE)
  write(session, () => ns.delete(args[2] as string))
}

/** Runs a write and answers with its outcome once it settles. */
function write(session: Session, run: () => Promise<WriteResult>): void {
  let result: Promise<WriteResult>
  try {
    result = run()
  } catch (err) {
    return session.reply(writeError, errorText(err))
  }
  session.replyLater(result, writeResult)
}

/** `+OK`, or `+OK unreachable <peer> <peer>...` when some peers could not be told. */
const writeResult: Write<WriteResult> = (writer, result) => {
  if (result.unreachable.length === 0) writer.simple('OK')
  else writer.simple(`OK unreachable ${result.unreachable.join(' ').replace(/[\r\n]/g, ' ')}`)
}

/** `SET`'s options after the value: its TTL (`-1`: the namespace's default) and kind; else the error text. */
function setOptions(args: CommandArgs): { ttl: number; bytes: boolean } | string {
  let ttl: number | undefined
  let bytes = false
  for (let i = SET_VALUE + 1; i < args.length; i++) {
    const option = (args[i] as Buffer).toString('latin1').toUpperCase()
    if (option === 'BYTES' && !bytes) {
      bytes = true
    } else if ((option === 'PX' || option === 'EX') && ttl === undefined && i + 1 < args.length) {
      const text = (args[++i] as Buffer).toString('latin1')
      const n = /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN
      ttl = option === 'PX' ? n : n * 1000
      if (!Number.isSafeInteger(ttl)) {
        const unit = option === 'PX' ? 'milliseconds' : 'seconds'
        return `ERR ${option} must be a whole number of ${unit} (0: never expires), received ${JSON.stringify(text.slice(0, 32))}`
      }
    } else {
      return SET_USAGE
    }
  }
  return { ttl: ttl ?? DEFAULT_TTL, bytes }
}

/** The client commands of the table. */
export const clientCommands: readonly Command[] = [
  { name: 'BURROW.GET', binaryFrom: Number.POSITIVE_INFINITY, run: get },
  { name: 'BURROW.SET', binaryFrom: SET_VALUE, run: set },
  { name: 'BURROW.DEL', binaryFrom: Number.POSITIVE_INFINITY, run: del },
]
