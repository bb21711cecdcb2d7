/**
 * Burrow: one node of a cluster. It holds the namespaces, the ring that names each key's owner,
 * the client that asks owners, and the server that answers other nodes.
 *
 * @module
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ConnectionOptions, TlsOptions } from 'node:tls'
import type { StoredValue, ValueKind } from './codec.ts'
import { channels } from './diagnostics.ts'
import { BurrowError, describe } from './errors.ts'
import { LoadGate } from './load-gate.ts'
import { type Logger, loggerOption, subscribeLogger } from './logger.ts'
import { MaglevRing } from './maglev-ring.ts'
import { Liveness, type LivenessHost, type LivenessOptions } from './membership/liveness.ts'
import { MembershipLog } from './membership/membership-log.ts'
import { PurgeDelivery } from './membership/owed-purges.ts'
import { canonicalPeerId, peerAddress, withPort } from './membership/peer-id.ts'
import { isPeerSource, type PeerSource, type PeerSubscription } from './membership/source.ts'
import type { NamespaceHost } from './namespace/host.ts'
import { createNamespace, type Namespace } from './namespace/namespace.ts'
import { checkNamespaceName, type NamespaceOptions } from './namespace/options.ts'
import type { NamespaceStats } from './namespace/stats.ts'
import { functionOption, integerOption, objectOption, onlyKnownOptions } from './options.ts'
import { type HashFunction, Ring, type RingLike } from './ring.ts'
import { type AuthOptions, type Secrets, secretsOption } from './security/secrets.ts'
import type { BurrowStats } from './stats.ts'
import { BusyPoll, type BusyPollCounters } from './transport/busy-poll.ts'
import { GroupcacheClient } from './transport/client/groupcache-client.ts'
import { PeerClient } from './transport/client/peer-client.ts'
import type { PeerTransport } from './transport/client/transport.ts'
import { ADMIN_PREFIX, createAdminHandler, type RingReport } from './transport/http/admin.ts'
import { createHttpHandler } from './transport/http/route.ts'
import type { ServedNamespace } from './transport/served.ts'
import { NodeServer, type ServerStats } from './transport/server/node-server.ts'

/** A source of time, in milliseconds since the epoch. Injectable so TTLs can be tested without sleeping. */
export interface Clock {
  now(): number
}

