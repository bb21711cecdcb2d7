import { afterEach, describe, expect, it } from 'vitest'
import { BurrowError } from '../src/index.ts'
import { closeAll, deferred, node } from './helpers.ts'

afterEach(closeAll)

describe('abort signals', () => {
  it("one caller's abort rejects only that caller; the others get the value from the one load", async () => {
    const gate = deferred<void>()
    let calls = 0
    let loaderSignal: AbortSignal | undefined
    const ns = node().namespace('test', {
      load: async (_key, { signal }) => {
        calls++
        loaderSignal = signal
        await gate.promise
        return 'v'
      },
    })
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const aborted = ns.get('k', { signal: controller.signal })
    const others = [ns.get('k'), ns.get('k', { signal: new AbortController().signal })]
    controller.abort(reason)
    await expect(aborted).rejects.toBe(reason)
    expect(loaderSignal?.aborted).toBe(false)
    gate.resolve()
    expect(await Promise.all(others)).toEqual(['v', 'v'])
    expect(calls).toBe(1)
    expect(ns.peek('k')).toBe('v')
  })

  it('a signal aborted before the get rejects at once, without loading', async () => {
    let calls = 0
    const ns = node().namespace('test', {
      load: () => {
        calls++
        return 'v'
      },
    })
    await expect(ns.get('k', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
    expect(calls).toBe(0)
  })

  it('a hit ignores the signal: the value is there already', async () => {
    const ns = node().namespace('test', { load: () => 'v' })
    await ns.get('k')
    expect(await ns.get('k', { signal: AbortSignal.abort() })).toBe('v')
  })
})

describe('close()', () => {
  it("aborts the loaders' signal and rejects their waiters with BURROW_ERR_CLOSED", async () => {
    let loaderSignal: AbortSignal | undefined
    const n = node()
    const ns = n.namespace('test', {
      load: (_key, { signal }) => {
        loaderSignal = signal
        return new Promise<string>(() => {}) // a loader that never settles by itself
      },
    })
    const get = ns.get('k')
    await Promise.resolve()
    await n.close()
    expect(loaderSignal?.aborted).toBe(true)
    await expect(get).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED' })
  })

  it('rejects the waiters of every load still running, also after loads started between them have finished', async () => {
    const loads = new Map<string, ReturnType<typeof deferred<string>>>()
    const n = node()
    const ns = n.namespace('test', {
      load: (key) => {
        const load = deferred<string>()
        loads.set(key, load)
        return load.promise
      },
    })
    const keys = ['a', 'b', 'c', 'd', 'e']
    const gets = keys.map((key) => ns.get(key))
    await Promise.resolve()
    expect([...loads.keys()]).toEqual(keys)
    // The first, a middle and the last load to start finish; the others never do.
    for (const key of ['a', 'c', 'e']) loads.get(key)!.resolve(`value of ${key}`)
    expect(await gets[0]).toBe('value of a')
    expect(await gets[2]).toBe('value of c')
    expect(await gets[4]).toBe('value of e')
    await n.close({ timeoutMs: 0 })
    await expect(gets[1]).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED', key: 'b' })
    await expect(gets[3]).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED', key: 'd' })
    expect(ns.peek('a')).toBe('value of a')
  })

  it('after close, misses reject with BURROW_ERR_CLOSED and new namespaces are refused', async () => {
    const n = node()
    const ns = n.namespace('test', { load: () => 'v' })
    await n.close()
    await n.close() // idempotent
    await expect(ns.get('k')).rejects.toBeInstanceOf(BurrowError)
    await expect(ns.get('k')).rejects.toMatchObject({ code: 'BURROW_ERR_CLOSED' })
    expect(() => n.namespace('other', { load: () => 'v' })).toThrow(
      expect.objectContaining({ code: 'BURROW_ERR_CLOSED' }),
    )
  })
})
