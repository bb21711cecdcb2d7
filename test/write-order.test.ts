/**
 * The order of a write's messages, seen by a recording host: a delete reaches the owner before
 * any other node (a node purged first could fetch the old value from the owner again and keep
 * it), and a set stores on the owner before purging the rest.
 */
import { describe, expect, it } from 'vitest'
import type { NamespaceHost } from '../src/namespace/host.ts'
import { createNamespace } from '../src/namespace/namespace.ts'
import { stubHost } from './support/namespace-host.ts'

/** A host whose ring puts every key on `owner`, and which records each peer message as it completes. */
function recordingHost(owner: string, others: string[]): { host: NamespaceHost; log: string[] } {
  const log: string[] = []
  // Each message completes after a delay: the owner's slowest, so ordering is not luck.
  const later = (ms: number, line: string) =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        log.push(line)
        resolve()
      }, ms),
    )
  const host = stubHost({
    otherPeers: () => [owner, ...others],
    remoteOwner: () => owner,
    store: (peer) => later(peer === owner ? 30 : 1, `store ${peer}`),
    purge: (peer) => later(peer === owner ? 30 : 1, `purge ${peer}`),
  })
  return { host, log }
}

describe('the order of a write', () => {
  it('delete purges the owner first, then every other node', async () => {
    const { host, log } = recordingHost('http://owner:1', ['http://b:1', 'http://c:1'])
    const { namespace } = createNamespace(host, 'test', { load: () => 'v' })
    expect(await namespace.delete('k')).toEqual({ unreachable: [] })
    expect(log[0]).toBe('purge http://owner:1')
    expect(log.slice(1).sort()).toEqual(['purge http://b:1', 'purge http://c:1'])
  })

  it('set stores on the owner first, then purges every other node but the owner', async () => {
    const { host, log } = recordingHost('http://owner:1', ['http://b:1', 'http://c:1'])
    const { namespace } = createNamespace(host, 'test', { load: () => 'v' })
    await namespace.set('k', 'new')
    expect(log[0]).toBe('store http://owner:1')
    expect(log.slice(1).sort()).toEqual(['purge http://b:1', 'purge http://c:1'])
  })
})
