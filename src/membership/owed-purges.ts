/**
 * Owed purges: the purges a peer missed because it could not be reached (down, frozen, cut off),
 * kept so that they reach it when it answers again. Without them a node that comes back from a
 * partition would go on serving the copies that writes made meanwhile should have dropped.
 *
 * Bounded: past `maxPerPeer` keys for one peer, the peer owes a flush of the whole namespace
 * instead, and its keys there are forgotten.
 *
 * @module
 */
import { channels, type PublishingNode } from '../diagnostics.ts'

/** What one peer is owed in one namespace: some keys, or a flush of all of them. */
export type Owed = { namespace: string; keys: string[] } | { namespace: string; all: true }

/** The purges owed to each peer. */
export class OwedPurges {
  readonly #maxPerPeer: number
  /** peer → namespace → the keys owed, or `'all'` once they overflowed. */
  readonly #owed = new Map<string, Map<string, Set<string> | 'all'>>()
  /** peer → keys owed (flushes not counted). */
  readonly #counts = new Map<string, number>()

  constructor(maxPerPeer: number) {
    this.#maxPerPeer = maxPerPeer
  }

  /** Keys owed in all, flushes counting one each. */
  get size(): number {
    let size = 0
    for (const byNamespace of this.#owed.values())
      for (const keys of byNamespace.values()) size += keys === 'all' ? 1 : keys.size
    return size
  }

  /** The peers that are owed something. */
  peers(): string[] {
    return [...this.#owed.keys()]
  }

  /** `peer` missed the purge of `key` in `namespace`. */
  record(peer: string, namespace: string, key: string): void {
    let byNamespace = this.#owed.get(peer)
    if (byNamespace === undefined) {
      byNamespace = new Map()
      this.#owed.set(peer, byNamespace)
    }
    const keys = byNamespace.get(namespace)
    if (keys === 'all') return
    if (keys === undefined) byNamespace.set(namespace, new Set([key]))
    else if (!keys.has(key)) keys.add(key)
    else return
    const count = (this.#counts.get(peer) ?? 0) + 1
    this.#counts.set(peer, count)
    if (count > this.#maxPerPeer) this.#overflow(peer, namespace)
  }

  /** `peer` missed a flush of `namespace` (or a flush could not be delivered). */
  recordFlush(peer: string, namespace: string): void {
    if (!this.#owed.has(peer)) this.#owed.set(peer, new Map())
    this.#overflow(peer, namespace)
  }

  /** Everything `peer` is owed, forgotten here: the caller delivers it, or records what failed again. */
  take(peer: string): Owed[] {
    const byNamespace = this.#owed.get(peer)
    this.forget(peer)
    if (byNamespace === undefined) return []
    return [...byNamespace].map(([namespace, keys]) =>
      keys === 'all' ? { namespace, all: true } : { namespace, keys: [...keys] },
    )
  }

  /** Forgets what `peer` is owed (it left the peer set). */
  forget(peer: string): void {
    this.#owed.delete(peer)
    this.#counts.delete(peer)
  }

  /** Replaces the keys owed to `peer` in `namespace` by a flush of it. */
  #overflow(peer: string, namespace: string): void {
    const byNamespace = this.#owed.get(peer)!
    const keys = byNamespace.get(namespace)
    if (keys instanceof Set) this.#counts.set(peer, (this.#counts.get(peer) ?? 0) - keys.size)
    byNamespace.set(namespace, 'all')
  }
}

/** What delivering owed purges needs from the node. */
export interface OwedPurgesHost {
  /** The node, as named in diagnostics messages. */
  readonly node: PublishingNode
  purge(peer: string, namespace: string, key: string): Promise<void>
  flush(peer: string, namespace: string): Promise<void>
  /** Whether `peer` is known to be down now (it is then not tried until it comes back). */
  isDown(peer: string): boolean
  /** Whether `peer` is in the peer set: nothing is owed to a peer that left it. */
  isMember(peer: string): boolean
}

/** How often owed purges are tried again for peers that are not known to be down. */
const RETRY_MS = 1000

/**
 * Delivers owed purges: at once to a peer that comes back, and every second to peers that are
 * owed something and not known to be down (a purge can fail without its peer being marked down).
 * What fails again is owed again.
 */
export class PurgeDelivery {
  readonly owed: OwedPurges
  readonly #host: OwedPurgesHost
  readonly #delivering = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(host: OwedPurgesHost, maxPerPeer: number) {
    this.#host = host
    this.owed = new OwedPurges(maxPerPeer)
  }

  /** `peer` missed the purge of `key` in `namespace`. */
  record(peer: string, namespace: string, key: string): void {
    if (this.#stopped || !this.#host.isMember(peer)) return
    this.owed.record(peer, namespace, key)
    if (channels.purgeOwed.hasSubscribers)
      channels.purgeOwed.publish({ node: this.#host.node, peer, namespace, key })
    this.#schedule()
  }

  /** A flush of `namespace` could not be delivered to `peer`. */
  #recordFlush(peer: string, namespace: string): void {
    if (this.#stopped || !this.#host.isMember(peer)) return
    this.owed.recordFlush(peer, namespace)
  }

  /** `peer` answers again: deliver what it is owed now. */
  peerUp(peer: string): void {
    void this.#deliver(peer)
  }

  /** Stops for good (the node is closing); what is still owed is dropped. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#stopped) return
    this.#timer = setInterval(() => {
      const peers = this.owed.peers()
      if (peers.length === 0) {
        clearInterval(this.#timer)
        this.#timer = undefined
        return
      }
      for (const peer of peers) if (!this.#host.isDown(peer)) void this.#deliver(peer)
    }, RETRY_MS)
    this.#timer.unref()
  }

  async #deliver(peer: string): Promise<void> {
    if (this.#stopped || this.#delivering.has(peer)) return
    const owed = this.owed.take(peer)
    if (owed.length === 0) return
    this.#delivering.add(peer)
    const tally = { purges: 0, flushes: 0, failed: 0 }
    try {
      await Promise.all(
        owed.map(async (debt) => {
          if ('all' in debt) {
            await this.#host.flush(peer, debt.namespace).then(
              () => tally.flushes++,
              () => {
                tally.failed++
                this.#recordFlush(peer, debt.namespace)
              },
            )
            return
          }
          await Promise.all(
            debt.keys.map((key) =>
              this.#host.purge(peer, debt.namespace, key).then(
                () => tally.purges++,
                () => {
                  tally.failed++
                  this.record(peer, debt.namespace, key)
                },
              ),
            ),
          )
        }),
      )
    } finally {
      this.#delivering.delete(peer)
    }
    if (channels.purgeDelivered.hasSubscribers)
      channels.purgeDelivered.publish({ node: this.#host.node, peer, ...tally })
    if (this.owed.peers().includes(peer)) this.#schedule()
  }
}
