/**
 * The `logger` option: a subscriber of the diagnostics channels that writes one record per event
 * of its node to a pino-shaped logger. No logger, no subscription: a node without one publishes
 * nothing unless something else subscribes.
 *
 * Records never hold values or secrets; keys appear only in debug records.
 *
 * @module
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  type DiagnosticsChannelName,
  type DiagnosticsMessages,
  diagnosticsChannels,
  type PublishingNode,
} from './diagnostics.ts'
import { BurrowError } from './errors.ts'
import { functionOption, objectOption } from './options.ts'

/**
 * What the `logger` option takes: an object with `debug`, `info`, `warn` and `error` methods,
 * each called as `(fields, message)` — pino's and bunyan's shape (`console` works too). Methods
 * are called on the logger, so a pino child logger keeps its bindings.
 *
 * @example
 * import pino from 'pino'
 * new Burrow({ self, peers, logger: pino({ level: 'info' }) })
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

type Level = keyof Logger
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error']

/** One record: its level, its fields (the node and event are added), its message. */
type Entry = [level: Level, fields: Record<string, unknown>, message: string]

/** How each channel's message becomes a record. */
const RECORDS: { [N in DiagnosticsChannelName]: (m: DiagnosticsMessages[N]) => Entry } = {
  'burrow:load.start': (m) => ['debug', { namespace: m.namespace, key: m.key }, 'load started'],
  'burrow:load.end': (m) => [
    'debug',
    { namespace: m.namespace, key: m.key, durationMs: ms(m.durationMs), found: m.found },
    'load finished',
  ],
  'burrow:load.error': (m) => [
    'warn',
    { namespace: m.namespace, code: codeOf(m.error), cause: causeOf(m.error), durationMs: ms(m.durationMs) },
    'load failed',
  ],
  'burrow:peer.fetch.start': (m) => [
    'debug',
    { peer: m.peer, namespace: m.namespace, key: m.key },
    'fetch from owner started',
  ],
  'burrow:peer.fetch.end': (m) => [
    'debug',
    { peer: m.peer, namespace: m.namespace, key: m.key, durationMs: ms(m.durationMs), found: m.found },
    'fetch from owner finished',
  ],
  'burrow:peer.fetch.error': (m) => [
    fetchErrorLevel(codeOf(m.error)),
    { peer: m.peer, namespace: m.namespace, code: codeOf(m.error), durationMs: ms(m.durationMs) },
    'fetch from owner failed',
  ],
  'burrow:fallback': (m) => [
    'warn',
    { peer: m.peer, namespace: m.namespace, code: codeOf(m.error) },
    'owner could not answer; loading here instead',
  ],
  'burrow:evict': (m) => ['debug', { namespace: m.namespace, cache: m.cache, key: m.key }, 'evicted'],
  'burrow:ring': (m) => ['info', { peers: m.peers, added: m.added, removed: m.removed }, 'ring changed'],
  'burrow:peer.down': (m) => [
    m.reason === 'left' ? 'info' : 'warn',
    { peer: m.peer, reason: m.reason },
    m.reason === 'left' ? 'peer left' : 'peer down: it stopped answering probes',
  ],
  'burrow:peer.up': (m) => ['info', { peer: m.peer }, 'peer back up'],
  'burrow:purge.sent': (m) => [
    'debug',
    {
      peer: m.peer,
      namespace: m.namespace,
      key: m.key,
      code: m.error === undefined ? undefined : codeOf(m.error),
    },
    'purge sent',
  ],
  'burrow:purge.owed': (m) => [
    'warn',
    { peer: m.peer, namespace: m.namespace },
    'peer missed a purge; owed until it answers',
  ],
  'burrow:purge.delivered': (m) => [
    'info',
    { peer: m.peer, purges: m.purges, flushes: m.flushes, failed: m.failed },
    'owed purges delivered',
  ],
  'burrow:server.limit': (m) => [
    'warn',
    { limit: m.limit, remoteAddress: m.remoteAddress },
    'connection cut off at a limit',
  ],
  'burrow:overload': (m) => [
    'warn',
    { running: m.running, queued: m.queued },
    'load refused: the node is overloaded',
  ],
  'burrow:peer-source.error': (m) => [
    'warn',
    { source: m.source, code: codeOf(m.error), cause: causeOf(m.error) },
    'peer source failed; keeping the last peers',
  ],
}

/** The `logger` option, checked: every level a function. */
export function loggerOption(value: unknown): Logger | undefined {
  if (value === undefined) return undefined
  const logger = objectOption<Logger>('logger', value)
  for (const level of LEVELS) functionOption(`logger.${level}`, logger[level])
  return logger as Logger
}

/**
 * Subscribes `logger` to every channel, for the messages that `node` publishes; returns what
 * unsubscribes it. A logger that throws is ignored (a subscriber's throw would crash the process).
 */
export function subscribeLogger(node: PublishingNode, logger: Logger): () => void {
  const subscriptions: [string, (message: unknown) => void][] = []
  for (const name of Object.values(diagnosticsChannels)) {
    const record = RECORDS[name] as (m: unknown) => Entry
    const onMessage = (message: unknown): void => {
      if ((message as { node: unknown }).node !== node) return
      const [level, fields, text] = record(message)
      try {
        logger[level]({ node: node.self, event: name.slice('burrow:'.length), ...fields }, text)
      } catch {
        // The logger's own failure has nowhere to go.
      }
    }
    subscribe(name, onMessage)
    subscriptions.push([name, onMessage])
  }
  return () => {
    for (const [name, onMessage] of subscriptions) unsubscribe(name, onMessage)
  }
}

/** An error's stable code: a BurrowError's `code`, else its name. */
function codeOf(error: unknown): string {
  if (error instanceof BurrowError) return error.code
  return error instanceof Error ? error.name : typeof error
}

/** What caused a BurrowError, as a code or a class name (never its message: it may hold keys). */
function causeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause
  if (cause === undefined || cause === null) return undefined
  const code = (cause as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') return String(code)
  return cause instanceof Error ? cause.name : typeof cause
}

/** How loud a failed fetch is: a refused secret is an error, an owner unreachable a warning. */
function fetchErrorLevel(code: string): Level {
  if (code === 'BURROW_ERR_AUTH') return 'error'
  // The node is closing: its own fetches were stopped.
  if (code === 'BURROW_ERR_CLOSED') return 'debug'
  if (
    code === 'BURROW_ERR_PEER_TIMEOUT' ||
    code === 'BURROW_ERR_PEER_UNAVAILABLE' ||
    code === 'BURROW_ERR_PROTOCOL' ||
    code === 'BURROW_ERR_FRAME_TOO_LARGE' ||
    code === 'BURROW_ERR_UNKNOWN_NAMESPACE'
  )
    return 'warn'
  // The owner answered with its own failure (its loader's, a ring that differs for now).
  return 'info'
}

/** A duration rounded to microseconds. */
function ms(durationMs: number | undefined): number | undefined {
  return durationMs === undefined ? undefined : Math.round(durationMs * 1000) / 1000
}
