/**
 * `GET /_burrow/dashboard` and `GET /_burrow/ring` over plain HTTP: a self-contained page whose
 * Content-Security-Policy forbids loads from elsewhere, the ring's shares and membership events as
 * JSON, and auth (the page is public and holds no data; the data routes need the secret).
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import type { RingReport } from '../src/transport/http/admin.ts'
import { closeAll, node, onCleanup, ringWhere } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

async function get(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init)
  return { status: res.status, headers: res.headers, body: await res.text() }
}

/** The text between `<tag>` and `</tag>`, which must occur once. */
function inline(html: string, tag: string): string {
  const parts = html.split(`<${tag}>`)
  expect(parts.length).toBe(2)
  return parts[1]!.split(`</${tag}>`)[0]!
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
}

describe('GET /_burrow/dashboard', () => {
  it('is one HTML page with its style and script inline, allowed by hash and nothing else', async () => {
    const n = node()
    await n.listen()
    const res = await get(n.self, '/_burrow/dashboard')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.body.startsWith('<!doctype html>')).toBe(true)
    const csp = new Map(
      (res.headers.get('content-security-policy') ?? '').split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/)
        return [name, values.join(' ')] as const
      }),
    )
    expect(csp.get('default-src')).toBe("'none'")
    expect(csp.get('connect-src')).toBe("'self'")
    expect(csp.get('script-src')).toBe(sha256(inline(res.body, 'script')))
    expect(csp.get('style-src')).toBe(sha256(inline(res.body, 'style')))
    expect(csp.get('img-src')).toBe('data:')
    expect(csp.get('frame-ancestors')).toBe("'none'")
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe')
  })

  it('names no other host: no src, href or action outside the page, no CSS url() or import', async () => {
    const n = node()
    await n.listen()
    const { body } = await get(n.self, '/_burrow/dashboard')
    const links = [...body.matchAll(/\b(?:src|href|action)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!)
    expect(links).toEqual(['data:,'])
    expect(body).not.toMatch(/url\(|@import|\bimport\(|<iframe|<object|<embed|<base/i)
    // The only absolute URL is SVG's namespace name, which is never fetched.
    const absolute = [...body.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*/gi)].map((m) => m[0])
    expect(absolute).toEqual(['http://www.w3.org/2000/svg'])
    // The page fetches its data relative to itself, so a mounted adminHandler works under a prefix.
    expect(body).toContain("get('stats')")
    expect(body).toContain("get('ring')")
  })

  it('is the same page on every node, for GET and HEAD only', async () => {
    const { nodes } = await cluster(2, { node: { liveness: false } })
    const a = await get(nodes[0]!.self, '/_burrow/dashboard')
    const b = await get(nodes[1]!.self, '/_burrow/dashboard?refresh=1')
    expect(b.body).toBe(a.body)
    const head = await get(nodes[0]!.self, '/_burrow/dashboard', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(a.body))
    const post = await get(nodes[0]!.self, '/_burrow/dashboard', { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })
})

describe('GET /_burrow/ring', () => {
  it('lists every live peer with its share of the key space (adding up to 1) and the ring layout', async () => {
    const { nodes } = await cluster(3, { node: { liveness: false } })
    const res = await get(nodes[1]!.self, '/_burrow/ring')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const ring = JSON.parse(res.body) as RingReport
    expect(ring).toMatchObject({
      self: nodes[1]!.self,
      ring: 'groupcache',
      hash: 'crc32',
      replicas: 50,
      down: [],
    })
    expect(ring.peers.map((p) => p.peer)).toEqual(nodes.map((n) => n.self).sort())
    expect(ring.peers.reduce((sum, p) => sum + p.share, 0)).toBeCloseTo(1, 12)
    // Each share is what the ring's owners say: of 20,000 random keys, about the same fraction.
    // (Random, not `key-${i}`: crc32 is linear, so sequential keys land in correlated places and
    // their fraction can stray from the share by several points on some port numbers. With
    // independent keys the fraction's standard deviation is under 0.004, so 0.03 is 8 of them.)
    const keys = Array.from({ length: 20_000 }, () => randomBytes(12).toString('base64url'))
    for (const { peer, share } of ring.peers) {
      const owned = keys.filter((k) => nodes[1]!.ownerOf(k) === peer).length / keys.length
      expect(Math.abs(owned - share)).toBeLessThan(0.03)
    }
    expect(ring.changes).toBe(nodes[1]!.stats().ringChanges)
  })

  it("on a maglev ring, gives the table's size", async () => {
    const { nodes } = await cluster(2, { node: { liveness: false, ring: 'maglev' } })
    const ring = JSON.parse((await get(nodes[0]!.self, '/_burrow/ring')).body) as RingReport
    expect(ring.ring).toBe('maglev')
    expect(ring).toHaveProperty('table')
    expect(ring.peers.reduce((sum, p) => sum + p.share, 0)).toBeCloseTo(1, 12)
  })

  it('lists membership events since the node listened, oldest first: listen, ring changes, a peer that left', async () => {
    const { nodes } = await cluster(3)
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    const gone = c.self
    const started = Date.now()
    await c.close()
    await ringWhere(a, (peers) => !peers.includes(gone))
    const ring = JSON.parse((await get(a.self, '/_burrow/ring')).body) as RingReport
    expect(ring.peers.map((p) => p.peer)).toEqual([a.self, b.self].sort())
    const types = ring.events.map((e) => e.type)
    expect(types[0]).toBe('listen')
    expect(types).toContain('peer.down')
    expect(ring.events.find((e) => e.type === 'peer.down')).toMatchObject({ peer: gone, reason: 'left' })
    const last = ring.events.at(-1)!
    expect(last).toMatchObject({ type: 'ring', peers: 2, added: [], removed: [gone] })
    expect(last.at).toBeGreaterThanOrEqual(started - 1000)
    for (let i = 1; i < ring.events.length; i++)
      expect(ring.events[i]!.at).toBeGreaterThanOrEqual(ring.events[i - 1]!.at)
  })
})

describe('with auth', () => {
  it('the page is served to anyone (it holds no data); ring and stats need the Bearer secret', async () => {
    const secret = 'dashboard-route-secret'
    const n = node({ auth: { secret } })
    await n.listen()
    const page = await get(n.self, '/_burrow/dashboard')
    expect(page.status).toBe(200)
    expect(page.body).not.toContain(secret)
    expect(page.body).not.toContain(n.self)
    for (const path of ['/_burrow/ring', '/_burrow/stats']) {
      const refused = await get(n.self, path)
      expect(refused.status, path).toBe(401)
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(refused.body).not.toContain(n.self)
      expect((await get(n.self, path, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
      const ok = await get(n.self, path, { headers: { authorization: `Bearer ${secret}` } })
      expect(ok.status, path).toBe(200)
      expect(ok.body).not.toContain(secret)
    }
  })
})

describe('on an application’s own server', () => {
  it('node.adminHandler serves the page and the ring too', async () => {
    const n = node()
    const server: Server = createServer(n.adminHandler)
    onCleanup(() => new Promise((resolve) => server.close(resolve)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    expect((await get(base, '/_burrow/dashboard')).status).toBe(200)
    const ring = JSON.parse((await get(base, '/_burrow/ring')).body) as RingReport
    expect(ring.peers).toEqual([{ peer: n.self, share: 1 }])
    // Not listening: no membership events recorded.
    expect(ring.events).toEqual([])
  })
})
