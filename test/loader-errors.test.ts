import { afterEach, describe, expect, it } from 'vitest'
import { BurrowError } from '../src/index.ts'
import { closeAll, deferred, node, settled } from './helpers.ts'

afterEach(closeAll)

describe('loader errors', () => {
  it('reach every waiter as BURROW_ERR_LOADER with the original as cause, are not cached, and the next get retries', async () => {
    const gate = deferred<void>()
    const boom = new Error('database down')
    let calls = 0
    const n = node()
    const ns = n.namespace('test', {
      load: async () => {
        calls++
        await gate.promise
        if (calls === 1) throw boom
        return 'recovered'
      },
    })
    const gets = Array.from({ length: 5 }, () => ns.get('k'))
    gate.resolve()
    const results = await settled(gets)
    for (const r of results) {
      expect(r.status).toBe('rejected')
      const err = (r as PromiseRejectedResult).reason
      expect(err).toBeInstanceOf(BurrowError)
      expect(err.code).toBe('BURROW_ERR_LOADER')
      expect(err.cause).toBe(boom)
      expect(err.key).toBe('k')
      expect(err.namespace).toBe('test')
    }
    expect(calls).toBe(1)
    expect(ns.peek('k')).toBeUndefined()
    expect(await ns.get('k')).toBe('recovered')
    expect(calls).toBe(2)
    expect(n.stats().namespaces['test']).toMatchObject({ localLoads: 2, localLoadErrors: 1 })
  })

  it('a loader that throws synchronously is reported the same way', async () => {
    const ns = node().namespace('test', {
      load: () => {
        throw new TypeError('sync')
      },
    })
    await expect(ns.get('k')).rejects.toMatchObject({
      code: 'BURROW_ERR_LOADER',
      cause: expect.any(TypeError),
    })
  })

  it('a loader may return any thenable: its value is cached, its rejection is a BURROW_ERR_LOADER', async () => {
    const boom = new Error('thenable failed')
    const ns = node().namespace('test', {
      load: (key) =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is the point
          then: (resolve: (v: string) => void, reject: (err: unknown) => void) =>
            key === 'bad' ? reject(boom) : resolve(`value of ${key}`),
        }) as unknown as Promise<string>,
    })
    expect(await ns.get('k')).toBe('value of k')
    expect(ns.peek('k')).toBe('value of k')
    await expect(ns.get('bad')).rejects.toMatchObject({ code: 'BURROW_ERR_LOADER', cause: boom })
  })

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { a: 1 }],
    ['a boolean', true],
  ])('a loader returning %s rejects with BURROW_ERR_BAD_VALUE and the node keeps working', async (_, bad) => {
    const n = node()
    const ns = n.namespace('test', { load: (key) => (key === 'bad' ? (bad as unknown as string) : 'ok') })
    await expect(ns.get('bad')).rejects.toMatchObject({ code: 'BURROW_ERR_BAD_VALUE', key: 'bad' })
    expect(ns.peek('bad')).toBeUndefined()
    expect(await ns.get('good')).toBe('ok')
    expect(n.stats().namespaces['test']!.localLoadErrors).toBe(1)
  })
})
