/**
 * The /_groupcache/{group}/{key} route as a node serves it, spoken to with raw HTTP the way a Go
 * groupcache client speaks (the real Go nodes are in groupcache-interop.test.ts).
 */
import { readFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { afterEach, describe, expect, it } from 'vitest'
import type { Burrow, BurrowOptions } from '../src/index.ts'
import { decodeGetResponse } from '../src/transport/groupcache/get-response.ts'
import { createHttpHandler } from '../src/transport/http/route.ts'
import { closeAll, deferred, node, onCleanup } from './helpers.ts'
import { cluster } from './support/cluster.ts'
import { httpGet, queryEscape } from './support/groupcache-go.ts'

afterEach(closeAll)

/** A listening node with namespace `test`: "value of KEY", not found for `missing*`, a loader error for `fail*`. */
async function servingNode(options: BurrowOptions = {}): Promise<{ n: Burrow; loads: string[] }> {
  const n = node(options)
  const loads: string[] = []
  n.namespace('test', {
    load: (key) => {
      loads.push(key)
      if (key.startsWith('missing')) return undefined
      if (key.startsWith('fail')) throw new Error('the database is down')
      return `value of ${key}`
    },
  })
  n.namespace('bytes', { load: (key) => new Uint8Array([0, 0xff, key.length]) })
  await n.listen()
  return { n, loads }
}

const bodyText = (body: Buffer): string => Buffer.from(decodeGetResponse(body).value ?? []).toString('utf8')

describe('the groupcache route', () => {
  it('answers a Go request with a protobuf GetResponse carrying the value', async () => {
    const { n, loads } = await servingNode()
    const res = await httpGet(n.self, '/_groupcache/test/k0')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-protobuf')
    expect(res.body.toString('hex')).toBe('0a0b76616c7565206f66206b30')
    expect(bodyText(res.body)).toBe('value of k0')
    expect(res.headers['x-burrow-kind']).toBe('string')
    expect(res.headers['x-burrow-ttl']).toBe('-1')
    expect(loads).toEqual(['k0'])
    // Cached now: answered again without a load.
    expect(bodyText((await httpGet(n.self, '/_groupcache/test/k0')).body)).toBe('value of k0')
    expect(loads).toEqual(['k0'])
    expect(n.stats().namespaces.test).toMatchObject({ serverRequests: 2, localLoads: 1 })
  })

  it('serves bytes as they are', async () => {
    const { n } = await servingNode()
    const res = await httpGet(n.self, '/_groupcache/bytes/abc')
    expect(res.headers['x-burrow-kind']).toBe('bytes')
    expect([...(decodeGetResponse(res.body).value ?? [])]).toEqual([0, 0xff, 3])
  })

  it('decodes keys as Go escapes them: + is a space, %2B a plus, %2F a slash inside the key, UTF-8 bytes', async () => {
    const { n, loads } = await servingNode()
    const keys = ['a b', 'a+b', 'a/b', '%', 'grüße', '😀 x', "!'()*~", 'x/../y', '/lead', 'a//b', '.']
    for (const key of keys) {
      const res = await httpGet(n.self, `/_groupcache/test/${queryEscape(key)}`)
      expect(res.status, key).toBe(200)
      expect(bodyText(res.body)).toBe(`value of ${key}`)
    }
    expect(loads).toEqual(keys)
    // A raw slash after the group belongs to the key, as in Go; so does %20.
    expect(bodyText((await httpGet(n.self, '/_groupcache/test/p/q%20r')).body)).toBe('value of p/q r')
    // A query string is not part of the key.
    expect(bodyText((await httpGet(n.self, '/_groupcache/test/k1?x=1')).body)).toBe('value of k1')
  })

  it("answers Go's errors: 404 no such group, 400 bad request", async () => {
    const { n } = await servingNode()
    const none = await httpGet(n.self, '/_groupcache/nope/k')
    expect(none.status).toBe(404)
    expect(none.body.toString()).toBe('no such group: nope\n')
    expect(none.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(none.headers['x-burrow-status']).toBe('no-namespace')
    for (const path of [
      '/_groupcache/test',
      '/_groupcache/test%2Fk',
      '/_groupcache/test/%E2%82',
      '/_groupcache/test/%zz',
    ]) {
      const res = await httpGet(n.self, path)
      expect(res.status, path).toBe(400)
      expect(res.body.toString()).toBe('bad request\n')
    }
    // An empty key is a bad key here (burrow keys are non-empty): 400 too.
    const empty = await httpGet(n.self, '/_groupcache/test/')
    expect(empty.status).toBe(400)
    expect(empty.headers['x-burrow-error']).toBe('BURROW_ERR_BAD_KEY')
  })

  it('answers a loader error with 500 and its text, and not found with a 404 a burrow asker can tell apart', async () => {
    const { n } = await servingNode()
    const failed = await httpGet(n.self, '/_groupcache/test/fail1')
    expect(failed.status).toBe(500)
    expect(failed.headers['x-burrow-error']).toBe('BURROW_ERR_LOADER')
    expect(failed.body.toString()).toMatch(/loader of namespace test failed for key "fail1"/)
    const missing = await httpGet(n.self, '/_groupcache/test/missing1')
    expect(missing.status).toBe(404)
    expect(missing.headers['x-burrow-status']).toBe('not-found')
    expect(missing.headers['x-burrow-ttl']).toBe('0')
  })

  it('answers HEAD without a body and other methods with 405', async () => {
    const { n } = await servingNode()
    const { port } = new URL(n.self)
    const send = (method: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path: '/_groupcache/test/k' }, (res) => {
          let body = ''
          res.on('data', (c: Buffer) => {
            body += c.toString()
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
    expect(await send('HEAD')).toEqual({ status: 200, body: '' })
    expect((await send('POST')).status).toBe(405)
  })

  it('answers as the owner: a key another node owns is not fetched from it (500, BURROW_ERR_NOT_OWNER)', async () => {
    const { nodes, loads } = await cluster(2, { node: { liveness: false } })
    const [a, b] = nodes as [Burrow, Burrow]
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => a.ownerOf(k) === b.self) as string
    const res = await httpGet(a.self, `/_groupcache/test/${key}`)
    expect(res.status).toBe(500)
    expect(res.headers['x-burrow-error']).toBe('BURROW_ERR_NOT_OWNER')
    expect(loads).toEqual([])
    expect(b.stats().namespaces.test?.serverRequests).toBe(0)
  })

  it('requires the bearer secret with auth, like the /burrow/ route', async () => {
    const { n } = await servingNode({ auth: { secret: 'sesame' } })
    expect((await httpGet(n.self, '/_groupcache/test/k')).status).toBe(401)
    expect((await httpGet(n.self, '/_groupcache/test/k', { authorization: 'Bearer wrong' })).status).toBe(401)
    const ok = await httpGet(n.self, '/_groupcache/test/k', { authorization: 'Bearer sesame' })
    expect(bodyText(ok.body)).toBe('value of k')
  })

  it("speaks the node's TLS", async () => {
    const read = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url))
    const tls = { key: read('node.key'), cert: read('node.pem'), ca: read('ca.pem') }
    const { n } = await servingNode({ tls })
    const { port } = new URL(n.self)
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path: '/_groupcache/test/t', ca: tls.ca },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve(Buffer.concat(chunks)))
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(bodyText(body)).toBe('value of t')
  })

  it('answers the probe GET /_groupcache/ with 400 like Go, and 503 once the node is leaving', async () => {
    let leaving = false
    const handler = createHttpHandler(
      () => undefined,
      undefined,
      () => leaving,
    )
    const server = createServer(handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onCleanup(() => new Promise((resolve) => server.close(resolve)))
    const { port } = server.address() as { port: number }
    const base = `http://127.0.0.1:${port}`
    expect((await httpGet(base, '/_groupcache/')).status).toBe(400)
    leaving = true
    const res = await httpGet(base, '/_groupcache/')
    expect(res.status).toBe(503)
    expect(res.headers['x-burrow-status']).toBe('leaving')
  })

  it('answers a load cut short by close() with 503 and the code', async () => {
    const { n } = await servingNode({ liveness: false })
    const started = deferred<void>()
    const gate = deferred<string>()
    n.namespace('slow', {
      load: () => {
        started.resolve()
        return gate.promise
      },
    })
    const pending = httpGet(n.self, '/_groupcache/slow/k')
    await started.promise
    // The graceful part lets the load run 200 ms, then aborts it; the reply still goes out.
    const closing = n.close({ timeoutMs: 200 })
    const res = await pending
    await closing
    expect(res.status).toBe(503)
    expect(res.headers['x-burrow-error']).toBe('BURROW_ERR_CLOSED')
    gate.resolve('late')
  })

  it('is served by node.handler mounted on an application server', async () => {
    const n = node()
    n.namespace('test', { load: (key) => `app ${key}` })
    const server = createServer(n.handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onCleanup(() => new Promise((resolve) => server.close(resolve)))
    const { port } = server.address() as { port: number }
    expect(bodyText((await httpGet(`http://127.0.0.1:${port}`, '/_groupcache/test/x')).body)).toBe('app x')
  })
})
