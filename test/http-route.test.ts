import { createServer, get, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import fixture from './fixtures/groupcache-ring-fixture.json' with { type: 'json' }
import { closeAll, node } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

const route = (base: string, ns: string, key: string) =>
  `${base}/burrow/${encodeURIComponent(ns)}/${encodeURIComponent(key)}`

describe('GET /burrow/{namespace}/{key}', () => {
  it('every fixture key (spaces, /, +, %, unicode, emoji, NUL) round-trips byte-exact through a non-owner', async () => {
    const { nodes, loads } = await cluster(2, { namespace: { hot: false }, load: (key) => `[${key}]` })
    const keys = fixture.keys.map((k) => k.key).filter((k) => k !== '')
    for (const key of keys) {
      const owner = nodes[0]!.ownerOf(key)
      const via = nodes.find((n) => n.self !== owner)!
      const res = await fetch(route(via.self, 'test', key), { redirect: 'manual' })
      expect(res.status, key).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      expect(res.headers.get('x-burrow-kind')).toBe('string')
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(`[${key}]`))).toBe(true)
    }
    // Each key reached its owner exactly as it was sent: decoded once, `+` not turned into a space.
    expect(loads.map((l) => l.key).sort()).toEqual([...keys].sort())
    for (const { self, key } of loads) expect(self).toBe(nodes[0]!.ownerOf(key))
  })

  it('bytes are served as application/octet-stream, byte-exact', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i)
    const n = node()
    n.namespace('bin', { load: () => bytes })
    await n.listen()
    const res = await fetch(route(n.self, 'bin', 'all'))
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('x-burrow-kind')).toBe('bytes')
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([...bytes])
  })

  it('an unknown key and an unknown namespace are both 404, told apart by x-burrow-status', async () => {
    const n = node()
    n.namespace('test', { load: () => undefined })
    await n.listen()
    const missing = await fetch(route(n.self, 'test', 'nope'))
    expect(missing.status).toBe(404)
    expect(missing.headers.get('x-burrow-status')).toBe('not-found')
    const noNs = await fetch(route(n.self, 'other', 'k'))
    expect(noNs.status).toBe(404)
    expect(noNs.headers.get('x-burrow-status')).toBe('no-namespace')
    expect(await noNs.text()).toContain('other')
  })

  it.each([
    ['/burrow/test/%zz', 'bad percent-encoding'],
    ['/burrow/test/%C3', 'truncated UTF-8'],
    ['/burrow/test/', 'no key'],
    ['/burrow/test', 'no key segment'],
    ['/burrow//k', 'no namespace'],
  ])('a malformed path %s (%s) is a 400', async (path) => {
    const n = node()
    n.namespace('test', { load: (k) => k })
    await n.listen()
    const res = await fetch(`${n.self}${path}`, { redirect: 'manual' })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
  })

  it('a loader error is a 500 with a short plain-text body naming the error code', async () => {
    const n = node()
    n.namespace('test', {
      load: () => {
        throw new Error('secret connection string')
      },
    })
    await n.listen()
    const res = await fetch(route(n.self, 'test', 'k'))
    expect(res.status).toBe(500)
    const body = await res.text()
    expect(body).toMatch(/^BURROW_ERR_LOADER: /)
    expect(body.length).toBeLessThan(200)
    expect(body).not.toContain('secret')
  })

  it('a path that is not in clean form is answered as is, never redirected', async () => {
    const { nodes } = await cluster(1, { load: (key) => `[${key}]` })
    const res = await fetch(`${nodes[0]!.self}/burrow/test/x%2F..%2Fy`, { redirect: 'manual' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('[x/../y]')
    // fetch would normalise a raw `..` itself, so send the path as written.
    const raw = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(nodes[0]!.self)
      get({ hostname, port, path: '/burrow/test/a/../b' }, (res) => {
        let body = ''
        res.on('data', (chunk) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      }).on('error', reject)
    })
    expect(raw).toEqual({ status: 200, body: '[a/../b]' })
  })

  it('HEAD gives the headers without a body; POST is a 405', async () => {
    const n = node()
    n.namespace('test', { load: () => 'hello' })
    await n.listen()
    const head = await fetch(route(n.self, 'test', 'k'), { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe('5')
    expect(await head.text()).toBe('')
    const post = await fetch(route(n.self, 'test', 'k'), { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  it('node.handler mounts on an existing node:http server, and passes other paths to next()', async () => {
    const n = node()
    n.namespace('test', { load: () => 'from burrow' })
    const server: Server = createServer((req, res) => {
      n.handler(req, res, () => {
        res.end('from the app')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      expect(await (await fetch(`http://127.0.0.1:${port}/burrow/test/k`)).text()).toBe('from burrow')
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('from the app')
    } finally {
      server.close()
    }
  })
})
