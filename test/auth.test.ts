import { execFile } from 'node:child_process'
import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { BurrowError } from '../src/index.ts'
import { closeAll, node, onCleanup, ringWhere, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'
import { command, openTalk } from './support/resp-talk.ts'

const SECRET = 'correct horse battery staple'

afterEach(closeAll)

/** A listening node with `auth` and a namespace `test` whose loader answers `value of {key}`. */
async function securedNode(secret: string | string[] = SECRET) {
  const n = node({ auth: { secret } })
  n.namespace('test', { load: (key) => `value of ${key}` })
  await n.listen()
  return n
}

const error = (pattern: RegExp) => expect.objectContaining({ message: expect.stringMatching(pattern) })

describe('RESP with auth', () => {
  it('runs nothing but AUTH and QUIT before AUTH succeeds, then everything', async () => {
    const n = await securedNode()
    const c = await openTalk(n.self)
    c.write(Buffer.concat([command('BURROW.GET', 'test', 'k'), command('PING'), command('NOPE')]))
    expect(await c.replies(3)).toEqual([error(/^NOAUTH /), error(/^NOAUTH /), error(/^NOAUTH /)])
    c.write(Buffer.concat([command('AUTH', 'wrong'), command('BURROW.GET', 'test', 'k')]))
    expect(await c.replies(2)).toEqual([error(/^WRONGPASS /), error(/^NOAUTH /)])
    c.write(Buffer.concat([command('AUTH', 'someone', SECRET), command('BURROW.GET', 'test', 'k')]))
    expect(await c.replies(2)).toEqual([error(/^WRONGPASS /), error(/^NOAUTH /)])
    c.write(Buffer.concat([command('AUTH', 'default', SECRET), command('BURROW.GET', 'test', 'k')]))
    expect(await c.replies(2)).toEqual(['OK', Buffer.from('value of k')])
    // A failed AUTH afterwards leaves the connection authenticated, as in Redis.
    c.write(Buffer.concat([command('AUTH', 'wrong'), command('PING')]))
    expect(await c.replies(2)).toEqual([error(/^WRONGPASS /), 'PONG'])
  })

  it('refuses a peer command before auth with a tagged BURROW_ERR_AUTH, and QUIT still works', async () => {
    const n = await securedNode()
    const c = await openTalk(n.self)
    c.write(
      Buffer.concat([
        command('BURROW.FETCH', '7', 'test', 'k'),
        command('BURROW.AUTH', '8', 'nope'),
        command('QUIT'),
      ]),
    )
    expect(await c.replies(3)).toEqual([
      [7, 'e', error(/^BURROW_ERR_AUTH /)],
      [8, 'e', error(/^BURROW_ERR_AUTH /)],
      'OK',
    ])
    await c.closed
  })

  it('on a node without auth, AUTH answers what Redis answers without a password', async () => {
    const n = node()
    await n.listen()
    const c = await openTalk(n.self)
    c.write(command('AUTH', 'anything'))
    expect(await c.replies(1)).toEqual([error(/^ERR AUTH <password> called without any password configured/)])
  })

  it('redis-cli -a and ioredis with a password get in; without it they are refused', async () => {
    const n = await securedNode()
    const { port } = new URL(n.self)
    const cli = (...args: string[]) =>
      new Promise<string>((resolve) => {
        execFile('redis-cli', ['-p', port, ...args], { timeout: 5000 }, (_err, stdout, stderr) =>
          resolve(`${stdout}${stderr}`.trim()),
        )
      })
    expect(await cli('-a', SECRET, '--no-auth-warning', 'BURROW.GET', 'test', 'cli')).toBe('value of cli')
    expect(await cli('BURROW.GET', 'test', 'cli')).toMatch(/NOAUTH/)

    // Default options otherwise: AUTH, then ioredis' ready check (INFO) on the authenticated connection.
    const opts = { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: 0 }
    const good = new Redis({ ...opts, password: SECRET })
    onCleanup(() => good.disconnect())
    expect(await good.call('BURROW.GET', 'test', 'io')).toBe('value of io')
    const bad = new Redis({ ...opts, enableReadyCheck: false, lazyConnect: true })
    onCleanup(() => bad.disconnect())
    await bad.connect()
    await expect(bad.call('BURROW.GET', 'test', 'io')).rejects.toThrow(/NOAUTH/)
  })
})

describe('HTTP with auth', () => {
  it('answers 401 without Authorization: Bearer <secret>, and the value with it', async () => {
    const n = await securedNode()
    const url = `${n.self}/burrow/test/h`
    const none = await fetch(url)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: `Basic ${SECRET}` } })).status).toBe(401)
    const ok = await fetch(url, { headers: { authorization: `Bearer ${SECRET}` } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('value of h')
  })
})

