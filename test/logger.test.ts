/**
 * The `logger` option: a subscriber of the diagnostics channels, for its own node only, silent
 * when not given, gone after close(); records at the documented levels, never holding a value or
 * a secret, and keys only at debug.
 */
import { hasSubscribers } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { type BurrowError, diagnosticsChannels, type Logger } from '../src/index.ts'
import { closeAll, node, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

interface LogRecord {
  level: keyof Logger
  fields: Record<string, unknown>
  message: string
}

/** A logger that keeps what it is told, calling each method on itself as pino does. */
function recordingLogger(): Logger & { records: LogRecord[]; at(level: keyof Logger): LogRecord[] } {
  const records: LogRecord[] = []
  const logger = {
    records,
    at: (level: keyof Logger) => records.filter((r) => r.level === level),
    debug(fields: Record<string, unknown>, message: string) {
      this.records.push({ level: 'debug', fields, message })
    },
    info(fields: Record<string, unknown>, message: string) {
      this.records.push({ level: 'info', fields, message })
    },
    warn(fields: Record<string, unknown>, message: string) {
      this.records.push({ level: 'warn', fields, message })
    },
    error(fields: Record<string, unknown>, message: string) {
      this.records.push({ level: 'error', fields, message })
    },
  }
  return logger
}

const anySubscribed = () => Object.values(diagnosticsChannels).some((name) => hasSubscribers(name))

describe('the logger option', () => {
  it('is silent by default: a node without a logger subscribes to no channel', async () => {
    const n = node()
    const ns = n.namespace('test', { load: (key) => key })
    await ns.get('k')
    expect(anySubscribed()).toBe(false)
  })

  it('logs loads at debug with their key and duration, and nothing for a hit', async () => {
    const logger = recordingLogger()
    const n = node({ logger })
    const ns = n.namespace('test', { load: (key) => `value of ${key}` })
    await ns.get('user-42')
    await ns.get('user-42')
    expect(logger.records.map((r) => [r.level, r.fields['event'], r.message])).toEqual([
      ['debug', 'load.start', 'load started'],
      ['debug', 'load.end', 'load finished'],
    ])
    expect(logger.records[1]!.fields).toMatchObject({
      node: n.self,
      event: 'load.end',
      namespace: 'test',
      key: 'user-42',
      found: true,
    })
    expect(logger.records[1]!.fields['durationMs']).toBeGreaterThanOrEqual(0)
  })

  it('logs an unreachable owner and the fallback at warn, without the key, the value or the secret', async () => {
    const secret = 's3cret-shared-by-the-cluster'
    const logger = recordingLogger()
    const { nodes, namespaces } = await cluster(2, {
      node: { liveness: false, auth: { secret } },
      nodeOptions: (i) => (i === 0 ? { logger } : {}),
      namespace: { hot: false },
    })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const key = Array.from({ length: 300 }, (_, i) => `private-key-${i}`).find(
      (k) => a.ownerOf(k) === b.self,
    )!
    const owner = b.self
    await b.close({ timeoutMs: 0 })
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    const warnings = logger.at('warn')
    expect(warnings.map((r) => r.fields['event'])).toEqual(['peer.fetch.error', 'fallback'])
    expect(warnings[0]!.fields).toMatchObject({
      node: a.self,
      peer: owner,
      namespace: 'test',
      code: 'BURROW_ERR_PEER_UNAVAILABLE',
    })
    expect(warnings[1]!.fields).toMatchObject({
      peer: owner,
      namespace: 'test',
      code: 'BURROW_ERR_PEER_UNAVAILABLE',
    })
    for (const record of logger.records) {
      const text = JSON.stringify(record)
      expect(text).not.toContain(secret)
      expect(text).not.toContain('value of')
      if (record.level !== 'debug') expect(text).not.toContain(key)
    }
    // At debug the key is there: that is how a slow get is traced.
    expect(logger.at('debug').some((r) => r.fields['key'] === key)).toBe(true)
  })

  it('logs a failed load at warn with its code and cause class, not its message or key', async () => {
    const logger = recordingLogger()
    const n = node({ logger })
    const ns = n.namespace('test', {
      load: () => {
        throw new TypeError('row for secret-key-9 has password hunter2')
      },
    })
    await expect(ns.get('secret-key-9')).rejects.toMatchObject({ code: 'BURROW_ERR_LOADER' })
    expect(logger.at('warn')).toEqual([
      {
        level: 'warn',
        fields: expect.objectContaining({
          event: 'load.error',
          namespace: 'test',
          code: 'BURROW_ERR_LOADER',
          cause: 'TypeError',
        }),
        message: 'load failed',
      },
    ])
    expect(JSON.stringify(logger.at('warn'))).not.toMatch(/secret-key-9|hunter2/)
  })

  it('logs ring changes at info, a peer that left at info and one found down at warn', async () => {
    const logger = recordingLogger()
    const fast = { intervalMs: 50, timeoutMs: 200 }
    const { nodes } = await cluster(3, {
      node: { liveness: fast },
      nodeOptions: (i) => (i === 0 ? { logger } : {}),
    })
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    const left = b.self
    const gone = c.self
    await b.close()
    await c.close({ timeoutMs: 0 })
    while (a.peers.length > 1) await new Promise((resolve) => a.once('peers', resolve))
    const down = logger.records.filter((r) => r.fields['event'] === 'peer.down')
    expect(down.map((r) => [r.level, r.fields['peer'], r.fields['reason']])).toEqual([
      ['info', left, 'left'],
      ['warn', gone, 'unreachable'],
    ])
    const rings = logger.records.filter((r) => r.fields['event'] === 'ring')
    expect(rings.every((r) => r.level === 'info')).toBe(true)
    expect(rings.at(-1)!.fields).toMatchObject({ peers: [a.self], removed: [gone] })
  })

  it('hears only its own node when two nodes in one process have loggers', async () => {
    const one = recordingLogger()
    const two = recordingLogger()
    const n1 = node({ logger: one })
    const n2 = node({ logger: two })
    await n1.namespace('test', { load: (key) => key }).get('from-one')
    await n2.namespace('test', { load: (key) => key }).get('from-two')
    expect(one.records.map((r) => r.fields['key'])).toEqual(['from-one', 'from-one'])
    expect(two.records.map((r) => r.fields['key'])).toEqual(['from-two', 'from-two'])
  })

  it('unsubscribes on close(): no channel has a subscriber left', async () => {
    const logger = recordingLogger()
    const n = node({ logger })
    expect(anySubscribed()).toBe(true)
    await n.close()
    expect(anySubscribed()).toBe(false)
  })

  it('a logger that throws breaks nothing: gets still answer', async () => {
    const broken: Logger = {
      debug: () => {
        throw new Error('disk full')
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    }
    const ns = node({ logger: broken }).namespace('test', { load: (key) => `value of ${key}` })
    expect(await ns.get('k')).toBe('value of k')
  })

  it('a logger without one of the four methods is refused, naming it', () => {
    const err: BurrowError = thrownBy(() =>
      node({ logger: { debug() {}, info() {}, warn() {} } as unknown as Logger }),
    )
    expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
    expect(err.message).toBe('option logger.error must be a function, received undefined')
    expect(thrownBy(() => node({ logger: 'console' as unknown as Logger })).message).toBe(
      'option logger must be an object, received "console"',
    )
  })
})
