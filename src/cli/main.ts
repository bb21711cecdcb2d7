#!/usr/bin/env node
/**
 * The `burrow` command (the package's `bin`): `serve`, `get`, `stats`, `ring`. Every flag is in
 * docs/cli.md; `burrow <command> --help` prints it too.
 *
 * @module
 */
import { VERSION } from '../version.ts'
import { CliError, ExitCodes, usageError } from './cli-error.ts'
import type { CliCommand } from './command.ts'
import { getCommand } from './get.ts'
import { ringCommand } from './ring.ts'
import { serveCommand } from './serve.ts'
import { statsCommand } from './stats.ts'

const COMMANDS: readonly CliCommand[] = [serveCommand, getCommand, statsCommand, ringCommand]

const HELP = `Usage: burrow <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(7)}${c.summary}`).join('\n')}

Options:
  -h, --help     this text; burrow <command> --help for a command's
  -v, --version  burrow's version

Exit codes: 0 ok; 1 not found (get); 2 usage error; 3 the node could not be asked;
4 the node answered an error; 5 serve could not start. See docs/cli.md.

Examples:
  burrow serve --self http://127.0.0.1:5001 --namespace items --origin 'http://127.0.0.1:8080/items/{key}'
  burrow get --node http://127.0.0.1:5001 items 42
  burrow stats --node http://127.0.0.1:5001
  burrow ring --node http://127.0.0.1:5001 --key 42`

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const command = first === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined
    process.stdout.write(`${command?.help ?? HELP}\n`)
    return ExitCodes.OK
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${VERSION}\n`)
    return ExitCodes.OK
  }
  const command = COMMANDS.find((c) => c.name === first)
  if (command === undefined) {
    const known = COMMANDS.map((c) => c.name).join(', ')
    throw prefixed(usageError('', `unknown command ${JSON.stringify(first)}; the commands are ${known}`))
  }
  try {
    return await command.run(rest)
  } catch (err) {
    if (err instanceof CliError) throw new CliError(err.exitCode, `burrow ${command.name}: ${err.message}`)
    throw err
  }
}

function prefixed(err: CliError): CliError {
  return new CliError(err.exitCode, `burrow: ${err.message}`)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`)
      process.exitCode = err.exitCode
    } else {
      // Not a failure the command foresaw: a bug. Its stack helps the report.
      process.stderr.write(
        `burrow: unexpected error (a bug; please report it): ${(err as Error)?.stack ?? String(err)}\n`,
      )
      process.exitCode = 70
    }
  },
)