/** Options of `new Burrow(options)`. */
export interface BurrowOptions {
  /**
   * This node's peer id: its base URL, e.g. `http://10.0.0.2:5001`, hashed onto the ring and used
   * by other nodes to reach it. Port 0 picks a free port at `listen()`, and the id changes to it.
   * @default 'http://127.0.0.1:0'
   */
  self?: string
  /**
   * Every node of the cluster, this one included (it is added if missing); or a source that
   * finds them and follows changes: `dnsPeers(...)`, `etcdPeers(...)` from `burrow/etcd`, or
   * any {@link PeerSource}. A source starts in `listen()`; until then the node is alone.
   * @default [self]
   */
  peers?: readonly string[] | PeerSource
  /**
   * How keys are spread over the peers. `'groupcache'`: golang/groupcache's consistent-hash ring
   * exactly (crc32, `replicas` virtual nodes per peer), so Go groupcache nodes agree on owners;
   * the busiest peer owns 1.1–1.8× the mean share of keys (3 to 1,000 peers). `'maglev'`: a
   * lookup table (see {@link MaglevRing}) where every peer owns the same share to within 1%, and
   * lookups are faster; a peer joining or leaving moves a little more than its share of keys.
   * **Every node of a cluster must use the same ring**, or they disagree on owners (a cost in
   * duplicate loads, never a wrong value).
   * @default 'groupcache'
   */
  ring?: 'groupcache' | 'maglev'
  /** Virtual nodes per peer on the `'groupcache'` ring (the `'maglev'` ring has none). @default 50 (golang/groupcache's) */
  replicas?: number
  /** The ring's hash, over a key's UTF-8 bytes, returning an unsigned 32-bit integer. @default crc32 IEEE */
  hash?: HashFunction
  /** The longest key accepted, in UTF-8 bytes. @default 1024 */
  maxKeyBytes?: number
  /** The deadline of one request to a peer, in milliseconds. @default 3000 */
  peerTimeoutMs?: number
  /**
   * How peers are asked for keys. `'resp'`: burrow's own protocol over RESP (pipelined, with
   * TTLs, writes, liveness and hand-off). `'groupcache'`: golang/groupcache's HTTP request, `GET
   * /_groupcache/{namespace}/{key}`, so the node can sit in a ring of Go groupcache nodes (every
   * node serves that route whatever this option says). groupcache's protocol has no writes and no
   * cache-only ask: `set` and `delete` act on this node only and report every other peer as
   * unreachable (a `set` of a key another node owns rejects), warm hand-off is off, and liveness
   * probes are `GET /_groupcache/`. See docs/groupcache.md.
   * @default 'resp'
   */
  protocol?: 'resp' | 'groupcache'
  /**
   * Connections kept to each peer. Over RESP requests are pipelined, each on the connection with
   * the fewest in flight, so a few suffice; over groupcache's HTTP/1.1 each request in flight
   * holds one, so this bounds the requests in flight to a peer (more wait for a connection,
   * within their deadline).
   * @default 2 (`'resp'`), 32 (`'groupcache'`)
   */
  connectionsPerPeer?: number
  /** The largest frame accepted on the wire, in bytes (values larger than this cannot travel). @default 33554432 (32 MiB) */
  maxFrameBytes?: number
  /**
   * Busy polling, in microseconds: when the node's sockets (its RESP port and its RESP connections
   * to peers) read again within this long of their last read, the event loop keeps polling them
   * until none has read or written anything for this long, rather than sleeping. A peer writing to a node
   * that polls pays no wake-up; a remote get under load gains ~25-40 % on a 2-core virtual machine
   * (BENCHMARKS.md, "Busy polling"), at the price of the CPU spent polling, up to this long after
   * each burst of traffic (the process looks busier, which CPU-based autoscaling will see). A lone
   * socket read never starts polling, and polling that mostly finds nothing stops for 50 ms.
   * `0`: off, the event loop sleeps as soon as it is idle; at most `10000` (10 ms).
   * @default 0
   */
  busyPollMicros?: number
  /** Time source for TTLs and expiry; inject one to test expiry without sleeping. @default `{ now: Date.now }` */
  clock?: Clock
  /** Random numbers in [0, 1), used for hot-cache promotion and jitter. @default Math.random */
  random?: () => number
  /**
   * Probing of the peers: one that stops answering leaves this node's ring (within 3 s with the
   * defaults) and comes back once it answers. `false` turns it off (every listed peer stays on
   * the ring). @default `{ intervalMs: 500, timeoutMs: 1000, maxProbes: 8 }`
   */
  liveness?: LivenessOptions | false
  /**
   * Warm hand-off: for `windowMs` after this node's ring changes, a key it owns and misses is
   * first asked of the cache of the peer that would own it without this node — its owner before
   * this node joined, or while it was away — (never its loader; `timeoutMs` deadline) before the
   * loader runs, so a node joining a warm cluster reloads almost nothing. `false` turns it off.
   * @default `{ windowMs: 60000, timeoutMs: 250 }`
   */
  handoff?: HandoffOptions | false
  /**
   * A shared secret (or several, during a rotation) that every client and peer must present:
   * RESP connections run nothing but `AUTH`/`QUIT` until `AUTH <secret>` (`redis-cli -a`,
   * ioredis' `password`), HTTP requests need `Authorization: Bearer <secret>` (else 401), and
   * this node presents the first secret to its peers. Compared in constant time; never logged,
   * never in stats. @default none: the port is open to whoever reaches it
   */
  auth?: AuthOptions
  /**
   * The most loader calls running at once on this node, across its namespaces (gets of one key
   * share one call, so this bounds distinct keys). More wait in a queue. @default 1000
   */
  maxConcurrentLoads?: number
  /**
   * The most loads waiting for a turn; beyond, a load is refused at once with
   * `BURROW_ERR_OVERLOADED`, so a flood of distinct missing keys cannot grow without bound.
   * @default 10000
   */
  maxQueuedLoads?: number
  /** The most connections the port keeps open at once (clients and peers); more are closed on arrival. @default 10000 */
  maxConnections?: number
  /**
   * How long a request may take to arrive once it has begun — a connection's first line, a RESP
   * command, an HTTP request's head — however slowly its bytes come; a slower sender is cut off.
   * @default 10000
   */
  requestTimeoutMs?: number
  /**
   * The most reply bytes a RESP client may leave unread: past it, a client that reads nothing for
   * `requestTimeoutMs` is cut off, so one that sends and never reads cannot hold the node's
   * memory. @default 67108864 (64 MiB)
   */
  maxReplyBufferBytes?: number
  /**
   * TLS, as node:tls options: `key` and `cert` (this node's), `ca` (to verify peers and, with
   * `requestCert: true`, clients: mutual TLS). The port then speaks TLS only, `self` is an
   * `https://` id, and `https://` peers are dialled with TLS and verified against `ca`.
   * @default none: plain TCP, `http://` ids
   */
  tls?: TlsOptions
  /**
   * Where this node logs: a pino-shaped logger (`debug`, `info`, `warn` and `error` methods taking
   * `(fields, message)`), subscribed to the node's diagnostics channels until `close()`. Ring
   * changes log at info; fallbacks, unreachable peers, owed purges, limits and overload at warn;
   * loads, fetches and evictions (with keys) at debug. Values and secrets are never logged.
   * See docs/diagnostics.md. @default none: nothing is logged
   */
  logger?: Logger
}

/** Options of warm hand-off (`new Burrow({ handoff })`). */
export interface HandoffOptions {
  /** How long after a ring change previous owners are asked, in ms. @default 60000 */
  windowMs?: number
  /** The deadline of one ask, in ms. @default 250 */
  timeoutMs?: number
}

/** Options of `node.close(options)`. */
export interface CloseOptions {
  /**
   * How long the graceful part may take, in ms: telling peers this node leaves, then letting gets
   * in flight finish and replies owed reach their peers. What is still running after it is
   * rejected with `BURROW_ERR_CLOSED`. `0` closes at once. @default 5000
   */
  timeoutMs?: number
}

/** The events of a node. */
export interface BurrowEvents {
  /** The ring changed (peers set, or a peer went down or came back): the live peers, sorted. */
  peers: [peers: readonly string[]]
  /**
   * The peer source failed in a way it recovers from (a DNS lookup, a lost etcd connection, a bad
   * id in a list): a `BurrowError` with code `BURROW_ERR_PEER_SOURCE`, its `cause` the failure.
   * The node keeps its last peers.
   */
  peerSourceError: [error: BurrowError]
}

const KNOWN_OPTIONS = [
  'self',
  'peers',
  'ring',
  'replicas',
  'hash',
  'maxKeyBytes',
  'peerTimeoutMs',
  'connectionsPerPeer',
  'maxFrameBytes',
  'busyPollMicros',
  'clock',
  'random',
  'liveness',
  'handoff',
  'auth',
  'maxConcurrentLoads',
  'maxQueuedLoads',
  'maxConnections',
  'requestTimeoutMs',
  'tls',
  'maxReplyBufferBytes',
  'protocol',
  'logger',
] as const

