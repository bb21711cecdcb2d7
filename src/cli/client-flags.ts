/**
 * The flags `get`, `stats` and `ring` share: which node, the deadline, the secret, TLS.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { usageError } from './cli-error.ts'
import { clientTls, DEFAULT_SECRET_ENV, duration, nodeUrl, parseFlags, secretsFromEnv } from './flags.ts'
import type { NodeCall } from './node-client.ts'

/** The default of `--timeout`. */
export const DEFAULT_CALL_TIMEOUT = '5s'

/** `parseArgs` options of the shared flags. */
export const CLIENT_OPTIONS = {
  node: { type: 'string' },
  timeout: { type: 'string', default: DEFAULT_CALL_TIMEOUT },
  'auth-secret-env': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Help lines for the shared flags. */
export const CLIENT_HELP = `Connection:
  --node URL               the node to ask: http://host:port, or https://host:port (TLS) [required]
  --timeout DURATION       deadline of the whole call, connecting included [default: ${DEFAULT_CALL_TIMEOUT}]
  --auth-secret-env NAME   the environment variable holding the node's secret [default: ${DEFAULT_SECRET_ENV}, if set]
  --tls-ca FILE            PEM CA to verify an https:// node with [default: the system's CAs]
  --tls-cert FILE          PEM certificate to present (mutual TLS), with --tls-key
  --tls-key FILE           PEM private key of --tls-cert`

/**
 * Parses `argv` of `command` with the shared flags and `extra` ones: the values, the positionals,
 * and (unless `--help` was asked) the {@link NodeCall} they describe.
 */
export function parseClientArgs<E extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(
  command: string,
  argv: string[],
  extra: E,
  positionals: number,
) {
  const options = { ...CLIENT_OPTIONS, ...extra }
  const parsed = parseFlags(command, Object.keys(options), () =>
    parseArgs({ args: argv, options, strict: true, allowPositionals: positionals > 0 }),
  )
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
  if (values.help === true) return { values, positionals: parsed.positionals, call: undefined }
  if (parsed.positionals.length !== positionals) {
    throw usageError(
      command,
      `expected ${positionals} argument${positionals === 1 ? '' : 's'}, received ${parsed.positionals.length}`,
    )
  }
  const node = values.node
  if (typeof node !== 'string') throw usageError(command, '--node URL is required (the node to ask)')
  const url = nodeUrl(command, '--node', node)
  const tlsFlag = ['tls-ca', 'tls-cert', 'tls-key'].find((flag) => values[flag] !== undefined)
  if (tlsFlag !== undefined && !url.startsWith('https://')) {
    throw usageError(command, `--${tlsFlag} is for an https:// node; --node is ${url}`)
  }
  const envName = values['auth-secret-env'] as string | undefined
  const call: NodeCall = {
    node: url,
    timeoutMs: duration(command, '--timeout', values.timeout as string, { min: 1 }),
    secret: secretsFromEnv(command, envName === undefined ? undefined : [envName], process.env)?.[0],
    secretSource: `$${envName ?? DEFAULT_SECRET_ENV}`,
    tls: clientTls(command, values as Record<string, string | undefined>),
  }
  return { values, positionals: parsed.positionals, call }
}
