/**
 * Remote flights, seen through a host whose peer client the test drives by hand: the gets of a
 * key owned elsewhere share one ask of the owner, whatever the ask ends with (an answer, the
 * owner's error, a fallback load here), and an ask that nobody waits on by value (a refresh)
 * leaves no rejection unhandled.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import type { NamespaceHost } from '../src/namespace/host.ts'
import { createNamespace } from '../src/namespace/namespace.ts'
import type { Receiver } from '../src/transport/client/transport.ts'
import type { Answer } from '../src/transport/served.ts'
import { stubHost } from './support/namespace-host.ts'

const OWNER = 'http://owner:1'

/** A host whose ring puts every key on OWNER, and whose asks wait until the test settles them. */
function askingHost(): {
  host: NamespaceHost
  asks: { key: string; to: Receiver<Answer> }[]
  ring: { owner: string | undefined }
} {
  const asks: { key: string; to: Receiver<Answer> }[] = []
  /** The owner of every key: OWNER, or this node (undefined). */
  const ring: { owner: string | undefined } = { owner: OWNER }
  const host = stubHost({
    random: () => 0,
    otherPeers: () => [OWNER],
    remoteOwner: () => ring.owner,
    fetchTo: (_peer, _namespace, key, _signal, to) => {
      asks.push({ key, to })
    },
  })
  return { host, asks, ring }
}

/** Rejections no one handled while a test ran. */
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}
process.on('unhandledRejection', onUnhandled)
afterEach(() => {
  unhandled.length = 0
})
afterAll(() => {
  process.off('unhandledRejection', onUnhandled)
})

function unreachable(): BurrowError {
  return new BurrowError('BURROW_ERR_PEER_UNAVAILABLE', 'peer http://owner:1 is unavailable: test')
}

/** Lets every settled promise run its reactions, and an unhandled rejection be reported. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 10))
}

describe('remote flights', () => {
  it('asks the owner once for a key; the get that asked and the gets that joined all get the value', async () => {
    const { host, asks } = askingHost()
    const plain = createNamespace<string>(host, 'plain', { load: () => 'never', hot: false }).namespace
    const json = createNamespace<{ n: number }>(host, 'json', {
      load: () => ({ n: 0 }),
      codec: 'json',
      hot: false,
    }).namespace
    const gets = [plain.get('k'), plain.get('k'), plain.get('k', { signal: new AbortController().signal })]
    const decoded = [json.get('k'), json.get('k')]
    expect(asks.map((a) => a.key)).toEqual(['k', 'k'])
    asks[0]!.to.answered({ value: 'from the owner', ttlMs: 1000 })
    asks[1]!.to.answered({ value: '{"n":7}', ttlMs: 1000 })
    expect(await Promise.all(gets)).toEqual(['from the owner', 'from the owner', 'from the owner'])
    expect(await Promise.all(decoded)).toEqual([{ n: 7 }, { n: 7 }])
    expect(plain.stats()).toMatchObject({ peerLoads: 1, loadsDeduped: 2 })
    // The flight ended: the next get asks again.
    const again = plain.get('k')
    expect(asks).toHaveLength(3)
    asks[2]!.to.answered({ value: undefined, ttlMs: 1000 })
    expect(await again).toBeUndefined()
  })

  it("rejects the get that asked and every get that joined with the owner's error", async () => {
    const { host, asks } = askingHost()
    const ns = createNamespace<string>(host, 'test', { load: () => 'never', hot: false }).namespace
    const gets = [ns.get('k'), ns.get('k')].map((get) =>
      get.then(
        () => 'resolved',
        (err: BurrowError) => err.code,
      ),
    )
    asks[0]!.to.failed(new BurrowError('BURROW_ERR_LOADER', 'the loader failed on the owner'))
    expect(await Promise.all(gets)).toEqual(['BURROW_ERR_LOADER', 'BURROW_ERR_LOADER'])
    await settle()
    expect(unhandled).toEqual([])
  })

  it('answers every waiter from a load here when the owner cannot be reached (peerFallback)', async () => {
    const { host, asks } = askingHost()
    let loads = 0
    const ns = createNamespace<string>(host, 'test', {
      load: (key: string) => {
        loads++
        return `loaded ${key} here`
      },
      hot: false,
    }).namespace
    const gets = [ns.get('k'), ns.get('k')]
    asks[0]!.to.failed(unreachable())
    expect(await Promise.all(gets)).toEqual(['loaded k here', 'loaded k here'])
    expect(loads).toBe(1)
    expect(ns.stats()).toMatchObject({ fallbackLoads: 1, peerErrors: 1 })
  })

  it("handles the client's news of a failure after the client's call returned, not inside it", async () => {
    const { host, asks } = askingHost()
    const ns = createNamespace<string>(host, 'test', { load: () => 'loaded here', hot: false }).namespace
    const get = ns.get('k')
    asks[0]!.to.failed(unreachable())
    // Inside the client's call (a socket's read, a connection closing) nothing has run yet.
    expect(ns.stats()).toMatchObject({ peerErrors: 0, fallbackLoads: 0 })
    expect(await get).toBe('loaded here')
    expect(ns.stats()).toMatchObject({ peerErrors: 1, fallbackLoads: 1 })
  })

  it('lets a get that comes while the fallback load runs join it', async () => {
    const { host, asks } = askingHost()
    let release: (value: string) => void = () => {}
    let loads = 0
    const ns = createNamespace<string>(host, 'test', {
      load: () => {
        loads++
        return new Promise<string>((resolve) => {
          release = resolve
        })
      },
      hot: false,
    }).namespace
    const first = ns.get('k')
    asks[0]!.to.failed(unreachable())
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(loads).toBe(1)
    // The owner's flight stays in the table while the load here runs: this get joins it.
    const second = ns.get('k')
    expect(asks).toHaveLength(1)
    release('loaded here')
    expect(await Promise.all([first, second])).toEqual(['loaded here', 'loaded here'])
    expect(loads).toBe(1)
  })

  it('leaves no rejection unhandled when a refresh asks the owner and fails', async () => {
    const { host, asks, ring } = askingHost()
    const ns = createNamespace<string>(host, 'test', {
      load: () => 'loaded here',
      ttl: 20,
      staleTtl: 60_000,
      peerFallback: false,
    }).namespace
    // Loaded while this node owned the key; then the key moved, and the copy went stale here.
    ring.owner = undefined
    expect(await ns.get('k')).toBe('loaded here')
    ring.owner = OWNER
    await new Promise((resolve) => setTimeout(resolve, 40))
    // The stale copy at once, and one refresh, which asks the new owner.
    expect(await ns.get('k')).toBe('loaded here')
    expect(asks.map((a) => a.key)).toEqual(['k'])
    asks[0]!.to.failed(unreachable())
    await settle()
    expect(unhandled).toEqual([])
    expect(ns.stats()).toMatchObject({ refreshes: 1, refreshErrors: 1, staleHits: 1 })
  })
})
