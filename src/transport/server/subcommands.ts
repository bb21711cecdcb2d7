/**
 * Commands made of subcommands (`CLIENT SETNAME`, `CONFIG GET`, `COMMAND COUNT`, …): one table per
 * command, its `HELP`, and one wording for a missing or unknown subcommand and for a wrong number
 * of arguments.
 *
 * @module
 */
import type { CommandArgs } from '../resp/command-reader.ts'
import type { Session, Write } from './command.ts'
import { writeError } from './replies.ts'

/** One subcommand of a command's table. */
export interface Subcommand {
  /** How to call it, its name first (`SETNAME name`): what `HELP` lists and a usage error quotes. */
  readonly usage: string
  /** The fewest and the most arguments it takes after its name. */
  readonly args: readonly [min: number, max: number]
  /** Runs it; `args[0]` is the command's name, `args[1]` the subcommand's, both as sent. */
  run(session: Session, args: CommandArgs): void
}

/** An array of simple strings, one line each: what `HELP` answers. */
const writeLines: Write<readonly string[]> = (writer, lines) => {
  writer.arrayHeader(lines.length)
  for (const line of lines) writer.simple(line)
}

/**
 * The `run` of command `name` made of `subcommands` (keyed by upper-case name; a client may send
 * any case). `name HELP` lists them.
 *
 * @example
 * const run = withSubcommands('CLIENT', { ID: { usage: 'ID', args: [0, 0], run: clientId } })
 */
export function withSubcommands(
  name: string,
  subcommands: Readonly<Record<string, Subcommand>>,
): (session: Session, args: CommandArgs) => void {
  const table = new Map(Object.entries(subcommands))
  const help = [...[...table.values()].map((sub) => `${name} ${sub.usage}`), `${name} HELP`]
  const hint = `(${name} HELP lists them)`
  return (session, args) => {
    if (args.length < 2)
      return session.reply(writeError, `ERR usage: ${name} subcommand [argument ...] ${hint}`)
    const given = args[1] as string
    const upper = given.toUpperCase()
    if (upper === 'HELP') return session.reply(writeLines, help)
    const sub = table.get(upper)
    if (sub === undefined) {
      return session.reply(writeError, `ERR unknown subcommand '${given.slice(0, 64)}' of ${name} ${hint}`)
    }
    const count = args.length - 2
    if (count < sub.args[0] || count > sub.args[1])
      return session.reply(writeError, `ERR usage: ${name} ${sub.usage}`)
    sub.run(session, args)
  }
}