/** Where `listen()` binds. */
export interface ListenOptions {
  /** @default the host of `self` */
  host?: string
  /** @default the port of `self` */
  port?: number
}

const DEFAULT_SELF = 'http://127.0.0.1:0'
const DEFAULT_TLS_SELF = 'https://127.0.0.1:0'
/** The most close() waits for each peer to acknowledge `BURROW.LEAVE`. */
const LEAVE_TIMEOUT_MS = 1000
/** The least time close() gives connections to write the replies they owe. */
const REPLY_GRACE_MS = 100
/** `stats().busyPoll` of a node that does not poll. */
const NO_SPINS: BusyPollCounters = { spins: 0, timedOut: 0, vain: 0 }
/** Keys a peer may be owed purges for, per peer, before it is owed a flush of the namespace instead. */
const MAX_OWED_PURGES_PER_PEER = 10_000
/** Hand-off asks in a row that may find nothing before the window closes early. */
const HANDOFF_GIVE_UP = 256

/**
 * One burrow node. Usually one per process; two in one process are two independent nodes.
 *
 * @example
 * const node = new Burrow({ self: 'http://127.0.0.1:5001', peers: ['http://127.0.0.1:5001', 'http://127.0.0.1:5002'] })
 * const test = node.namespace('test', { load: async (key) => db.get(key) })
 * await node.listen()
 * console.log(await test.get('6.824'))
 */
export class Burrow extends EventEmitter<BurrowEvents> {
  #self: string
  /** Every peer listed (this node included), canonical; the ring holds those not down. */
  #members: string[]
  /** Purges that peers missed while they could not be reached, delivered when they answer. */
  #purges: PurgeDelivery
  #liveness: Liveness | undefined
  /** Where the peers come from when they are not a fixed list. */
  #source: PeerSource | undefined
  #subscription: PeerSubscription | undefined
  #debounce: NodeJS.Timeout | undefined
  #ring: RingLike
  /**
   * Warm hand-off: the ring of the live peers less this node, asked until `#handoffUntil` for
   * keys this node owns. Its owner of a key is the peer that held it before this node joined,
   * or while it was away; with consistent hashing, whatever else changed meanwhile.
   */
  #handoffRing: RingLike | undefined
  #handoffUntil = 0
  /** The window is open but its ring not built yet: it is built by the first miss that asks. */
  #handoffStale = false
  /** Hand-off asks in a row that found nothing. */
  #handoffMisses = 0
  #handoff: Required<HandoffOptions> | undefined
  /** Set by close(): the node leaves (probes of it fail) while gets in flight finish. */
  #leaving = false
  #closed: Promise<void> | undefined
  #newRing: (peers: readonly string[]) => RingLike
  #namespaces = new Map<
    string,
    {
      namespace: Namespace<unknown>
      served: ServedNamespace
      inFlight: () => Promise<unknown>[]
      groupcacheValues: ValueKind
    }
  >()
  #closing = new AbortController()
  /** `busyPollMicros`: polls the node's sockets for a while after traffic; `undefined` when off. */
  readonly #busyPoll: BusyPoll | undefined
  #client: PeerTransport
  #server: NodeServer | undefined
  #host: NamespaceHost
  #maxFrameBytes: number
  /** The bound on loader calls, shared by the namespaces. */
  #loads: LoadGate
  #serverLimits: { maxConnections: number; requestTimeoutMs: number; maxReplyBufferBytes: number }
  /** This node's TLS options: the port speaks TLS only. */
  #tls: TlsOptions | undefined
  /** The last server's counters, kept once it closed. */
  #serverStats: ServerStats = { connections: 0, refused: 0, timedOut: 0, overflowed: 0 }
  /** What clients and peers must present (`auth`); none: the port is open. */
  #secrets: Secrets | undefined
  #handler: ((req: IncomingMessage, res: ServerResponse, next?: () => void) => void) | undefined
  #adminHandler: ((req: IncomingMessage, res: ServerResponse, next?: () => void) => void) | undefined
  /** Times the ring changed. */
  #ringChanges = 0
  /** The peer whose `BURROW.LEAVE` is being applied, so that its going down is told as a leave. */
  #peerLeaving: string | undefined
  /** Recent membership events, for `GET /_burrow/ring` and the dashboard: recorded while listening. */
  #membershipLog = new MembershipLog(this)
  /** Unsubscribes the `logger` from the diagnostics channels. */
  #unsubscribeLogger: (() => void) | undefined
  /** The clock given in the options (or Date.now). */
  readonly clock: Clock

