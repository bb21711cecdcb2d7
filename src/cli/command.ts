/**
 * What a `burrow` subcommand is: its name, one line for the overview, its help, and what it runs.
 *
 * @module
 */
import type { ExitCode } from './cli-error.ts'

/** A subcommand of `burrow`. */
export interface CliCommand {
  /** The word after `burrow`. */
  name: string
  /** One line for `burrow --help`. */
  summary: string
  /** The text of `burrow <name> --help`. */
  help: string
  /**
   * Runs with the arguments after the name. Resolves the exit code; throws a `CliError` for a
   * failure to report (or anything else for a bug, reported as such).
   */
  run: (argv: string[]) => Promise<ExitCode>
}
