/**
 * The commands that keep a session going: `PING`, `BURROW.STATS`, `QUIT`, and the `COMMAND` and
 * `CONFIG` that redis-cli and redis-benchmark send on connect.
 *
 * @module
 */
import type { CommandArgs } from '../../resp/command-reader.ts'
import type { Command, Session, Write } from '../command.ts'
import { writeSimple, writeValue } from '../replies.ts'

/** `PING [message]` → `+PONG`, or the message as a bulk string. */
function ping(session: Session, args: CommandArgs): void {
  if (args.length > 1) session.reply(writeValue, args[1] as string)
  else session.reply(writeSimple, 'PONG')
}

/** `BURROW.STATS` → `node.stats()` as a JSON bulk string. */
function stats(session: Session): void {
  session.reply(writeValue, JSON.stringify(session.stats()))
}

/** `COMMAND`, `CONFIG` → an empty array, which is all redis-cli and redis-benchmark need. */
function empty(session: Session): void {
  session.reply(writeEmptyArray, undefined)
}

const writeEmptyArray: Write<undefined> = (writer) => {
  writer.arrayHeader(0)
}

/** The admin commands of the table. */
export const adminCommands: readonly Command[] = [
  { name: 'PING', binaryFrom: Number.POSITIVE_INFINITY, run: ping },
  { name: 'BURROW.STATS', binaryFrom: Number.POSITIVE_INFINITY, run: stats },
  { name: 'QUIT', binaryFrom: Number.POSITIVE_INFINITY, run: (session) => session.quit() },
  { name: 'COMMAND', binaryFrom: Number.POSITIVE_INFINITY, run: empty },
  { name: 'CONFIG', binaryFrom: Number.POSITIVE_INFINITY, run: empty },
]
