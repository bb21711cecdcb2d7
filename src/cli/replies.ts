/**
 * A node's error reply, as the failure a person reads.
 *
 * @module
 */
import type { RespError } from '../transport/resp/reader.ts'
import { CliError, ExitCodes } from './cli-error.ts'

/** The {@link CliError} (exit code 4) for an error the node at `node` answered. */
export function nodeAnswered(node: string, reply: RespError, namespace?: string): CliError {
  if (reply.message.startsWith('BURROW_ERR_UNKNOWN_NAMESPACE') && namespace !== undefined) {
    return new CliError(
      ExitCodes.NODE_ERROR,
      `the node at ${node} has no namespace ${JSON.stringify(namespace)}`,
    )
  }
  // A loader's error stays on the node (its log says why: `burrow serve` logs origin failures).
  const hint = reply.message.startsWith('BURROW_ERR_LOADER') ? " (the node's log says why)" : ''
  return new CliError(ExitCodes.NODE_ERROR, `the node at ${node} answered: ${reply.message}${hint}`)
}
