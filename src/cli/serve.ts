/**
 * `burrow serve`: a standalone node whose namespaces load from HTTP origins. It prints one line
 * once it listens, logs origin failures (a few per second at most), and on SIGINT or SIGTERM
 * leaves the cluster gracefully (`node.close()`); a second signal stops it at once.
 *
 * @module
 */
import { constants } from 'node:os'
import { parseArgs } from 'node:util'
import { Burrow, type BurrowOptions } from '../burrow.ts'
import { BurrowError } from '../errors.ts'
import { CliError, ExitCodes, usageError } from './cli-error.ts'
import type { CliCommand } from './command.ts'
import { DEFAULT_SECRET_ENV, duration, fileFlag, nodeUrl, parseFlags, secretsFromEnv, size } from './flags.ts'
import { originLoader, templateProblem } from './origin-loader.ts'

const DEFAULTS = {
  kind: 'string',
  policy: 'tinylfu',
  storage: 'heap',
  maxBytes: '64MiB',
  ttl: '0',
  notFoundTtl: '0',
  staleTtl: '0',
  originTimeout: '5s',
  originMaxBytes: '8MiB',
  ring: 'groupcache',
  peerTimeout: '3s',
  closeTimeout: '5s',
  busyPollMicros: '0',
} as const

/** The longest `--busy-poll-micros` (as the node's `busyPollMicros`). */
const MAX_BUSY_POLL_MICROS = 10_000

/** The longest graceful close `node.close()` takes. */
const MAX_CLOSE_TIMEOUT_MS = 600_000

