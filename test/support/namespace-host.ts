/**
 * A `NamespaceHost` for tests that drive a namespace without a node: one node's defaults (a
 * single-node ring, nothing asked of peers), each part replaceable.
 */
import { LoadGate } from '../../src/load-gate.ts'
import type { NamespaceHost } from '../../src/namespace/host.ts'

/** A host with `overrides` over defaults: this node owns every key, and peers are never asked. */
export function stubHost(overrides: Partial<NamespaceHost> = {}): NamespaceHost {
  const signal = overrides.signal ?? new AbortController().signal
  const node = overrides.node ?? { self: 'http://test:1' }
  return {
    node,
    signal,
    loads: new LoadGate(10, 10, signal, node),
    random: Math.random,
    now: Date.now,
    maxKeyBytes: 1024,
    otherPeers: () => [],
    suspect: () => {},
    remoteOwner: () => undefined,
    previousOwner: () => undefined,
    handedOff: () => {},
    owe: () => {},
    peek: () => Promise.resolve(undefined),
    fetchTo: (_peer, _namespace, _key, _signal, to) => queueMicrotask(() => to.failed(new Error('not used'))),
    store: () => Promise.resolve(),
    purge: () => Promise.resolve(),
    ...overrides,
  }
}