  constructor(options: BurrowOptions = {}) {
    super()
    const opts = objectOption<BurrowOptions>('options', options)
    onlyKnownOptions('options', opts, KNOWN_OPTIONS)
    this.#self = canonicalPeerId(
      'self',
      opts.self ?? (opts.tls === undefined ? DEFAULT_SELF : DEFAULT_TLS_SELF),
    )
    // Every running flight and many loaders listen on this signal; listeners leave when they settle.
    setMaxListeners(0, this.#closing.signal)
    this.#newRing = ringBuilder(opts)
    if (isPeerSource(opts.peers)) {
      this.#source = opts.peers
      this.#members = [this.#self]
    } else {
      this.#members = withSelf(this.#self, opts.peers)
    }
    this.#ring = this.#newRing(this.#members)
    const protocol = protocolOption(opts)
    this.#handoff = protocol === 'groupcache' ? undefined : handoffOptions(opts.handoff)
    // A node that starts with its cluster listed is joining it: its keys were the others' before.
    this.#openHandoff()
    this.clock = opts.clock ?? { now: Date.now }
    functionOption('clock.now', objectOption<Clock>('clock', this.clock).now)
    const random = functionOption<() => number>('random', opts.random, Math.random)
    const maxKeyBytes = integerOption('maxKeyBytes', opts.maxKeyBytes, 1024, 1, 65536)
    const maxFrameBytes = integerOption('maxFrameBytes', opts.maxFrameBytes, 32 * 1024 * 1024, 1024)
    this.#secrets = secretsOption(opts.auth)
    const logger = loggerOption(opts.logger)
    this.#tls = tlsOption(opts.tls, this.#self)
    this.#serverLimits = {
      maxConnections: integerOption('maxConnections', opts.maxConnections, 10_000, 1, 10_000_000),
      requestTimeoutMs: integerOption('requestTimeoutMs', opts.requestTimeoutMs, 10_000, 10, 3_600_000),
      maxReplyBufferBytes: integerOption(
        'maxReplyBufferBytes',
        opts.maxReplyBufferBytes,
        64 * 1024 * 1024,
        1024,
      ),
    }
    const timeoutMs = integerOption('peerTimeoutMs', opts.peerTimeoutMs, 3000, 1)
    const busyPollMicros = integerOption('busyPollMicros', opts.busyPollMicros, 0, 0, 10_000)
    this.#busyPoll = busyPollMicros > 0 ? new BusyPoll(busyPollMicros) : undefined
    const tls = this.#tls === undefined ? undefined : clientTls(this.#tls)
    this.#client =
      protocol === 'groupcache'
        ? new GroupcacheClient({
            timeoutMs,
            connections: integerOption('connectionsPerPeer', opts.connectionsPerPeer, 32, 1, 1024),
            maxResponseBytes: maxFrameBytes,
            signal: this.#closing.signal,
            secret: this.#secrets?.current,
            tls,
            valueKind: (namespace) => this.#namespaces.get(namespace)?.groupcacheValues ?? 'bytes',
          })
        : new PeerClient({
            timeoutMs,
            connections: integerOption('connectionsPerPeer', opts.connectionsPerPeer, 2, 1, 64),
            maxFrameBytes,
            signal: this.#closing.signal,
            secret: this.#secrets?.current,
            tls,
            busyPoll: this.#busyPoll,
          })
    this.#maxFrameBytes = maxFrameBytes
    this.#purges = new PurgeDelivery(
      {
        node: this,
        purge: (peer, namespace, key) =>
          this.#client.purge(peer, namespace, key).catch(unlessUnknownNamespace),
        flush: (peer, namespace) => this.#client.flush(peer, namespace).catch(unlessUnknownNamespace),
        isDown: (peer) => this.#liveness?.down.has(peer) ?? false,
        isMember: (peer) => this.#members.includes(peer),
      },
      MAX_OWED_PURGES_PER_PEER,
    )
    let wasDown = new Set<string>()
    this.#liveness = createLiveness(opts.liveness, {
      ping: (peer, timeoutMs) => this.#client.ping(peer, timeoutMs),
      // A peer that stopped answering: what waits on it fails over now, not at its deadline. (One
      // that said it leaves still answers what it was asked.)
      unreachable: (peer) => this.#client.abandon(peer),
      changed: (down) => {
        if (channels.peerDown.hasSubscribers) {
          for (const peer of down) {
            if (wasDown.has(peer)) continue
            const reason = peer === this.#peerLeaving ? 'left' : 'unreachable'
            channels.peerDown.publish({ node: this, peer, reason })
          }
        }
        // A peer back from down gets the purges it missed before anything else.
        for (const peer of wasDown) {
          if (down.has(peer) || !this.#members.includes(peer)) continue
          if (channels.peerUp.hasSubscribers) channels.peerUp.publish({ node: this, peer })
          this.#purges.peerUp(peer)
        }

        wasDown = new Set(down)
        this.#rebuild()
      },
    })
    // The peers listed at construction are probed from now on, whether or not this node listens.
    this.#liveness?.watch(this.#members.filter((peer) => peer !== this.#self))
    const clock = this.clock
    this.#loads = new LoadGate(
      integerOption('maxConcurrentLoads', opts.maxConcurrentLoads, 1000, 1, 1_000_000),
      integerOption('maxQueuedLoads', opts.maxQueuedLoads, 10_000, 0, 10_000_000),
      this.#closing.signal,
      this,
    )
    this.#host = {
      node: this,
      signal: this.#closing.signal,
      loads: this.#loads,
      random,
      now: () => clock.now(),
      maxKeyBytes,
      // Writes reach every listed peer, down ones too: they may hold a copy when they come back.
      otherPeers: () => this.#members.filter((peer) => peer !== this.#self),
      suspect: (peer) => this.#liveness?.suspect(peer),
      remoteOwner: (key) => {
        const ring = this.#ring
        if (ring.peers.length === 1) return undefined
        const owner = ring.owner(key)
        return owner === this.#self ? undefined : owner
      },
      fetchTo: (peer, namespace, key, signal, to) => this.#client.fetchTo(peer, namespace, key, signal, to),
      store: (peer, namespace, key, value, ttl, signal) =>
        this.#client.store(peer, namespace, key, value, ttl, signal),
      purge: (peer, namespace, key, signal) => {
        // A peer known to be down would cost this write its deadline (a frozen one): it is owed
        // the purge instead, delivered when it answers again.
        if (this.#liveness?.down.has(peer)) return Promise.reject(knownDown(peer, namespace, key))
        return this.#client.purge(peer, namespace, key, signal)
      },
      owe: (peer, namespace, key) => {
        // A purge the protocol cannot carry would be owed for ever.
        if (this.#client.carriesWrites) this.#purges.record(peer, namespace, key)
      },
      previousOwner: (key) => this.#previousOwner(key),
      handedOff: (hit) => {
        this.#handoffMisses = hit ? 0 : this.#handoffMisses + 1
        // A window where nothing is found (a cluster forming cold) costs every miss a round trip:
        // after a long run of misses it closes early.
        if (this.#handoffMisses >= HANDOFF_GIVE_UP) this.#closeHandoff()
      },
      peek: (peer, namespace, key, signal) =>
        this.#client.peek(peer, namespace, key, signal, this.#handoff?.timeoutMs ?? 0),
    }
    // Last: a logger hears only of a node that was made.
    if (logger !== undefined) this.#unsubscribeLogger = subscribeLogger(this, logger)
  }

  /** This node's peer id. After `listen()` on port 0 it names the port actually bound. */
  get self(): string {
    return this.#self
  }

  /** The peers on this node's ring now, sorted: those listed, less those found down. */
  get peers(): readonly string[] {
    return this.#ring.peers
  }

  /** The peer that owns `key` on this node's current ring. */
  ownerOf(key: string): string {
    return this.#ring.owner(key)
  }

  /**
   * Creates the namespace `name`. Names are 1–64 characters of `A-Z a-z 0-9 . _ -`; a name can be
   * used once per node (`BURROW_ERR_DUPLICATE_NAMESPACE`). Options are checked here, eagerly.
   *
   * @example
   * const pages = node.namespace('pages', { maxBytes: 16 << 20, load: (url) => fetchPage(url) })
   */
  namespace<V = StoredValue>(name: string, options: NamespaceOptions<V>): Namespace<V> {
    checkNamespaceName(name)
    if (this.#namespaces.has(name)) {
      throw new BurrowError(
        'BURROW_ERR_DUPLICATE_NAMESPACE',
        `namespace ${name} already exists on this node`,
        { namespace: name },
      )
    }
    if (this.#leaving) throw this.#closedError()
    if (this.#client instanceof GroupcacheClient) groupcacheKindGiven(name, options)
    const made = createNamespace<V>(this.#host, name, options)
    this.#namespaces.set(name, made as typeof made & { namespace: Namespace<unknown> })
    return made.namespace
  }

  /** The namespace `name`, or `undefined`. */
  getNamespace(name: string): Namespace<unknown> | undefined {
    return this.#namespaces.get(name)?.namespace
  }

  /**
   * Replaces the peer set (this node is added if missing). The new ring is built aside and swapped
   * in whole, so a get sees either the old ring or the new one. Connections to removed peers close.
   */
  setPeers(peers: readonly string[]): void {
    if (this.#source !== undefined) {
      throw new BurrowError(
        'BURROW_ERR_PEER_SOURCE',
        `node ${this.#self} takes its peers from ${this.#source.name}; setPeers would be overwritten`,
      )
    }
    this.#setMembers(withSelf(this.#self, peers))
  }

  #setMembers(members: string[]): void {
    this.#members = members
    // Connections stay to peers that are down: probes use them to see them come back.
    this.#client.retain(new Set(this.#members))
    this.#liveness?.watch(this.#members.filter((peer) => peer !== this.#self))
    for (const peer of this.#purges.owed.peers()) if (!members.includes(peer)) this.#purges.owed.forget(peer)
    this.#rebuild()
  }

  /** Builds the ring of the members not down; swaps it in, and tells listeners, when it differs. */
  #rebuild(): void {
    const down = this.#liveness?.down
    const live = down === undefined ? this.#members : this.#members.filter((p) => !down.has(p))
    const old = this.#ring
    // Members are distinct, so an unchanged set is one of the same size whose peers are all on the ring.
    if (live.length === old.peers.length && live.every((p) => old.has(p))) return
    const ring = this.#newRing(live)
    this.#ring = ring
    this.#ringChanges++
    this.#openHandoff()
    if (channels.ring.hasSubscribers) {
      const added = ring.peers.filter((p) => !old.has(p))
      const removed = old.peers.filter((p) => !ring.has(p))
      channels.ring.publish({ node: this, peers: ring.peers, added, removed })
    }
    this.emit('peers', ring.peers)
  }

  /** Opens the hand-off window after a ring change (or at start): keys now this node's are asked of their other holder. */
  #openHandoff(): void {
    if (this.#handoff === undefined) return
    // Built when first asked: a ring change costs one ring build, not two.
    this.#handoffRing = undefined
    this.#handoffStale = true
    this.#handoffMisses = 0
    this.#handoffUntil = Date.now() + this.#handoff.windowMs
  }

  #closeHandoff(): void {
    this.#handoffRing = undefined
    this.#handoffStale = false
  }

  /** For a key this node owns: the peer that would own it without this node, while the window is open. */
  #previousOwner(key: string): string | undefined {
    if (this.#handoffRing === undefined && !this.#handoffStale) return undefined
    if (Date.now() > this.#handoffUntil) {
      this.#closeHandoff()
      return undefined
    }
    if (this.#handoffStale) {
      this.#handoffStale = false
      const others = this.#ring.peers.filter((p) => p !== this.#self)
      if (others.length > 0) this.#handoffRing = this.#newRing(others)
    }
    return this.#handoffRing?.owner(key)
  }

  /**
   * Serves the peer protocol (RESP) and the HTTP routes on one port: the host and port of `self`
   * unless given. Resolves once bound; with port 0, `self` then names the bound port.
   */
  async listen(options: ListenOptions = {}): Promise<{ host: string; port: number }> {
    if (this.#leaving) throw this.#closedError()
    if (this.#server !== undefined)
      throw new BurrowError('BURROW_ERR_LISTEN', `node ${this.#self} is already listening`)
    const own = peerAddress(this.#self)
    const opts = objectOption<ListenOptions>('listen options', options)
    const host = opts.host ?? own.host
    const port = integerOption('port', opts.port, own.port, 0, 65535)
    const server = new NodeServer({
      node: this,
      namespace: (name) => this.#namespaces.get(name)?.served,
      http: this.#portHandler(),
      maxFrameBytes: this.#maxFrameBytes,
      secrets: this.#secrets,
      ...this.#serverLimits,
      tls: this.#tls,
      busyPoll: this.#busyPoll,
      stats: () => this.stats(),
      membership: {
        left: (peer) => this.#peerLeft(canonicalPeerId('peer', peer)),
        leaving: () => this.#leaving,
      },
      ring: () => ({ self: this.#self, peers: this.#ring.peers, ...this.#ring.layout }),
    })
    this.#server = server
    let address: { host: string; port: number }
    try {
      address = await server.listen(host, port)
    } catch (err) {
      this.#server = undefined
      if (this.#leaving) throw this.#closedError()
      throw new BurrowError(
        'BURROW_ERR_LISTEN',
        `cannot listen on ${host}:${port}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    // close() ran while the port was being bound: it closes the server.
    if (this.#leaving) throw this.#closedError()
    if (own.port === 0) {
      // Port 0 picked a free port: self, and so the ring, name the port actually bound.
      const old = this.#self
      this.#self = withPort(this.#self, address.port)
      this.#setMembers(
        withSelf(
          this.#self,
          this.#members.filter((p) => p !== old),
        ),
      )
    }
    this.#membershipLog.start(this.#ring.peers)
    if (this.#source !== undefined) {
      try {
        await this.#startSource(this.#source, server)
      } catch (err) {
        this.#membershipLog.stop()
        throw err
      }
    }
    return address
  }

  /** Starts the peer source; its lists become the members, debounced. */
  async #startSource(source: PeerSource, server: NodeServer): Promise<void> {
    let first = true
    const debounceMs = integerOption(`${source.name} debounceMs`, source.debounceMs, 100, 0, 60_000)
    const apply = (peers: readonly string[]): void => {
      if (this.#closing.signal.aborted) return
      const ids = new Set<string>([this.#self])
      for (const peer of peers) {
        try {
          ids.add(canonicalPeerId('peer', peer))
        } catch (err) {
          this.#sourceError(source, err)
        }
      }
      this.#setMembers([...ids])
    }
    const context = {
      self: this.#self,
      signal: this.#closing.signal,
      update: (peers: readonly string[]): void => {
        if (!Array.isArray(peers))
          return this.#sourceError(source, new TypeError('update() takes an array of peer ids'))
        const list = [...peers]
        // The first list applies at once, so listen() resolves with the cluster in the ring.
        if (first) {
          first = false
          return apply(list)
        }
        if (this.#debounce !== undefined) clearTimeout(this.#debounce)
        this.#debounce = setTimeout(() => {
          this.#debounce = undefined
          apply(list)
        }, debounceMs)
        this.#debounce.unref()
      },
      error: (err: unknown): void => this.#sourceError(source, err),
    }
    try {
      const subscription = await source.start(context)
      // close() began while the source started: it found no subscription to stop, so stop it here.
      if (this.#leaving) {
        await subscription.stop().catch(() => {})
        throw this.#closedError()
      }
      this.#subscription = subscription
    } catch (err) {
      this.#server = undefined
      await server.close()
      if (err instanceof BurrowError && err.code === 'BURROW_ERR_CLOSED') throw err
      throw new BurrowError(
        'BURROW_ERR_PEER_SOURCE',
        `node ${this.#self} could not start its peer source ${source.name}: ${(err as Error)?.message ?? String(err)}`,
        { cause: err },
      )
    }
  }

  #sourceError(source: PeerSource, err: unknown): void {
    if (this.#closing.signal.aborted) return
    const error =
      err instanceof BurrowError && err.code === 'BURROW_ERR_PEER_SOURCE'
        ? err
        : new BurrowError(
            'BURROW_ERR_PEER_SOURCE',
            `peer source ${source.name}: ${(err as Error)?.message ?? String(err)}`,
            { cause: err },
          )
    if (channels.peerSourceError.hasSubscribers)
      channels.peerSourceError.publish({ node: this, source: source.name, error })
    this.emit('peerSourceError', error)
  }

  /**
   * A `node:http` request listener serving `GET /burrow/{namespace}/{key}` (and `HEAD`), to mount
   * on a server the application already runs. Other paths call `next()` when given (Express), or
   * get a 404.
   *
   * @example
   * http.createServer(node.handler).listen(8080)
   * app.use(node.handler)  // Express
   */
  get handler(): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
    this.#handler ??= createHttpHandler(
      (name) => this.#namespaces.get(name)?.served,
      this.#secrets,
      () => this.#leaving,
    )
    return this.#handler
  }

  /**
   * A `node:http` request listener serving the admin routes, `GET /_burrow/stats` (JSON),
   * `GET /_burrow/metrics` (Prometheus text), `GET /_burrow/ring` (peers' shares and recent
   * membership events, JSON), behind `auth` when it is set, and the page `GET /_burrow/dashboard`
   * (docs/dashboard.md), which holds no data and asks for the secret itself. The node's own port
   * serves them always; {@link handler} does not, so an application's public server exposes
   * them only where it mounts this one. Other paths call `next()` when given, or get a 404.
   *
   * @example
   * app.use(node.adminHandler)                          // Express: /_burrow/* on the app's port
   * http.createServer(node.adminHandler).listen(9464)   // or on a port of their own
   */
  get adminHandler(): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
    this.#adminHandler ??= createAdminHandler(
      {
        stats: () => this.stats(),
        ring: () => this.#ringReport(),
        hotKeys: () =>
          Object.fromEntries([...this.#namespaces].map(([name, ns]) => [name, ns.namespace.hotKeys()])),
      },
      this.#secrets,
    )
    return this.#adminHandler
  }

  /** What the port serves over HTTP: the admin routes, and the seed route. */
  #portHandler(): (req: IncomingMessage, res: ServerResponse) => void {
    const admin = this.adminHandler
    const seed = this.handler
    return (req, res) => (req.url?.startsWith(ADMIN_PREFIX) ? admin(req, res) : seed(req, res))
  }

  /** What `GET /_burrow/ring` answers: the live peers with their shares, and recent membership events. */
  #ringReport(): RingReport {
    const ring = this.#ring
    const shares = ring.shares()
    return {
      self: this.#self,
      ...ring.layout,
      peers: ring.peers.map((peer) => ({ peer, share: shares.get(peer) ?? 0 })),
      down: [...(this.#liveness?.down ?? [])].sort(),
      changes: this.#ringChanges,
      events: this.#membershipLog.events(),
    }
  }

  /** Counters and sizes of every namespace, and of the peer client: a fresh plain object. */
  stats(): BurrowStats {
    const namespaces: Record<string, NamespaceStats> = {}
    for (const [name, { namespace }] of this.#namespaces) namespaces[name] = namespace.stats()
    return {
      self: this.#self,
      peers: [...this.#ring.peers],
      down: [...(this.#liveness?.down ?? [])].sort(),
      ringChanges: this.#ringChanges,
      owedPurges: this.#purges.owed.size,
      loads: this.#loads.stats(),
      server: this.#server?.stats() ?? { ...this.#serverStats, connections: 0 },
      listening: this.#server !== undefined,
      namespaces,
      peerClient: this.#client.stats(),
      busyPoll: { ...(this.#busyPoll?.counters ?? NO_SPINS) },
    }
  }

  /**
   * Leaves the cluster gracefully, then closes. In turn: the peer source deregisters this node
   * (etcd); its peers are told it leaves (`BURROW.LEAVE`), so they route its keys elsewhere;
   * gets in flight (loads here, fetches from owners) finish; then running loads are aborted and
   * their waiters rejected with `BURROW_ERR_CLOSED`, replies owed are written, and the port and
   * peer connections close. The graceful part takes at most `timeoutMs`. Idempotent: later calls
   * return the first one's promise.
   *
   * @example
   * process.once('SIGTERM', () => node.close().then(() => process.exit(0)))
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    let timeoutMs: number
    try {
      const opts = objectOption<CloseOptions>('close options', options)
      onlyKnownOptions('close options', opts, ['timeoutMs'])
      timeoutMs = integerOption('close timeoutMs', opts.timeoutMs, 5000, 0, 600_000)
    } catch (err) {
      return Promise.reject(err)
    }
    this.#closed = this.#close(timeoutMs)
    return this.#closed
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#leaving = true
    const until = Date.now() + timeoutMs
    const subscription = this.#subscription
    this.#subscription = undefined
    if (this.#debounce !== undefined) clearTimeout(this.#debounce)
    // Deregister first (etcd), so no node keeps routing here; a source that does not settle in
    // time is left to finish on its own.
    if (subscription !== undefined)
      await within(
        subscription.stop().catch(() => {}),
        timeoutMs,
      )
    const server = this.#server
    if (server !== undefined && timeoutMs > 0) {
      await this.#announceLeave(Math.min(LEAVE_TIMEOUT_MS, timeoutMs))
      await this.#drain(until - Date.now())
    }
    if (!this.#closing.signal.aborted) this.#closing.abort(this.#closedError())
    this.#busyPoll?.stop()
    this.#liveness?.stop()
    this.#purges.stop()
    this.#server = undefined
    if (server !== undefined) this.#serverStats = server.stats()
    // The waiters just rejected write their replies in the next ticks: let them, then close.
    if (server !== undefined) {
      await new Promise((resolve) => setImmediate(resolve))
      await server.close(timeoutMs > 0 ? Math.max(REPLY_GRACE_MS, until - Date.now()) : 0)
    }
    this.#client.close()
    this.#unsubscribeLogger?.()
    this.#unsubscribeLogger = undefined
    this.#membershipLog.stop()
  }

  /** Tells every live peer that this node leaves; waits for their answers, at most `timeoutMs`. */
  async #announceLeave(timeoutMs: number): Promise<void> {
    const peers = this.#ring.peers.filter((p) => p !== this.#self)
    await Promise.allSettled(peers.map((peer) => this.#client.leave(peer, this.#self, timeoutMs)))
  }

  /** Waits until no get or write is in flight (those started meanwhile too), at most `timeoutMs`. */
  async #drain(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const flights: Promise<unknown>[] = []
      for (const { inFlight } of this.#namespaces.values()) flights.push(...inFlight())
      const left = until - Date.now()
      if (flights.length === 0 || left <= 0) return
      await within(Promise.allSettled(flights), left)
    }
  }

  /** `peer` said it leaves (`BURROW.LEAVE`): off the ring until it answers a probe again. */
  #peerLeft(peer: string): void {
    if (peer === this.#self) return
    // Liveness reports the change at once, while this names the peer that said it leaves.
    this.#peerLeaving = peer
    try {
      this.#liveness?.left(peer)
    } finally {
      this.#peerLeaving = undefined
    }
  }

  #closedError(): BurrowError {
    return new BurrowError('BURROW_ERR_CLOSED', `node ${this.#self} is closed`)
  }
}

/** The canonical ids of `peers`, without repeats, `self` included. */
function withSelf(self: string, peers: readonly string[] | undefined): string[] {
  if (peers === undefined) return [self]
  if (!Array.isArray(peers))
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option peers must be an array of peer ids, received ${describe(peers)}`,
    )
  const ids = new Set(peers.map((p, i) => canonicalPeerId(`peers[${i}]`, p)))
  ids.add(self)
  return [...ids]
}

/** What builds the ring `options.ring` names; the ring's own options are checked by its first build. */
function ringBuilder(options: Partial<BurrowOptions>): (peers: readonly string[]) => RingLike {
  const { ring = 'groupcache', replicas, hash } = options
  if (ring === 'groupcache') return (peers) => new Ring(peers, { replicas, hash })
  if (ring !== 'maglev') {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option ring must be 'groupcache' or 'maglev', received ${describe(ring)}`,
    )
  }
  if (replicas !== undefined) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option replicas applies to ring 'groupcache' only, received ${describe(replicas)} with ring 'maglev'`,
    )
  }
  return (peers) => new MaglevRing(peers, { hash })
}

/** The `protocol` option, checked: groupcache's needs groupcache's ring, and has no hand-off. */
function protocolOption(options: Partial<BurrowOptions>): 'resp' | 'groupcache' {
  const { protocol = 'resp' } = options
  if (protocol !== 'resp' && protocol !== 'groupcache') {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option protocol must be 'resp' or 'groupcache', received ${describe(protocol)}`,
    )
  }
  if (protocol === 'groupcache' && options.ring !== undefined && options.ring !== 'groupcache') {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option ring must be 'groupcache' with protocol 'groupcache' (Go nodes use that ring), received ${describe(options.ring)}`,
    )
  }
  if (protocol === 'groupcache' && options.handoff !== undefined && options.handoff !== false) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      "option handoff does not apply with protocol 'groupcache' (its protocol has no cache-only ask); omit it",
    )
  }
  return protocol
}

/**
 * On a node that asks its peers over groupcache's protocol, a namespace without a codec must say
 * what a Go peer's value (bytes without a kind) becomes: no default could match its loader's kind.
 */
function groupcacheKindGiven(name: string, options: unknown): void {
  const opts = options as { codec?: unknown; groupcacheValues?: unknown } | null
  if (opts?.codec !== undefined || opts?.groupcacheValues !== undefined) return
  throw new BurrowError(
    'BURROW_ERR_BAD_OPTION',
    `option ${name}.groupcacheValues must be given ('string' or 'bytes', the kind its loader returns) on a node with protocol 'groupcache': values from Go peers carry no kind`,
  )
}

/** The prober `liveness` asks for, its options checked; `undefined` when it is turned off. */
function createLiveness(value: unknown, host: LivenessHost): Liveness | undefined {
  if (value === false) return undefined
  const opts = objectOption<LivenessOptions>('liveness', value)
  onlyKnownOptions('liveness', opts, ['intervalMs', 'timeoutMs', 'maxProbes'])
  return new Liveness(host, {
    intervalMs: integerOption('liveness.intervalMs', opts.intervalMs, 500, 10, 60_000),
    timeoutMs: integerOption('liveness.timeoutMs', opts.timeoutMs, 1000, 10, 60_000),
    maxProbes: integerOption('liveness.maxProbes', opts.maxProbes, 8, 1, 1024),
  })
}

/** The hand-off settings `handoff` asks for, checked; `undefined` when it is turned off. */
function handoffOptions(value: unknown): Required<HandoffOptions> | undefined {
  if (value === false) return undefined
  const opts = objectOption<HandoffOptions>('handoff', value)
  onlyKnownOptions('handoff', opts, ['windowMs', 'timeoutMs'])
  return {
    windowMs: integerOption('handoff.windowMs', opts.windowMs, 60_000, 0, 3_600_000),
    timeoutMs: integerOption('handoff.timeoutMs', opts.timeoutMs, 250, 1, 60_000),
  }
}

/** A peer without the namespace holds none of its keys: nothing to purge there. */
function unlessUnknownNamespace(err: unknown): void {
  if (!(err instanceof BurrowError && err.code === 'BURROW_ERR_UNKNOWN_NAMESPACE')) throw err
}

function knownDown(peer: string, namespace: string, key: string): BurrowError {
  return new BurrowError(
    'BURROW_ERR_PEER_UNAVAILABLE',
    `peer ${peer} is down; it is sent the purge when it answers again`,
    {
      peer,
      namespace,
      key,
    },
  )
}

/** `work`, or nothing once `ms` have passed: whichever comes first. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  await Promise.race([work, timeout])
  clearTimeout(timer)
}

/** The `tls` option, checked against `self`: TLS needs an `https://` id, and an `https://` id TLS. */
function tlsOption(value: unknown, self: string): TlsOptions | undefined {
  const secure = self.startsWith('https://')
  if (value === undefined) {
    if (secure) {
      throw new BurrowError(
        'BURROW_ERR_BAD_OPTION',
        `option self is ${self}, an https:// id: give the tls option too`,
      )
    }
    return undefined
  }
  const opts = objectOption<TlsOptions>('tls', value)
  if (opts.key === undefined || opts.cert === undefined) {
    throw new BurrowError('BURROW_ERR_BAD_OPTION', 'option tls must give key and cert (this node serves TLS)')
  }
  if (!secure) {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `with tls, option self must be an https:// id, received ${self}`,
    )
  }
  return opts
}

/**
 * What this node presents and trusts when it dials a peer: its `ca`, and its own certificate
 * for peers that ask for one (mutual TLS).
 */
function clientTls(tls: TlsOptions): ConnectionOptions {
  return { ca: tls.ca, cert: tls.cert, key: tls.key, passphrase: tls.passphrase, rejectUnauthorized: true }
}
