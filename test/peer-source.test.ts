import { afterEach, describe, expect, it } from 'vitest'
import type { BurrowError, PeerSource, PeerSourceContext } from '../src/index.ts'
import { closeAll, deferred, node, ringWhere, sleep, thrownBy } from './helpers.ts'

afterEach(closeAll)

/** A source driven by the test: it records its context and whether it was stopped. */
function manualSource(initial: string[], debounceMs = 30) {
  const state: { context?: PeerSourceContext; stops: number; starts: number } = { stops: 0, starts: 0 }
  const source: PeerSource = {
    name: 'manual',
    debounceMs,
    async start(context) {
      state.starts++
      state.context = context
      context.update(initial)
      return {
        stop: async () => {
          state.stops++
        },
      }
    },
  }
  return { source, state }
}

describe('a node whose peers come from a source', () => {
  it('is alone until listen(), then has the first list at once, with itself added', async () => {
    const { source, state } = manualSource(['http://127.0.0.1:1', 'http://127.0.0.1:2/'])
    const n = node({ self: 'http://127.0.0.1:0', peers: source, liveness: false })
    expect(n.peers).toEqual([n.self])
    await n.listen()
    expect(state.context?.self).toBe(n.self)
    expect([...n.peers].sort()).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2', n.self].sort())
  })

  it('debounces later lists: a burst rebuilds the ring once, with the last list', async () => {
    const { source, state } = manualSource(['http://127.0.0.1:1'])
    const n = node({ peers: source, liveness: false })
    await n.listen()
    const events: (readonly string[])[] = []
    n.on('peers', (peers) => events.push(peers))
    state.context!.update(['http://127.0.0.1:1', 'http://127.0.0.1:2'])
    state.context!.update(['http://127.0.0.1:3'])
    state.context!.update(['http://127.0.0.1:3', 'http://127.0.0.1:4'])
    expect(events).toEqual([])
    await ringWhere(n, (peers) => peers.includes('http://127.0.0.1:4'))
    await sleep(60)
    expect(events).toEqual([[n.self, 'http://127.0.0.1:3', 'http://127.0.0.1:4'].sort()])
  })

  it('reports a bad id in a list as peerSourceError and keeps the good ones', async () => {
    const { source } = manualSource(['http://127.0.0.1:1', 'not a url', 'http://127.0.0.1'])
    const n = node({ peers: source, liveness: false })
    const errors: BurrowError[] = []
    n.on('peerSourceError', (err) => errors.push(err))
    await n.listen()
    expect(errors.map((e) => e.code)).toEqual(['BURROW_ERR_PEER_SOURCE', 'BURROW_ERR_PEER_SOURCE'])
    expect(errors[0]!.message).toContain('manual')
    expect([...n.peers].sort()).toEqual(['http://127.0.0.1:1', n.self].sort())
  })

  it('reports errors the source recovers from without changing the ring', async () => {
    const { source, state } = manualSource(['http://127.0.0.1:1'])
    const n = node({ peers: source, liveness: false })
    await n.listen()
    const before = n.peers
    const got = deferred<BurrowError>()
    n.on('peerSourceError', got.resolve)
    state.context!.error(new Error('lookup failed'))
    const err = await got.promise
    expect(err.code).toBe('BURROW_ERR_PEER_SOURCE')
    expect((err.cause as Error).message).toBe('lookup failed')
    expect(n.peers).toEqual(before)
  })

  it('refuses setPeers, which the source would overwrite', async () => {
    const { source } = manualSource([])
    const n = node({ peers: source, liveness: false })
    expect(thrownBy(() => n.setPeers(['http://127.0.0.1:1'])).code).toBe('BURROW_ERR_PEER_SOURCE')
  })

  it('fails listen() with BURROW_ERR_PEER_SOURCE when the source cannot start, and frees the port', async () => {
    const failing: PeerSource = {
      name: 'broken',
      start: async () => {
        throw new Error('cannot register')
      },
    }
    const n = node({ self: 'http://127.0.0.1:0', peers: failing, liveness: false })
    const err = (await n.listen().catch((e: unknown) => e)) as BurrowError
    expect(err.code).toBe('BURROW_ERR_PEER_SOURCE')
    expect(err.message).toContain('cannot register')
    expect(n.stats().listening).toBe(false)
  })

  it('stops the source first in close(), and ignores its lists afterwards', async () => {
    const { source, state } = manualSource(['http://127.0.0.1:1'], 0)
    const n = node({ peers: source, liveness: false })
    await n.listen()
    await n.close()
    expect(state.stops).toBe(1)
    const before = n.peers
    state.context!.update(['http://127.0.0.1:9'])
    await sleep(10)
    expect(n.peers).toEqual(before)
    expect(state.context!.signal.aborted).toBe(true)
  })

  it('stops a subscription that arrives after close() began, and listen() rejects with BURROW_ERR_CLOSED', async () => {
    const starting = deferred<void>()
    let stops = 0
    const slow: PeerSource = {
      name: 'slow',
      async start(context) {
        await starting.promise
        context.update([])
        return {
          stop: async () => {
            stops++
          },
        }
      },
    }
    const gate = deferred<void>()
    const n = node({ peers: slow, liveness: false })
    const ns = n.namespace('test', { load: async (key) => gate.promise.then(() => key) })
    const listening = n.listen().then(
      () => 'listening',
      (err: BurrowError) => err.code,
    )
    await sleep(20) // the port is bound; the source is starting
    const get = ns.get('k') // a load in flight keeps close() draining
    const closing = n.close()
    starting.resolve() // the source is up only now, during the drain
    expect(await listening).toBe('BURROW_ERR_CLOSED')
    expect(stops).toBe(1)
    gate.resolve()
    expect(await get).toBe('k')
    await closing
  })

  it('close() does not wait past its timeoutMs for a source whose stop() never settles', async () => {
    const stuck: PeerSource = {
      name: 'stuck',
      async start(context) {
        context.update([])
        return { stop: () => new Promise<void>(() => {}) }
      },
    }
    const n = node({ peers: stuck, liveness: false })
    await n.listen()
    // The test's own timeout fails it if close() waits for stop().
    await n.close({ timeoutMs: 100 })
    expect(n.stats().listening).toBe(false)
  })

  it('rejects an options.peers that is neither a list nor a source', () => {
    expect(thrownBy(() => node({ peers: { name: 'x' } as unknown as PeerSource })).code).toBe(
      'BURROW_ERR_BAD_OPTION',
    )
  })
})
