/**
 * Liveness: which peers answer. Every `intervalMs` the node pings up to `maxProbes` of its peers,
 * taking turns, never two probes to one peer at once. A failed probe is tried again at once; two
 * failures in a row mark the peer down, and one answer brings it back. A failed request to a
 * peer (reported by the read path) starts a probe at once, so traffic speeds detection.
 *
 * With the defaults (500 ms, 1,000 ms probe deadline) a peer that dies (connections refused) is
 * down within about one interval, and a frozen one (nothing answers) within interval + 2 probe
 * deadlines, 2.5 s: inside the 3 s of DESIGN.md §4.2. That holds while every peer is probed each
 * interval, i.e. up to `maxProbes` peers; beyond, each peer's turn comes every
 * ceil(peers / maxProbes) intervals (probing stays bounded; SWIM-style indirect probes are for later).
 *
 * @module
 */

/** Options of liveness probing (`new Burrow({ liveness })`). */
export interface LivenessOptions {
  /** How often probes are sent, in ms. @default 500 */
  intervalMs?: number
  /** How long a probe waits for its answer, in ms. @default 1000 */
  timeoutMs?: number
  /** The most peers probed per interval. @default 8 */
  maxProbes?: number
}

/** What the prober needs from its node. */
export interface LivenessHost {
  /** Resolves when `peer` answers within `timeoutMs`; rejects otherwise. */
  ping(peer: string, timeoutMs: number): Promise<void>
  /** Called after a peer went down or came back, with the set of peers down now. */
  changed(down: ReadonlySet<string>): void
  /** `peer` failed its probes and is down now (not called for a peer that said it leaves). */
  unreachable(peer: string): void
}

/** Probes one node's peers. */
export class Liveness {
  #host: LivenessHost
  #intervalMs: number
  #timeoutMs: number
  #maxProbes: number
  #peers: string[] = []
  #next = 0
  #down = new Set<string>()
  #failures = new Map<string, number>()
  #probing = new Set<string>()
  /** Bumped when a peer says it leaves: an answer to a probe sent before then does not count. */
  #leaves = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(host: LivenessHost, options: Required<LivenessOptions>) {
    this.#host = host
    this.#intervalMs = options.intervalMs
    this.#timeoutMs = options.timeoutMs
    this.#maxProbes = options.maxProbes
  }

  /** The peers down now. */
  get down(): ReadonlySet<string> {
    return this.#down
  }

  /** The peers to watch (this node excluded). Forgets what it knew of peers no longer listed. */
  watch(peers: readonly string[]): void {
    this.#peers = [...peers]
    const listed = new Set(peers)
    let changed = false
    for (const peer of this.#down) {
      if (!listed.has(peer)) changed = this.#down.delete(peer) || changed
    }
    for (const peer of this.#failures.keys()) if (!listed.has(peer)) this.#failures.delete(peer)
    for (const peer of this.#leaves.keys()) if (!listed.has(peer)) this.#leaves.delete(peer)
    if (changed) this.#host.changed(this.#down)
    if (this.#peers.length === 0) this.#clearTimer()
    else if (this.#timer === undefined && !this.#stopped) {
      this.#timer = setInterval(() => this.#round(), this.#intervalMs)
      // Probing alone must not keep a process alive.
      this.#timer.unref()
    }
  }

  /** A request to `peer` failed as if it were unreachable: probe it now. */
  suspect(peer: string): void {
    if (!this.#stopped && this.#peers.includes(peer)) this.#probe(peer)
  }

  /**
   * `peer` said it is leaving: it is down at once, and up again only when a probe sent from now
   * on is answered (a leaving node fails probes until it has closed and started again).
   */
  left(peer: string): void {
    if (this.#stopped || !this.#peers.includes(peer)) return
    this.#leaves.set(peer, (this.#leaves.get(peer) ?? 0) + 1)
    this.#failures.delete(peer)
    if (this.#down.has(peer)) return
    this.#down.add(peer)
    this.#host.changed(this.#down)
  }

  /** Stops probing for good (the node is closing). */
  stop(): void {
    this.#stopped = true
    this.#clearTimer()
  }

  #round(): void {
    const count = Math.min(this.#maxProbes, this.#peers.length)
    for (let i = 0; i < count; i++) {
      this.#next = (this.#next + 1) % this.#peers.length
      this.#probe(this.#peers[this.#next]!)
    }
  }

  #probe(peer: string): void {
    if (this.#probing.has(peer)) return
    this.#probing.add(peer)
    const leaves = this.#leaves.get(peer)
    this.#host.ping(peer, this.#timeoutMs).then(
      () => {
        this.#probing.delete(peer)
        if (this.#leaves.get(peer) !== leaves) return // answered before it said it was leaving
        this.#failures.delete(peer)
        if (this.#down.delete(peer) && !this.#stopped) this.#host.changed(this.#down)
      },
      () => {
        this.#probing.delete(peer)
        if (this.#stopped || !this.#peers.includes(peer)) return
        const failures = (this.#failures.get(peer) ?? 0) + 1
        this.#failures.set(peer, failures)
        if (failures === 1) return this.#probe(peer) // once more, at once: one lost probe is not death
        if (!this.#down.has(peer)) {
          this.#down.add(peer)
          this.#host.changed(this.#down)
          this.#host.unreachable(peer)
        }
      },
    )
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