const OPTIONS = {
  self: { type: 'string' },
  peers: { type: 'string', multiple: true },
  'listen-host': { type: 'string' },
  namespace: { type: 'string', multiple: true },
  origin: { type: 'string', multiple: true },
  kind: { type: 'string', default: DEFAULTS.kind },
  'max-bytes': { type: 'string', default: DEFAULTS.maxBytes },
  policy: { type: 'string', default: DEFAULTS.policy },
  storage: { type: 'string', default: DEFAULTS.storage },
  ttl: { type: 'string', default: DEFAULTS.ttl },
  'not-found-ttl': { type: 'string', default: DEFAULTS.notFoundTtl },
  'stale-ttl': { type: 'string', default: DEFAULTS.staleTtl },
  'origin-timeout': { type: 'string', default: DEFAULTS.originTimeout },
  'origin-max-bytes': { type: 'string', default: DEFAULTS.originMaxBytes },
  ring: { type: 'string', default: DEFAULTS.ring },
  'peer-timeout': { type: 'string', default: DEFAULTS.peerTimeout },
  'close-timeout': { type: 'string', default: DEFAULTS.closeTimeout },
  'busy-poll-micros': { type: 'string', default: DEFAULTS.busyPollMicros },
  'auth-secret-env': { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-request-cert': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const HELP = `Usage: burrow serve --namespace NAME --origin URL-TEMPLATE [options]

Runs a node whose loader fetches each key from an HTTP origin: {key} in the template is
replaced by the key, percent-encoded ({namespace} by the namespace). A 2xx answer is the
value; 404 is "not found"; any other status, a redirect (never followed), a timeout or a
body over --origin-max-bytes fails the load (nothing is cached; the next get tries again).
Prints one line once listening. SIGINT or SIGTERM leaves the cluster and closes
gracefully; a second signal stops at once.

Cluster:
  --self URL               this node's id and address: http://host:port, https:// with TLS
                           [default: http://127.0.0.1:0, port 0 picks a free one]
  --peers URL,URL,...      every node of the cluster, self included (repeatable) [default: self]
  --listen-host HOST       the address to bind instead of --self's host (e.g. 0.0.0.0)
  --ring NAME              groupcache or maglev; the same on every node [default: ${DEFAULTS.ring}]
  --peer-timeout DURATION  deadline of one request to a peer [default: ${DEFAULTS.peerTimeout}]
  --close-timeout DURATION how long a graceful close may take [default: ${DEFAULTS.closeTimeout}]
  --busy-poll-micros N     keep polling the sockets N µs after traffic instead of sleeping: more
                           throughput under steady peer traffic, for CPU [default: 0, off]

Namespaces and origins:
  --namespace NAME         a namespace to serve (repeatable) [required]
  --origin URL-TEMPLATE    its origin, e.g. 'http://api.internal/items/{key}'; one for
                           every namespace, or one per --namespace, in the same order [required]
  --kind string|bytes      values are UTF-8 text or raw bytes [default: ${DEFAULTS.kind}]
  --max-bytes SIZE         each namespace's cache budget [default: ${DEFAULTS.maxBytes}]
  --policy tinylfu|lru     which entries stay when the budget is full [default: ${DEFAULTS.policy}]
  --storage heap|offheap   keep entries on the JS heap, or as bytes off it [default: ${DEFAULTS.storage}]
  --ttl DURATION           how long a value stays fresh; 0 forever [default: ${DEFAULTS.ttl}]
  --not-found-ttl DURATION how long a 404 is remembered; 0 not at all [default: ${DEFAULTS.notFoundTtl}]
  --stale-ttl DURATION     how long past --ttl a value is served while one refresh runs [default: ${DEFAULTS.staleTtl}]
  --origin-timeout DURATION deadline of one origin fetch, body included [default: ${DEFAULTS.originTimeout}]
  --origin-max-bytes SIZE  the largest origin body taken [default: ${DEFAULTS.originMaxBytes}]

Security:
  --auth-secret-env NAME   the environment variable holding the shared secret (repeatable
                           during a rotation: the first is presented to peers)
                           [default: ${DEFAULT_SECRET_ENV}, if set; secrets are never flags]
  --tls-cert FILE          PEM certificate: the port speaks TLS only (--self is https://)
  --tls-key FILE           PEM private key of --tls-cert
  --tls-ca FILE            PEM CA that peers' certificates are verified against
  --tls-request-cert       mutual TLS: refuse connections without a certificate --tls-ca signed

  -h, --help               this text

Durations: 500ms, 5s, 10m, 1h (a bare number is ms). Sizes: 512KiB, 64MiB, 1GB (bare: bytes).
Exit codes: 0 closed after a signal; 2 usage error; 5 could not start (port taken, options
refused); 130/143 a second SIGINT/SIGTERM stopped it at once.

Example:
  burrow serve --self http://10.0.0.1:5001 --peers http://10.0.0.1:5001,http://10.0.0.2:5001 \\
    --namespace items --origin 'http://api.internal/items/{key}' --ttl 1m --not-found-ttl 10s`

/** The `serve` subcommand. */
export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run a node whose loader fetches from an HTTP origin',
  help: HELP,
  run: async (argv) => {
    const { values } = parseFlags('serve', Object.keys(OPTIONS), () =>
      parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }),
    )
    if (values.help === true) {
      process.stdout.write(`${HELP}\n`)
      return ExitCodes.OK
    }
    const config = readConfig(values)
    let node: Burrow
    try {
      node = new Burrow(config.node)
      for (const [name, template] of config.namespaces) {
        node.namespace(name, {
          ...config.namespace,
          load: originLoader({ ...config.origin, template, onError: logOriginError(name) }),
        })
      }
    } catch (err) {
      if (err instanceof BurrowError) throw usageError('serve', err.message.replace(/^option /, ''))
      throw err
    }
    // Signals are handled from here on: whoever reads the listening line may signal at once.
    const stop = closeOnSignal(node, config.closeTimeoutMs)
    try {
      await node.listen(config.listenHost === undefined ? {} : { host: config.listenHost })
    } catch (err) {
      if (stop.signalled()) return stop.exited
      await node.close({ timeoutMs: 0 })
      throw new CliError(ExitCodes.CANNOT_SERVE, (err as Error).message, { cause: err })
    }
    const names = config.namespaces.map(([name]) => name).join(' ')
    process.stdout.write(
      `burrow listening on ${node.self} (peers ${node.peers.join(' ')}; namespaces ${names}${config.node.auth ? '; auth on' : ''})\n`,
    )
    return stop.exited
  },
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']

/** The node's options and the rest, read from the flags; a usage error for anything wrong. */
function readConfig(values: Values) {
  const namespaces = values.namespace ?? []
  const origins = values.origin ?? []
  if (namespaces.length === 0)
    throw usageError('serve', '--namespace NAME is required (the namespace to serve)')
  if (origins.length === 0) {
    throw usageError(
      'serve',
      "--origin URL-TEMPLATE is required, e.g. --origin 'http://api.internal/items/{key}'",
    )
  }
  if (origins.length !== 1 && origins.length !== namespaces.length) {
    throw usageError(
      'serve',
      `give one --origin for every namespace, or one per --namespace: ${namespaces.length} namespaces, ${origins.length} origins`,
    )
  }
  for (const origin of origins) {
    const problem = templateProblem(origin)
    if (problem !== undefined) throw usageError('serve', `--origin ${JSON.stringify(origin)}: ${problem}`)
  }
  if (values.kind !== 'string' && values.kind !== 'bytes') {
    throw usageError('serve', `--kind must be string or bytes, received ${JSON.stringify(values.kind)}`)
  }
  if (values.policy !== 'tinylfu' && values.policy !== 'lru') {
    throw usageError('serve', `--policy must be tinylfu or lru, received ${JSON.stringify(values.policy)}`)
  }
  if (values.storage !== 'heap' && values.storage !== 'offheap') {
    throw usageError('serve', `--storage must be heap or offheap, received ${JSON.stringify(values.storage)}`)
  }
  if (values.ring !== 'groupcache' && values.ring !== 'maglev') {
    throw usageError('serve', `--ring must be groupcache or maglev, received ${JSON.stringify(values.ring)}`)
  }
  const tls = readTls(values)
  const self = nodeUrl('serve', '--self', values.self ?? (tls ? 'https://127.0.0.1:0' : 'http://127.0.0.1:0'))
  if ((tls !== undefined) !== self.startsWith('https://')) {
    throw usageError(
      'serve',
      tls
        ? `--self must be an https:// URL with --tls-cert, received ${self}`
        : `--self ${self} needs --tls-cert and --tls-key`,
    )
  }
  const peers = (values.peers ?? []).flatMap((list) => list.split(',')).filter((peer) => peer.trim() !== '')
  const secrets = secretsFromEnv('serve', values['auth-secret-env'], process.env)
  const node: BurrowOptions = {
    self,
    peers: peers.length === 0 ? [self] : peers.map((peer) => nodeUrl('serve', '--peers', peer.trim())),
    ring: values.ring,
    peerTimeoutMs: duration('serve', '--peer-timeout', values['peer-timeout'], { min: 1 }),
    busyPollMicros: busyPollMicros(values['busy-poll-micros']),
    ...(secrets && { auth: { secret: secrets } }),
    ...(tls && { tls }),
  }
  return {
    node,
    listenHost: values['listen-host'],
    namespaces: namespaces.map(
      (name, i) => [name, (origins.length === 1 ? origins[0] : origins[i]) as string] as const,
    ),
    namespace: {
      maxBytes: size('serve', '--max-bytes', values['max-bytes']),
      policy: values.policy as 'tinylfu' | 'lru',
      storage: values.storage as 'heap' | 'offheap',
      ttl: duration('serve', '--ttl', values.ttl),
      notFoundTtl: duration('serve', '--not-found-ttl', values['not-found-ttl']),
      staleTtl: duration('serve', '--stale-ttl', values['stale-ttl']),
    },
    origin: {
      timeoutMs: duration('serve', '--origin-timeout', values['origin-timeout'], { min: 1 }),
      maxBodyBytes: size('serve', '--origin-max-bytes', values['origin-max-bytes']),
      kind: values.kind as 'string' | 'bytes',
    },
    closeTimeoutMs: duration('serve', '--close-timeout', values['close-timeout'], {
      max: MAX_CLOSE_TIMEOUT_MS,
    }),
  }
}

/** `--busy-poll-micros`: a whole number of microseconds, 0 (off) to 10,000. */
function busyPollMicros(text: string): number {
  const micros = /^[0-9]{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!(micros <= MAX_BUSY_POLL_MICROS)) {
    throw usageError(
      'serve',
      `--busy-poll-micros must be a whole number of microseconds from 0 to ${MAX_BUSY_POLL_MICROS}, received ${JSON.stringify(text)}`,
    )
  }
  return micros
}

/** The node's `tls` option from the TLS flags, or `undefined` without `--tls-cert`. */
function readTls(values: Values): BurrowOptions['tls'] {
  const cert = values['tls-cert']
  const key = values['tls-key']
  if ((cert === undefined) !== (key === undefined)) {
    throw usageError('serve', '--tls-cert and --tls-key go together (this node serves TLS with them)')
  }
  if (cert === undefined || key === undefined) {
    const stray =
      values['tls-ca'] !== undefined
        ? '--tls-ca'
        : values['tls-request-cert']
          ? '--tls-request-cert'
          : undefined
    if (stray !== undefined) throw usageError('serve', `${stray} needs --tls-cert and --tls-key`)
    return undefined
  }
  const ca = values['tls-ca']
  if (values['tls-request-cert'] && ca === undefined) {
    throw usageError(
      'serve',
      '--tls-request-cert needs --tls-ca (the CA that client certificates must be signed by)',
    )
  }
  return {
    cert: fileFlag('serve', '--tls-cert', cert),
    key: fileFlag('serve', '--tls-key', key),
    ...(ca === undefined ? {} : { ca: fileFlag('serve', '--tls-ca', ca) }),
    ...(values['tls-request-cert'] ? { requestCert: true, rejectUnauthorized: true } : {}),
  }
}

/** The most origin failures logged per second; the rest are counted in the next line. */
const LOGGED_PER_SECOND = 5

/** Logs origin failures to stderr, at most {@link LOGGED_PER_SECOND} lines a second. */
function logOriginError(namespace: string): (key: string, err: Error) => void {
  let windowStart = 0
  let logged = 0
  let skipped = 0
  return (key, err) => {
    const now = Date.now()
    if (now - windowStart >= 1000) {
      if (skipped > 0)
        process.stderr.write(`burrow serve: ${namespace}: ${skipped} more origin failures not shown\n`)
      windowStart = now
      logged = 0
      skipped = 0
    }
    if (logged++ < LOGGED_PER_SECOND) {
      process.stderr.write(`burrow serve: ${namespace} ${JSON.stringify(key)}: ${err.message}\n`)
    } else {
      skipped++
    }
  }
}

/**
 * From now on, SIGINT or SIGTERM closes the node gracefully and exits 0; a second signal exits at
 * once with 128 + its number, as a shell reports a process that a signal ended. `exited` never
 * resolves: the process ends in the handler.
 */
function closeOnSignal(
  node: Burrow,
  closeTimeoutMs: number,
): { exited: Promise<never>; signalled: () => boolean } {
  let closing = false
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (closing) {
      process.stderr.write(`burrow serve: ${signal} again: stopping at once\n`)
      process.exit(128 + constants.signals[signal])
    }
    closing = true
    process.stderr.write(
      `burrow serve: ${signal}: leaving the cluster and closing (${signal} again stops at once)\n`,
    )
    node.close({ timeoutMs: closeTimeoutMs }).then(
      () => {
        process.stderr.write('burrow serve: closed\n')
        process.exit(ExitCodes.OK)
      },
      (err: Error) => {
        process.stderr.write(`burrow serve: close failed: ${err.message}\n`)
        process.exit(ExitCodes.CANNOT_SERVE)
      },
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return { exited: new Promise<never>(() => {}), signalled: () => closing }
}
