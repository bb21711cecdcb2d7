import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { BurrowOptions } from '../src/index.ts'
import { closeAll, node, onCleanup, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'

const fixture = (name: string) => new URL(`./fixtures/tls/${name}`, import.meta.url)
const read = (name: string) => readFileSync(fixture(name))
/** A node's TLS options: its certificate, signed by the test CA, which it also trusts. */
const TLS = { key: read('node.key'), cert: read('node.pem'), ca: read('ca.pem') }

afterEach(closeAll)

async function tlsNode(options: BurrowOptions = {}) {
  const n = node({ tls: TLS, ...options })
  n.namespace('test', { load: (key) => `value of ${key}` })
  await n.listen()
  return n
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`.trim()))
  })
}

describe('a node with tls', () => {
  it('has an https:// id, and its peers fetch from each other over verified TLS', async () => {
    const { nodes, namespaces, loads } = await cluster(2, { node: { tls: TLS } })
    expect(nodes[0]!.self).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(loads).toEqual([{ self: nodes[1]!.self, key }])
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ peerLoads: 1, peerErrors: 0 })
  })

  it('polls over TLS as over plain TCP (busyPollMicros), and answers rightly', async () => {
    const { nodes, namespaces } = await cluster(2, {
      namespace: { hot: false },
      node: { tls: TLS, busyPollMicros: 1000 },
    })
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`).filter(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )
    for (let round = 0; round < 10; round++) {
      const values = await Promise.all(keys.map((k) => namespaces[0]!.get(k)))
      expect(values).toEqual(keys.map((k) => `value of ${k}`))
    }
    // Both ends read (the owner requests, the reader replies) through their TLS sockets.
    for (const n of nodes) expect(n.stats().busyPoll.spins).toBeGreaterThan(0)
  })

  it('speaks TLS only: a plain connection gets no answer', async () => {
    const n = await tlsNode()
    const { port } = new URL(n.self)
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1')
    })
    socket.write('*1\r\n$4\r\nPING\r\n')
    await new Promise<void>((resolve) => socket.once('close', () => resolve()))
    expect(received).not.toContain('PONG')
  })

  it('serves curl, redis-cli --tls and ioredis with tls, verifying against the CA', async () => {
    const n = await tlsNode()
    const { port } = new URL(n.self)
    const ca = fixture('ca.pem').pathname
    expect(await run('curl', ['-s', '--cacert', ca, `https://127.0.0.1:${port}/burrow/test/c`])).toBe(
      'value of c',
    )
    expect(
      await run('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `https://127.0.0.1:${port}/burrow/test/c`,
      ]),
    ).toBe('000')
    expect(await run('redis-cli', ['--tls', '--cacert', ca, '-p', port, 'BURROW.GET', 'test', 'r'])).toBe(
      'value of r',
    )
    const redis = new Redis({
      host: '127.0.0.1',
      port: Number(port),
      tls: { ca: TLS.ca },
      maxRetriesPerRequest: 0,
    })
    onCleanup(() => redis.disconnect())
    expect(await redis.call('BURROW.GET', 'test', 'i')).toBe('value of i')
  })

  it('does not trust a peer whose certificate its CA did not sign: gets load locally instead', async () => {
    const { nodes, namespaces } = await cluster(2, {
      node: { liveness: false },
      nodeOptions: (i) => ({
        tls: i === 0 ? TLS : { key: read('untrusted.key'), cert: read('untrusted.pem'), ca: TLS.ca },
      }),
    })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({
      peerLoads: 0,
      peerErrors: 1,
      fallbackLoads: 1,
    })
  })

  it('with requestCert (mutual TLS), refuses a client without a certificate and talks to its peers', async () => {
    const mutual = { ...TLS, requestCert: true, rejectUnauthorized: true }
    const { nodes, namespaces } = await cluster(2, { node: { tls: mutual } })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(nodes[0]!.stats().namespaces['test']!.peerErrors).toBe(0)
    const { port } = new URL(nodes[1]!.self)
    const ca = fixture('ca.pem').pathname
    expect(await run('redis-cli', ['--tls', '--cacert', ca, '-p', port, 'PING'])).not.toBe('PONG')
    const withCert = [
      '--tls',
      '--cacert',
      ca,
      '--cert',
      fixture('node.pem').pathname,
      '--key',
      fixture('node.key').pathname,
    ]
    expect(await run('redis-cli', [...withCert, '-p', port, 'PING'])).toBe('PONG')
  })

  it('checks that tls and the scheme of self go together', () => {
    expect(thrownBy(() => node({ self: 'http://127.0.0.1:0', tls: TLS })).code).toBe('BURROW_ERR_BAD_OPTION')
    expect(thrownBy(() => node({ self: 'https://127.0.0.1:0' })).code).toBe('BURROW_ERR_BAD_OPTION')
    expect(thrownBy(() => node({ tls: { ca: TLS.ca } })).code).toBe('BURROW_ERR_BAD_OPTION')
    expect(node({ tls: TLS }).self).toBe('https://127.0.0.1:0')
  })
})
