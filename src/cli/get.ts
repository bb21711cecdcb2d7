/**
 * `burrow get --node URL NAMESPACE KEY`: a key's value, read through a node (`BURROW.GET`).
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { RespError } from '../transport/resp/reader.ts'
import { CliError, ExitCodes } from './cli-error.ts'
import { CLIENT_HELP, parseClientArgs } from './client-flags.ts'
import type { CliCommand } from './command.ts'
import { ask } from './node-client.ts'
import { nodeAnswered } from './replies.ts'

const HELP = `Usage: burrow get --node URL [options] NAMESPACE KEY

Prints the value of KEY in NAMESPACE, read through the node as ns.get does: from its
caches, from the key's owner, or from the loader. The value's bytes go to stdout as they
are; a newline is added only when stdout is a terminal.

${CLIENT_HELP}
  -h, --help               this text

Exit codes: 0 printed; 1 not found; 2 usage error; 3 the node could not be asked;
4 the node answered an error (no such namespace, the loader or origin failed, ...).

Example:
  burrow get --node http://127.0.0.1:5001 items 42`

/** The `get` subcommand. */
export const getCommand: CliCommand = {
  name: 'get',
  summary: 'print the value of a key, read through a node',
  help: HELP,
  run: async (argv) => {
    const { call, positionals } = parseClientArgs('get', argv, {}, 2)
    if (call === undefined) {
      process.stdout.write(`${HELP}\n`)
      return ExitCodes.OK
    }
    const [namespace, key] = positionals as [string, string]
    const reply = await ask(call, ['BURROW.GET', namespace, key])
    if (reply === null) {
      process.stderr.write(`burrow get: not found: key ${JSON.stringify(key)} in namespace ${namespace}\n`)
      return ExitCodes.NOT_FOUND
    }
    if (reply instanceof RespError) throw nodeAnswered(call.node, reply, namespace)
    if (!Buffer.isBuffer(reply)) {
      throw new CliError(ExitCodes.UNREACHABLE, `the node at ${call.node} answered BURROW.GET with no value`)
    }
    process.stdout.write(reply)
    if (process.stdout.isTTY && reply.at(-1) !== 0x0a) process.stdout.write('\n')
    return ExitCodes.OK
  },
}
