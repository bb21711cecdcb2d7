/**
 * Real Redis clients, with their default options, against a real node: each gets through its
 * handshake with no error reply and without sending AUTH, runs burrow's commands, and quits.
 * A recording proxy between them shows what each client sent.
 */
import { execFile } from 'node:child_process'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { createClient as createClientV5 } from 'redis-v5'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Burrow } from '../src/index.ts'
import { closeAll, deferred, node } from './helpers.ts'
import { type RecordingProxy, recordingProxy } from './support/recording-proxy.ts'

const REDIS_CLI = '/usr/bin/redis-cli'
const REDIS_BENCHMARK = '/usr/bin/redis-benchmark'

let n: Burrow
let proxy: RecordingProxy
const cleanups: (() => unknown)[] = []

beforeEach(async () => {
  n = node()
  n.namespace('test', { load: (key) => (key === 'missing' ? undefined : `value of ${key}`) })
  await n.listen()
  proxy = await recordingProxy(n.self)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await proxy.close()
  await closeAll()
})

/** The names (with a subcommand where there is one) of the commands the proxy saw. */
function sent(): string[] {
  return proxy.commands.map(([name, sub]) =>
    (name === 'CLIENT' || name === 'CONFIG' || name === 'COMMAND') && sub !== undefined
      ? `${name} ${sub.toUpperCase()}`
      : (name as string),
  )
}

/** Runs a redis-server tool against the proxy; its stdout and stderr, whatever its exit code. */
function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      ['-h', '127.0.0.1', '-p', String(proxy.port), ...args],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        if (err?.killed) reject(new Error(`${file} ${args.join(' ')} timed out`))
        else resolve({ stdout, stderr })
      },
    )
  })
}

describe('ioredis with its default options', () => {
  it('passes its ready check (INFO), runs BURROW.SET and BURROW.GET through call, and quits', async () => {
    const redis = new Redis(proxy.port, '127.0.0.1')
    cleanups.push(() => redis.disconnect())
    const ready = deferred<void>()
    redis.once('ready', () => ready.resolve())
    redis.once('error', (err) => ready.reject(err))
    await ready.promise
    expect(redis.status).toBe('ready')
    expect(await redis.call('BURROW.SET', 'test', 'k', 'v1')).toBe('OK')
    expect(await redis.call('BURROW.GET', 'test', 'k')).toBe('v1')
    expect(await redis.call('BURROW.GET', 'test', 'other')).toBe('value of other')
    expect(await redis.call('BURROW.GET', 'test', 'missing')).toBeNull()
    const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()))
    expect(await redis.quit()).toBe('OK')
    await ended
    expect(sent()).toEqual([
      'CLIENT SETINFO',
      'CLIENT SETINFO',
      'INFO',
      'BURROW.SET',
      'BURROW.GET',
      'BURROW.GET',
      'BURROW.GET',
      'QUIT',
    ])
    expect(proxy.errors).toEqual([])
  })

  it('names the connection (connectionName) and selects database 0 (db) when told to', async () => {
    const redis = new Redis({ port: proxy.port, host: '127.0.0.1', connectionName: 'app-1', db: 0 })
    cleanups.push(() => redis.disconnect())
    await new Promise<void>((resolve, reject) => redis.once('ready', resolve).once('error', reject))
    expect(await redis.client('GETNAME')).toBe('app-1')
    expect(await redis.select(0)).toBe('OK')
    await expect(redis.select(1)).rejects.toThrow(/DB index is out of range/)
    expect(sent()).toContain('CLIENT SETNAME')
    expect(sent()).not.toContain('AUTH')
    await redis.quit()
  })
})

