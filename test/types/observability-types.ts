/**
 * Type tests of the observability surface: compiled by `npm run typecheck`, never run. Each
 * `@ts-expect-error` must be an error, or the compile fails; the other lines must compile.
 */
import { subscribe } from 'node:diagnostics_channel'
import { Registry } from 'prom-client'
import { Burrow, type DiagnosticsMessages, diagnosticsChannels, type Logger } from '../../src/index.ts'
import { registerBurrowMetrics } from '../../src/prometheus.ts'

// `console` and pino-shaped objects are loggers.
new Burrow({ logger: console })
const pinoLike = {
  level: 'info',
  debug: (_obj: object, _msg?: string, ..._args: unknown[]) => {},
  info: (_obj: object, _msg?: string, ..._args: unknown[]) => {},
  warn: (_obj: object, _msg?: string, ..._args: unknown[]) => {},
  error: (_obj: object, _msg?: string, ..._args: unknown[]) => {},
  child: () => pinoLike,
}
export const logger: Logger = pinoLike
// @ts-expect-error a logger needs all four levels
new Burrow({ logger: { debug() {}, info() {}, warn() {} } })

// A message type per channel name.
subscribe(diagnosticsChannels.loadEnd, (message) => {
  const m = message as DiagnosticsMessages['burrow:load.end']
  const ms: number | undefined = m.durationMs
  const self: string = m.node.self
  return [ms, self, m.found satisfies boolean]
})
// @ts-expect-error no such channel
export type Nothing = DiagnosticsMessages['burrow:nothing']

// The prom-client subpath takes a node and a registry.
export const unregister: () => void = registerBurrowMetrics(new Burrow(), { registry: new Registry() })
// @ts-expect-error the registry is required
registerBurrowMetrics(new Burrow(), {})
