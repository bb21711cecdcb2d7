/**
 * Peer sources: where a node learns its peers when they are not a fixed list. `dnsPeers` and
 * `etcdPeers` (from `burrow/etcd`) implement {@link PeerSource}; anything else can too.
 *
 * A node starts its source in `listen()` (once `self` names the bound port) and stops it first
 * thing in `close()`. The source hands over whole peer lists; the node debounces them and swaps
 * its ring whole.
 *
 * @module
 */

/** What a node gives the source it starts. */
export interface PeerSourceContext {
  /** This node's peer id, as on the ring (after `listen()` on port 0, with the bound port). */
  readonly self: string
  /** Aborts when the node closes: a source stops waiting on anything then. */
  readonly signal: AbortSignal
  /**
   * Hands over the whole peer list as the source sees it now. Ids are parsed by the node
   * (`http://host:port`); this node is added if missing. A bad id is reported as an error and
   * left out, the others kept.
   */
  update(peers: readonly string[]): void
  /**
   * Reports a failure the source recovers from by itself (a lookup that failed, a lost
   * connection): the node emits it as `'peerSourceError'` and keeps its last list.
   */
  error(err: unknown): void
}

/** A running source, as `start` returns it. */
export interface PeerSubscription {
  /**
   * Stops watching and deregisters this node where the source registers nodes (etcd). Settles
   * within its own deadline; never rejects (failures go to `context.error`).
   */
  stop(): Promise<void>
}

/**
 * A source of peers. One object may be started by several nodes: each `start` is independent.
 *
 * @example
 * const fixed: PeerSource = {
 *   name: 'fixed',
 *   async start(context) {
 *     context.update(['http://10.0.0.1:5001', 'http://10.0.0.2:5001'])
 *     return { stop: async () => {} }
 *   },
 * }
 */
export interface PeerSource {
  /** Names the source in errors and stats, e.g. `dns cache.svc.cluster.local:5001`. */
  readonly name: string
  /**
   * How long the node waits after a list before applying it, so a burst of changes rebuilds the
   * ring once. @default 100
   */
  readonly debounceMs?: number
  /**
   * Starts watching. Resolves once the source has handed over its first list, or has tried and
   * reported why not (a node then starts alone and joins as lists arrive). Rejects only when the
   * node must not run (e.g. it cannot register itself): `listen()` then fails.
   */
  start(context: PeerSourceContext): Promise<PeerSubscription>
}

/** Whether `value` looks like a {@link PeerSource} (an object with a `start` function). */
export function isPeerSource(value: unknown): value is PeerSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as PeerSource).start === 'function'
  )
}
