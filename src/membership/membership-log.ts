/**
 * The recent membership events of one node, for the dashboard: ring changes, peers found down and
 * back, kept in a small bounded buffer. Fed by the diagnostics channels `burrow:ring`,
 * `burrow:peer.down` and `burrow:peer.up` while the node listens; those are published only when
 * membership changes, so nothing here runs on the read path.
 *
 * @module
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  diagnosticsChannels,
  type PeerDownMessage,
  type PeerUpMessage,
  type PublishingNode,
  type RingMessage,
} from '../diagnostics.ts'

/** One membership event, as `GET /_burrow/ring` lists it. `at`: milliseconds since the epoch. */
export type MembershipEvent =
  | { at: number; type: 'listen'; peers: string[] }
  | { at: number; type: 'ring'; peers: number; added: string[]; removed: string[] }
  | { at: number; type: 'peer.down'; peer: string; reason: 'unreachable' | 'left' }
  | { at: number; type: 'peer.up'; peer: string }

/** How many events a log keeps: the oldest go first. */
export const MEMBERSHIP_LOG_SIZE = 100

/** A bounded log of one node's membership events, subscribed from {@link start} to {@link stop}. */
export class MembershipLog {
  readonly #node: PublishingNode
  readonly #now: () => number
  readonly #capacity: number
  /** A circular buffer: `#next` is where the next event goes, `#count` how many are held. */
  readonly #events: (MembershipEvent | undefined)[]
  #next = 0
  #count = 0
  #subscribed = false

  constructor(node: PublishingNode, options: { now?: () => number; capacity?: number } = {}) {
    this.#node = node
    this.#now = options.now ?? Date.now
    this.#capacity = options.capacity ?? MEMBERSHIP_LOG_SIZE
    this.#events = new Array(this.#capacity)
  }

  /** Subscribes to the membership channels, and records that the node listens with `peers`. */
  start(peers: readonly string[]): void {
    if (this.#subscribed) return
    this.#subscribed = true
    subscribe(diagnosticsChannels.ring, this.#onRing)
    subscribe(diagnosticsChannels.peerDown, this.#onDown)
    subscribe(diagnosticsChannels.peerUp, this.#onUp)
    this.#push({ at: this.#now(), type: 'listen', peers: [...peers] })
  }

  /** Unsubscribes; the events recorded stay readable. */
  stop(): void {
    if (!this.#subscribed) return
    this.#subscribed = false
    unsubscribe(diagnosticsChannels.ring, this.#onRing)
    unsubscribe(diagnosticsChannels.peerDown, this.#onDown)
    unsubscribe(diagnosticsChannels.peerUp, this.#onUp)
  }

  /** The events held, oldest first (a fresh array). */
  events(): MembershipEvent[] {
    const out: MembershipEvent[] = []
    const first = (this.#next - this.#count + this.#capacity) % this.#capacity
    for (let i = 0; i < this.#count; i++) out.push(this.#events[(first + i) % this.#capacity]!)
    return out
  }

  #push(event: MembershipEvent): void {
    this.#events[this.#next] = event
    this.#next = (this.#next + 1) % this.#capacity
    if (this.#count < this.#capacity) this.#count++
  }

  // Channels are process-wide: each handler keeps only its own node's messages.
  readonly #onRing = (message: unknown): void => {
    const m = message as RingMessage
    if (m.node !== this.#node) return
    this.#push({ at: this.#now(), type: 'ring', peers: m.peers.length, added: m.added, removed: m.removed })
  }

  readonly #onDown = (message: unknown): void => {
    const m = message as PeerDownMessage
    if (m.node === this.#node)
      this.#push({ at: this.#now(), type: 'peer.down', peer: m.peer, reason: m.reason })
  }

  readonly #onUp = (message: unknown): void => {
    const m = message as PeerUpMessage
    if (m.node === this.#node) this.#push({ at: this.#now(), type: 'peer.up', peer: m.peer })
  }
}