describe('node-redis with its default options', () => {
  it('node-redis 5 (RESP2 by default) connects, sends BURROW.GET and BURROW.SET, and quits', async () => {
    const client = createClientV5({ url: `redis://127.0.0.1:${proxy.port}` })
    cleanups.push(() => client.isOpen && client.destroy())
    client.on('error', () => {})
    await client.connect()
    expect(await client.sendCommand(['BURROW.SET', 'test', 'k', 'v5'])).toBe('OK')
    expect(await client.sendCommand(['BURROW.GET', 'test', 'k'])).toBe('v5')
    expect(await client.sendCommand(['BURROW.GET', 'test', 'missing'])).toBeNull()
    expect(await client.quit()).toBe('OK')
    expect(client.isOpen).toBe(false)
    expect(sent()).toEqual([
      'CLIENT SETINFO',
      'CLIENT SETINFO',
      'BURROW.SET',
      'BURROW.GET',
      'BURROW.GET',
      'QUIT',
    ])
    expect(proxy.errors).toEqual([])
  })

  it('node-redis 6 with its defaults (RESP3: HELLO 3) connects, sends BURROW.GET and BURROW.SET, and closes', async () => {
    const client = createClient({ url: `redis://127.0.0.1:${proxy.port}` })
    cleanups.push(() => client.isOpen && client.destroy())
    client.on('error', () => {})
    await client.connect()
    expect(await client.sendCommand(['BURROW.SET', 'test', 'k', 'v3'])).toBe('OK')
    expect(await client.sendCommand(['BURROW.GET', 'test', 'k'])).toBe('v3')
    expect(await client.sendCommand(['BURROW.GET', 'test', 'missing'])).toBeNull()
    await client.close()
    expect(proxy.commands[0]).toEqual(['HELLO', '3'])
    expect(sent()).not.toContain('AUTH')
    // (The recording proxy reads replies as RESP2, so it cannot read these: the client did.)
  })

  it('node-redis 6 with RESP: 2 connects, sends BURROW.GET and BURROW.SET, and closes', async () => {
    const client = createClient({ url: `redis://127.0.0.1:${proxy.port}`, RESP: 2 })
    cleanups.push(() => client.isOpen && client.destroy())
    client.on('error', () => {})
    await client.connect()
    expect(await client.sendCommand(['BURROW.SET', 'test', 'k', 'v6'])).toBe('OK')
    expect(await client.sendCommand(['BURROW.GET', 'test', 'k'])).toBe('v6')
    expect(await client.sendCommand(['BURROW.GET', 'test', 'missing'])).toBeNull()
    expect(await client.sendCommand(['CLIENT', 'INFO'])).toMatch(/ lib-name=node-redis lib-ver=6\.3\.1\n$/)
    await client.close()
    expect(client.isOpen).toBe(false)
    expect(sent()).toEqual([
      'CLIENT SETINFO',
      'CLIENT SETINFO',
      'BURROW.SET',
      'BURROW.GET',
      'BURROW.GET',
      'CLIENT INFO',
    ])
    expect(proxy.errors).toEqual([])
  })
})

describe('redis-cli and redis-benchmark', () => {
  it('redis-cli reads INFO server and HELLO, and gets OK for SELECT 0 and CLIENT SETNAME', async () => {
    const info = await run(REDIS_CLI, ['INFO', 'server'])
    expect(info.stdout).toMatch(/^# Server\r?\nredis_version:\d+\.\d+\.\d+\r?\n/)
    expect(info.stdout).toContain('server_name:burrow')
    expect(info.stdout).toContain(`tcp_port:${new URL(n.self).port}`)
    const hello = await run(REDIS_CLI, ['HELLO'])
    expect(hello.stdout.split('\n').slice(0, 6)).toEqual([
      'server',
      'burrow',
      'version',
      '0.1.0',
      'proto',
      '2',
    ])
    expect((await run(REDIS_CLI, ['SELECT', '0'])).stdout).toBe('OK\n')
    expect((await run(REDIS_CLI, ['CLIENT', 'SETNAME', 'x'])).stdout).toBe('OK\n')
    expect((await run(REDIS_CLI, ['BURROW.GET', 'test', 'cli'])).stdout).toBe('value of cli\n')
    expect(sent()).not.toContain('AUTH')
  })

  it('redis-cli -3 speaks RESP3 with the node', async () => {
    const { stdout, stderr } = await run(REDIS_CLI, ['-3', 'BURROW.GET', 'test', 'resp3'])
    expect(stderr).toBe('')
    expect(stdout).toBe('value of resp3\n')
  })

  it('redis-benchmark reads the CONFIG it asks for and does not warn', async () => {
    const { stdout, stderr } = await run(REDIS_BENCHMARK, ['-n', '200', '-c', '2', '-q', '-t', 'ping'])
    expect(stderr + stdout).not.toMatch(/WARNING|ERROR/)
    expect(stdout).toMatch(/PING_MBULK: [\d.]+ requests per second/)
    expect(proxy.commands).toContainEqual(['CONFIG', 'GET', 'save'])
    expect(proxy.commands).toContainEqual(['CONFIG', 'GET', 'appendonly'])
  })
})
