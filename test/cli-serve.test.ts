/**
 * `burrow serve` against a real HTTP origin, asked with `burrow get`: what the origin answers
 * becomes a value, a not-found or a loader error. Runs the built CLI (npm run build first).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { closeAll } from './helpers.ts'
import { burrow, Origin, serve } from './support/cli.ts'

afterEach(closeAll)

let origin: Origin
beforeEach(async () => {
  origin = await Origin.start()
})

const get = (node: string, key: string, namespace = 'items') =>
  burrow(['get', '--node', node, namespace, key])

describe('burrow serve: what the origin answers', () => {
  it('serves a 200 body as the value, loads each key once, and prints one line when listening', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    expect(node.stdout).toMatch(
      /^burrow listening on http:\/\/127\.0\.0\.1:\d+ \(peers http:\/\/127\.0\.0\.1:\d+; namespaces items\)\n$/,
    )
    const first = await get(node.self, '42')
    expect(first).toMatchObject({ code: 0, stdout: 'value of 42', stderr: '' })
    expect((await get(node.self, '42')).stdout).toBe('value of 42')
    expect(origin.count('42')).toBe(1)
  })

  it('keeps values off the JS heap with --storage offheap, and says so in its stats', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template, '--storage', 'offheap'])
    expect((await get(node.self, 'é-7')).stdout).toBe('value of é-7')
    expect((await get(node.self, 'é-7')).stdout).toBe('value of é-7')
    expect(origin.count('é-7')).toBe(1)
    const stats = JSON.parse((await burrow(['stats', '--node', node.self, '--json'])).stdout)
    expect(stats.namespaces.items.storage).toMatchObject({ kind: 'offheap', heapValues: 0 })
    expect(stats.namespaces.items.storage.offHeapBytes).toBeGreaterThan(0)
  })

  it('puts the key into the URL percent-encoded, so / ? # and spaces stay in the key', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    const key = 'a b/c?d#e+f'
    expect((await get(node.self, key)).stdout).toBe(`value of ${key}`)
    expect(origin.paths).toEqual([`/items/${encodeURIComponent(key)}`])
  })

  it('takes an origin 404 as not found: get exits 1, and --not-found-ttl keeps the answer', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template, '--not-found-ttl', '1h'])
    const run = await get(node.self, 'missing-1')
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('not found: key "missing-1" in namespace items')
    expect((await get(node.self, 'missing-1')).code).toBe(1)
    expect(origin.count('missing-1')).toBe(1)
  })

  it('asks the origin again for a 404 when --not-found-ttl is 0 (the default)', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    expect((await get(node.self, 'missing-2')).code).toBe(1)
    expect((await get(node.self, 'missing-2')).code).toBe(1)
    expect(origin.count('missing-2')).toBe(2)
  })

  it('fails the load on a 5xx, caches nothing, and logs the status with the URL', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    const run = await get(node.self, 'boom')
    expect(run.code).toBe(4)
    expect(run.stderr).toContain('BURROW_ERR_LOADER')
    expect((await get(node.self, 'boom')).code).toBe(4)
    expect(origin.count('boom')).toBe(2)
    await node.waitFor(
      'stderr',
      /items "boom": origin answered 500 .* for http:\/\/127\.0\.0\.1:\d+\/items\/boom/,
    )
  })

  it('fails the load on another 4xx', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    expect((await get(node.self, 'teapot')).code).toBe(4)
    await node.waitFor('stderr', /origin answered 418/)
  })

  it('does not follow a redirect: the load fails and the target is never asked', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    expect((await get(node.self, 'moved')).code).toBe(4)
    await node.waitFor('stderr', /origin answered 302 \(a redirect to \/items\/elsewhere, not followed\)/)
    expect(origin.count('elsewhere')).toBe(0)
  })

  it('fails a load the origin does not answer within --origin-timeout', async () => {
    const node = await serve([
      '--namespace',
      'items',
      '--origin',
      origin.template,
      '--origin-timeout',
      '200ms',
    ])
    const run = await get(node.self, 'slow-1')
    expect(run.code).toBe(4)
    await node.waitFor('stderr', /items "slow-1": origin did not answer within 200 ms \(--origin-timeout\)/)
  })

  it('fails a body over --origin-max-bytes, announced or streamed', async () => {
    const node = await serve([
      '--namespace',
      'items',
      '--origin',
      origin.template,
      '--origin-max-bytes',
      '1KiB',
    ])
    expect((await get(node.self, 'big')).code).toBe(4)
    expect((await get(node.self, 'stream-big')).code).toBe(4)
    await node.waitFor('stderr', /"stream-big": origin's body .* is over 1024 bytes/)
    expect((await get(node.self, 'small')).stdout).toBe('value of small')
  })

  it('fails a load whose origin refuses connections, naming the URL', async () => {
    await origin.close()
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    expect((await get(node.self, 'k')).code).toBe(4)
    await node.waitFor(
      'stderr',
      /cannot fetch http:\/\/127\.0\.0\.1:\d+\/items\/k from the origin: ECONNREFUSED/,
    )
  })

  it('keeps bytes exact with --kind bytes', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template, '--kind', 'bytes'])
    const run = await get(node.self, 'bytes')
    expect(run.code).toBe(0)
    expect([...run.bytes]).toEqual([0x00, 0xff, 0x80])
  })

  it('serves several namespaces, each from its own origin, and fills {namespace}', async () => {
    const node = await serve([
      '--namespace',
      'items',
      '--namespace',
      'users',
      '--origin',
      origin.template,
      '--origin',
      `${origin.url}/items/{namespace}-{key}`,
    ])
    expect(node.stdout).toContain('namespaces items users')
    expect((await get(node.self, '1', 'items')).stdout).toBe('value of 1')
    expect((await get(node.self, '1', 'users')).stdout).toBe('value of users-1')
    const other = await get(node.self, '1', 'orders')
    expect(other.code).toBe(4)
    expect(other.stderr).toContain('has no namespace "orders"')
  })

  it('expires values after --ttl: a later get asks the origin again', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template, '--ttl', '1ms'])
    expect((await get(node.self, 'fresh')).stdout).toBe('value of fresh')
    // Each get is a new process: far more than 1 ms apart.
    expect((await get(node.self, 'fresh')).stdout).toBe('value of fresh')
    expect(origin.count('fresh')).toBe(2)
  })
})

describe('burrow serve: stopping', () => {
  it('on SIGTERM lets a get in flight finish, then closes and exits 0', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    const pending = get(node.self, 'held-1')
    await origin.waitForRequests('held-1')
    node.signal('SIGTERM')
    await node.waitFor('stderr', /SIGTERM: leaving the cluster/)
    origin.release('held-1')
    expect(await pending).toMatchObject({ code: 0, stdout: 'value of held-1' })
    expect(await node.exited).toEqual({ code: 0, signal: null })
    expect(node.stderr).toContain('burrow serve: closed')
  })

  it('on SIGINT closes and exits 0', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    node.signal('SIGINT')
    expect(await node.exited).toEqual({ code: 0, signal: null })
  })

  it('on a second signal stops at once with 128 + the signal number', async () => {
    const node = await serve(['--namespace', 'items', '--origin', origin.template, '--close-timeout', '10m'])
    const pending = get(node.self, 'held-2')
    await origin.waitForRequests('held-2')
    node.signal('SIGTERM')
    await node.waitFor('stderr', /SIGTERM: leaving the cluster/)
    node.signal('SIGTERM')
    expect(await node.exited).toEqual({ code: 143, signal: null })
    expect((await pending).code).toBe(3)
  })

  it('exits 5 when its port is taken', async () => {
    const first = await serve(['--namespace', 'items', '--origin', origin.template])
    const second = await burrow([
      'serve',
      '--self',
      first.self,
      '--namespace',
      'items',
      '--origin',
      origin.template,
    ])
    expect(second.code).toBe(5)
    expect(second.stderr).toMatch(/^burrow serve: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/)
  })
})