describe('peers with auth', () => {
  it('that share the secret fetch from each other as usual', async () => {
    const { nodes, namespaces, loads } = await cluster(3, { node: { auth: { secret: SECRET } } })
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find(
      (k) => nodes[0]!.ownerOf(k) === nodes[1]!.self,
    )!
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(loads).toEqual([{ self: nodes[1]!.self, key }])
    expect(nodes[0]!.stats().namespaces['test']).toMatchObject({ peerLoads: 1, peerErrors: 0 })
  })

  it('during a rotation, nodes presenting either secret accept each other', async () => {
    const { nodes, namespaces } = await cluster(2, {
      nodeOptions: (i) => ({ auth: { secret: i === 0 ? ['new secret', SECRET] : [SECRET, 'new secret'] } }),
    })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const onB = Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => a.ownerOf(k) === b.self)!
    const onA = Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => a.ownerOf(k) === a.self)!
    expect(await namespaces[0]!.get(onB)).toBe(`value of ${onB}`)
    expect(await namespaces[1]!.get(onA)).toBe(`value of ${onA}`)
    expect(a.stats().namespaces['test']!.peerErrors + b.stats().namespaces['test']!.peerErrors).toBe(0)
  })

  it('that do not share one: gets still answer (by fallback), and the other node is found down', async () => {
    const { nodes, namespaces } = await cluster(2, {
      node: { liveness: { intervalMs: 30, timeoutMs: 200 } },
      nodeOptions: (i) => ({ auth: { secret: i === 0 ? SECRET : 'another secret' } }),
    })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => a.ownerOf(k) === b.self)!
    expect(await namespaces[0]!.get(key)).toBe(`value of ${key}`)
    expect(a.stats().namespaces['test']).toMatchObject({ peerErrors: 1, fallbackLoads: 1 })
    expect(await ringWhere(a, (ring) => !ring.includes(b.self))).toEqual([a.self])
  })
})

describe('secrets stay secret', () => {
  it('are not in stats, in inspect output or in JSON of the node', async () => {
    const n = await securedNode()
    expect(JSON.stringify(n.stats())).not.toContain(SECRET)
    expect(inspect(n, { depth: 10, showHidden: true })).not.toContain(SECRET)
  })

  it('are checked at construction, with messages that never show them', () => {
    const cases: unknown[] = [
      'a bare string secret',
      { secret: '' },
      { secret: [] },
      { secret: ['ok', 7] },
      { secret: 'with\nnewline secret' },
      { secret: 'x', other: 1 },
    ]
    for (const auth of cases) {
      const err: BurrowError = thrownBy(() => node({ auth: auth as never }))
      expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
      expect(err.message).not.toMatch(/bare string secret|newline secret/)
    }
  })
})

describe('HELLO with auth', () => {
  it('HELLO 2 AUTH default <secret> authenticates; HELLO without it before AUTH is NOAUTH', async () => {
    const n = await securedNode()
    const c = await openTalk(n.self)
    c.write(
      Buffer.concat([
        command('HELLO', '2'),
        command('HELLO', '2', 'AUTH', 'default', 'wrong'),
        command('HELLO', '2', 'AUTH', 'default', SECRET),
        command('BURROW.GET', 'test', 'h'),
      ]),
    )
    const [noauth, wrong, hello, value] = await c.replies(4)
    expect(noauth).toEqual(error(/^NOAUTH HELLO must be called/))
    expect(wrong).toEqual(error(/^WRONGPASS /))
    expect((hello as unknown[]).slice(0, 2)).toEqual([Buffer.from('server'), Buffer.from('burrow')])
    expect(value).toEqual(Buffer.from('value of h'))
  })
})
