/**
 * Reading the command line: `node:util` `parseArgs` errors turned into usage errors that name
 * the flag (and the closest known one, for a typo), and the values flags take — durations, sizes,
 * node URLs, files, secrets from the environment.
 *
 * @module
 */
import type { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { BurrowError } from '../errors.ts'
import { canonicalPeerId } from '../membership/peer-id.ts'
import { usageError } from './cli-error.ts'

/** The environment variable a secret is read from when no `--auth-secret-env` names another. */
export const DEFAULT_SECRET_ENV = 'BURROW_SECRET'

/**
 * Runs `parse` (a call of `parseArgs`) and turns what it throws into a usage error of `command`
 * that names the flag at fault; `known` are the command's long flags, for "did you mean".
 */
export function parseFlags<T>(command: string, known: readonly string[], parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const message = (err as Error).message
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message
      const near = closest(flag.replace(/^-+/, '').split('=')[0] as string, known)
      throw usageError(
        command,
        `unknown flag ${flag}${near === undefined ? '' : `; did you mean --${near}?`}`,
      )
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']*)'/.exec(message)?.[1]
      throw usageError(command, `unexpected argument ${JSON.stringify(arg ?? message)}`)
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw usageError(command, firstSentence(message))
    throw err
  }
}

/** The known flag nearest to `flag` (at most 2 edits, or a prefix of it), if any. */
function closest(flag: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const name of known) {
    const d = name.startsWith(flag) && flag.length >= 3 ? 1 : distance(flag, name)
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance: edits (insert, delete, replace) that turn `a` into `b`. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const replace = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      row.push(Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, replace))
    }
    previous = row
  }
  return previous[b.length] as number
}

function firstSentence(message: string): string {
  const end = message.indexOf('. ')
  return (end < 0 ? message : message.slice(0, end)).replace(/\.$/, '')
}

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** The longest duration a flag takes unless it says otherwise: what a timer can wait (about 24.8 days). */
const MAX_DURATION_MS = 2 ** 31 - 1

/**
 * A duration flag in whole milliseconds: `500ms`, `5s`, `1.5m`, `2h`, or a bare number of
 * milliseconds; `0` where the flag allows it.
 *
 * @example
 * duration('serve', '--ttl', '5m') // 300000
 */
export function duration(
  command: string,
  flag: string,
  text: string,
  options: { min?: number; max?: number } = {},
): number {
  const match = DURATION.exec(text.trim())
  const ms =
    match === null ? Number.NaN : Math.round(Number(match[1]) * (DURATION_MS[match[2] ?? 'ms'] as number))
  const min = options.min ?? 0
  const max = options.max ?? MAX_DURATION_MS
  if (!Number.isSafeInteger(ms) || ms < min || ms > max) {
    throw usageError(
      command,
      `${flag} must be a duration like 500ms, 5s, 10m or 1h, from ${min} to ${max} ms, received ${JSON.stringify(text)}`,
    )
  }
  return ms
}

const SIZE = /^([0-9]+(?:\.[0-9]+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
}

/**
 * A size flag in bytes: `64MiB`, `512KiB`, `1GB` (KB, MB, GB are powers of 1000; KiB, MiB, GiB of
 * 1024), or a bare number of bytes.
 *
 * @example
 * size('serve', '--max-bytes', '64MiB') // 67108864
 */
export function size(command: string, flag: string, text: string, options: { min?: number } = {}): number {
  const match = SIZE.exec(text.trim())
  const unit = (match?.[2] ?? 'b').toLowerCase()
  const bytes = match === null ? Number.NaN : Math.floor(Number(match[1]) * (SIZE_BYTES[unit] as number))
  const min = options.min ?? 0
  if (!Number.isSafeInteger(bytes) || bytes < min) {
    throw usageError(
      command,
      `${flag} must be a size like 512KiB, 64MiB or 1GB${min > 0 ? ` (at least ${min} bytes)` : ''}, received ${JSON.stringify(text)}`,
    )
  }
  return bytes
}

/**
 * A node's URL, `http://host:port` (`https://` with TLS), in its canonical spelling; a usage
 * error naming `flag` otherwise.
 */
export function nodeUrl(command: string, flag: string, text: string): string {
  try {
    return canonicalPeerId(flag, text)
  } catch (err) {
    if (err instanceof BurrowError) throw usageError(command, err.message.replace(/^option /, ''))
    throw err
  }
}

/** The bytes of the file a flag names; a usage error naming the flag and the file otherwise. */
export function fileFlag(command: string, flag: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw usageError(command, `${flag}: cannot read ${path}: ${(err as Error).message}`)
  }
}

/**
 * The secrets named by `--auth-secret-env` (each flag a variable; the first is the one presented),
 * or `BURROW_SECRET` when none is given and it is set; `undefined` for none. Secrets never come
 * from the command line itself, where `ps` would show them.
 */
export function secretsFromEnv(
  command: string,
  names: readonly string[] | undefined,
  env: NodeJS.ProcessEnv,
): string[] | undefined {
  if (names === undefined || names.length === 0) {
    const secret = env[DEFAULT_SECRET_ENV]
    return secret === undefined || secret === '' ? undefined : [secret]
  }
  return names.map((name) => {
    const secret = env[name]
    if (secret === undefined || secret === '') {
      throw usageError(
        command,
        `--auth-secret-env ${name}: the environment variable ${name} is not set or empty`,
      )
    }
    return secret
  })
}

/** The TLS files a client presents and verifies with: `--tls-ca`, and `--tls-cert` with `--tls-key`. */
export interface ClientTlsFlags {
  'tls-ca'?: string | undefined
  'tls-cert'?: string | undefined
  'tls-key'?: string | undefined
}

/** The node:tls options of a client's TLS flags; `{}` when none is given (the system's CAs). */
export function clientTls(
  command: string,
  flags: ClientTlsFlags,
): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) {
    throw usageError(command, '--tls-cert and --tls-key go together (a certificate and its key)')
  }
  return {
    ...(flags['tls-ca'] === undefined ? {} : { ca: fileFlag(command, '--tls-ca', flags['tls-ca']) }),
    ...(flags['tls-cert'] === undefined ? {} : { cert: fileFlag(command, '--tls-cert', flags['tls-cert']) }),
    ...(flags['tls-key'] === undefined ? {} : { key: fileFlag(command, '--tls-key', flags['tls-key']) }),
  }
}
