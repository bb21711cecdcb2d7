/**
 * How the `burrow` command ends: its exit codes, and the error that carries one up to `main`.
 *
 * @module
 */

/**
 * The exit codes of `burrow`, documented in docs/cli.md. A script can tell "no such key" (1) from
 * "you called it wrong" (2) from "the node could not be asked" (3) from "the node said no" (4).
 */
export const ExitCodes = {
  /** Done. */
  OK: 0,
  /** `get`: the key was not found (the origin or loader answered not-found). */
  NOT_FOUND: 1,
  /** A usage error: unknown flag, missing or malformed argument, unreadable file. */
  USAGE: 2,
  /** The node could not be asked: refused, unresolvable, timed out, TLS or auth failed, not burrow. */
  UNREACHABLE: 3,
  /** The node answered with an error: no such namespace, the loader failed, overloaded, bad key. */
  NODE_ERROR: 4,
  /** `serve` could not start: the port is taken, or the node refused its options. */
  CANNOT_SERVE: 5,
} as const

/** One of {@link ExitCodes}. */
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes]

/**
 * A failure the command reports as one line on stderr (`burrow <command>: <message>`) before it
 * exits with `exitCode`. The message says what went wrong and, where it can, what to do.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A usage error (exit code 2): `message`, and where to read how the command is called. */
export function usageError(command: string, message: string): CliError {
  const help = command === '' ? 'burrow --help' : `burrow ${command} --help`
  return new CliError(ExitCodes.USAGE, `${message} (see ${help})`)
}
