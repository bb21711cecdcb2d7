/**
 * The read path of a namespace past its cache hit: serving a stale value while one refresh runs,
 * joining or starting a flight, asking the owner or loading here, falling back when the owner
 * cannot answer, and caching what comes back with the right deadline — unless a write of the key
 * came first (see flights.ts).
 *
 * @module
 */

import type { StoredValue } from '../codec.ts'
import { channels, fetchTimer, NOT_TIMED, since } from '../diagnostics.ts'
import { BurrowError } from '../errors.ts'
import { type Cached, NEVER, NOT_FOUND } from '../store/cached.ts'
import type { Store } from '../store/store.ts'
import type { Receiver } from '../transport/client/transport.ts'
import { type Answer, DO_NOT_KEEP, NO_EXPIRY } from '../transport/served.ts'
import { type Flight, Flights, type RemoteFlight } from './flights.ts'
import type { NamespaceHost } from './host.ts'
import { type LoadRunner, quote } from './loader.ts'
import type { NamespaceConfig } from './options.ts'
import type { NamespaceCounters } from './stats.ts'

/** Peer errors that mean "the owner could not answer", as opposed to "the owner's loader failed". */
const UNREACHABLE = new Set([
  // The owner refused this node's secret: a configuration error, not an answer.
  'BURROW_ERR_AUTH',
  // The peer asked does not own the key on its ring (the two rings differ for now).
  'BURROW_ERR_NOT_OWNER',
  // The owner is closing (it left): its loads were stopped.
  'BURROW_ERR_CLOSED',
  'BURROW_ERR_FRAME_TOO_LARGE',
  'BURROW_ERR_PEER_TIMEOUT',
  'BURROW_ERR_PEER_UNAVAILABLE',
  'BURROW_ERR_PROTOCOL',
  'BURROW_ERR_UNKNOWN_NAMESPACE',
])

/** Keys whose refresh failed, remembered for their backoff; the oldest are forgotten past this. */
const MAX_BACKOFFS = 4096
/** A backoff grows to at most this many times `refreshBackoffMs`. */
const MAX_BACKOFF_FACTOR = 64

/** Whether `err` says that a peer could not answer (so a local load may stand in for it). */
function isUnreachable(err: unknown): boolean {
  return err instanceof BurrowError && UNREACHABLE.has(err.code)
}

/** The misses of one namespace. */
export class ReadPath<V> {
  readonly flights = new Flights()
  #config: NamespaceConfig<V>
  #host: NamespaceHost
  #store: Store
  #loads: LoadRunner<V>
  #counters: NamespaceCounters
  /** When each key whose refresh failed may be refreshed again, and the delay that got it there. */
  #backoffs = new Map<string, { until: number; delay: number }>()
  /** The refresh running for each key; a write of the key forgets it, so its outcome is ignored. */
  #refreshing = new Map<string, Flight>()

  constructor(
    config: NamespaceConfig<V>,
    host: NamespaceHost,
    store: Store,
    loads: LoadRunner<V>,
    counters: NamespaceCounters,
  ) {
    this.#config = config
    this.#host = host
    this.#store = store
    this.#loads = loads
    this.#counters = counters
  }

  /**
   * W-TinyLFU learns from the misses of keys this node may keep: its own (`owner` undefined), and
   * any when it keeps hot copies. Another node's key, with no hot copies, would only crowd out
   * main's counts.
   */
  #countMiss(key: string, owner: string | undefined): void {
    if (owner === undefined || this.#config.hotFraction > 0) this.#store.countMiss(key)
  }

  /**
   * A `peek` found nothing: counted as a get's miss is (`#countMiss`; with hot copies on, the
   * owner need not be looked up).
   */
  peekMissed(key: string): void {
    this.#countMiss(key, this.#config.hotFraction > 0 ? undefined : this.#host.remoteOwner(key))
  }

  /**
   * A peer's fetch (`BURROW.FETCH`) that missed the fresh cache: a stale value at once (and one
   * refresh), else the running local flight, else a new one. It never asks another node, so the
   * answer is never a remote flight.
   */
  peerMiss(key: string): Answer | Promise<Answer> {
    return this.#miss(key, true) as Answer | Promise<Answer>
  }

  /**
   * A local get that missed the fresh cache, as {@link ReadPath.peerMiss} but joining or starting
   * a remote flight when another node owns the key. It needs the value only: an owner's answer is
   * waited for through its ask's own promise of the value, not one of the answer and another made
   * from it.
   */
  missValue(key: string): StoredValue | undefined | Promise<StoredValue | undefined> {
    // The gets that join one ask all get its one promise of the value (they only read it).
    const answer = this.#miss(key, false)
    if (isRemote(answer)) return answer.value
    return answer instanceof Promise ? answer.then(answerValue) : answer.value
  }

  /** Both misses; a peer's request (`fromPeer`) never asks another node. */
  #miss(key: string, fromPeer: boolean): Answer | Promise<Answer> | RemoteFlight {
    // The caller's `Store.get` did not count the miss (see below). A cached not-found is a hit
    // (Store.get cannot say so): answered like one, even after close.
    if (this.#store.notFound(key)) {
      this.#counters.hits++
      return this.answerOfHit(NOT_FOUND)
    }
    if (this.#host.signal.aborted) return Promise.reject(this.#closedError(key))
    // A peer's fetch of a key another node owns: one load per key per cluster, on its owner.
    if (fromPeer && this.#host.remoteOwner(key) !== undefined) {
      this.#counters.notOwner++
      return Promise.reject(this.#notOwner(key))
    }
    // A peer asks only for keys this node owns (checked above).
    const owner = fromPeer ? undefined : this.#host.remoteOwner(key)
    this.#countMiss(key, owner)
    // A lone surrogate would reach the owner (or a data source) as U+FFFD: another key.
    if (!key.isWellFormed()) {
      return Promise.reject(
        new BurrowError('BURROW_ERR_BAD_KEY', 'a key must be well-formed UTF-16 (it has a lone surrogate)', {
          namespace: this.#config.name,
        }),
      )
    }
    if (this.#config.staleTtl > 0) {
      const stale = this.#store.stale(key)
      if (stale !== undefined) {
        this.#counters.staleHits++
        this.#refresh(key, fromPeer)
        return { value: stale === NOT_FOUND ? undefined : stale, ttlMs: DO_NOT_KEEP }
      }
    }
    this.#counters.loads++
    const running = this.flights.running(key, fromPeer)
    if (running !== undefined) {
      this.#counters.loadsDeduped++
      return running
    }
    // The caller checked the cache in this same tick, so no flight can have filled it since.
    return owner === undefined ? this.#localFlight(key, false) : this.#remoteFlight(owner, key)
  }

  /**
   * The answer to a peer for `value`, which the store's last `get` (or `notFound`) just found
   * fresh: the time it has left goes over the wire, not its deadline, so node clocks need not agree.
   */
  answerOfHit(value: Cached): Answer {
    const deadline = this.#store.hitDeadline
    const ttlMs = deadline === NEVER ? NO_EXPIRY : Math.max(1, deadline - this.#host.now())
    return { value: value === NOT_FOUND ? undefined : value, ttlMs }
  }

  /**
   * The deadline of an answer cached here. `bounded`: the value is a copy of another node's
   * (or was loaded here because its owner was unreachable), so `hot.maxTtl` caps it.
   */
  deadline(ttlMs: number, bounded: boolean): number {
    const cap = bounded ? this.#config.hotMaxTtl : 0
    const ms = ttlMs === NO_EXPIRY ? cap : cap === 0 ? ttlMs : Math.min(ttlMs, cap)
    return ms === 0 ? NEVER : this.#host.now() + ms
  }

  /** Forgets every refresh backoff and running refresh (the namespace was flushed). */
  forgetAllBackoffs(): void {
    this.#backoffs.clear()
    this.#refreshing.clear()
  }

  /** Forgets the refresh backoff of `key` and the outcome of its running refresh (it was written). */
  forgetBackoff(key: string): void {
    this.#backoffs.delete(key)
    this.#refreshing.delete(key)
  }

  /** Rejects the waiters of every running flight; the node is closing. */
  close(): void {
    this.flights.closeAll((key) => this.#closedError(key))
  }

  /**
   * Asks the owner. The flight is registered before the ask goes out, and the peer client tells
   * its outcome straight to the ask (`OwnerAsk`), which settles the flight: no promise of the
   * client's own, and no extra one per miss to end the flight. The peer client settles every
   * request by its deadline, and at once when the node closes.
   */
  #remoteFlight(owner: string, key: string): OwnerAsk {
    const ask = new OwnerAsk(this, owner, key, fetchTimer())
    if (ask.started !== NOT_TIMED && channels.peerFetchStart.hasSubscribers)
      channels.peerFetchStart.publish({
        node: this.#host.node,
        peer: owner,
        namespace: this.#config.name,
        key,
      })
    this.flights.setRemote(key, ask)
    this.#host.fetchTo(owner, this.#config.name, key, this.#host.signal, ask)
    return ask
  }

  /** The owner answered `ask`: the flight ends, and the answer is kept if no write came meanwhile. */
  ownerAnswered(ask: OwnerAsk, answer: Answer): Answer {
    const key = ask.key
    if (channels.peerFetchEnd.hasSubscribers) {
      channels.peerFetchEnd.publish({
        node: this.#host.node,
        peer: ask.owner,
        namespace: this.#config.name,
        key,
        durationMs: since(ask.started),
        found: answer.value !== undefined,
      })
    }
    const current = this.flights.endRemote(key, ask)
    this.#counters.peerLoads++
    this.#keepRemote(key, answer, current)
    return answer
  }

  /**
   * The owner could not answer `ask`, or its loader failed: the error for the flight's waiters,
   * or, when the owner was unreachable and `peerFallback` is on, a load here.
   */
  ownerFailed(ask: OwnerAsk, err: unknown): Flight {
    const { owner, key } = ask
    const name = this.#config.name
    if (channels.peerFetchError.hasSubscribers) {
      channels.peerFetchError.publish({
        node: this.#host.node,
        peer: owner,
        namespace: name,
        key,
        durationMs: since(ask.started),
        error: err,
      })
    }
    const unreachable = isUnreachable(err) && !this.#host.signal.aborted
    if (unreachable) {
      this.#counters.peerErrors++
      // A peer that answered that it is not the owner is alive: no probe needed.
      if ((err as BurrowError).code !== 'BURROW_ERR_NOT_OWNER') this.#host.suspect(owner)
    }
    if (!unreachable || !this.#config.peerFallback) {
      this.flights.endRemote(key, ask)
      return Promise.reject(err)
    }
    this.#counters.fallbackLoads++
    if (channels.fallback.hasSubscribers)
      channels.fallback.publish({ node: this.#host.node, peer: owner, namespace: name, key, error: err })
    if (this.flights.remote[key] !== ask) {
      // A write came while the owner was asked: this load answers the flight's own waiters
      // only; it joins no table and caches nothing.
      this.#counters.writeRaces++
      return this.flights.runDetached(key, () => this.#loads.load(key))
    }
    // Its answer is kept in main: a miss the policy should have counted (see `#countMiss`).
    if (this.#config.hotFraction === 0) this.#store.countMiss(key)
    // The remote flight stays in the table until the local one ends, so later gets join it.
    const local = this.flights.local[key] ?? this.#localFlight(key, true)
    const forget = (): void => {
      this.flights.endRemote(key, ask)
    }
    local.then(forget, forget)
    return local
  }

  /**
   * Calls the loader here. `bounded`: this node is not the owner (a fallback load). An owner that
   * took the key over recently first asks the previous owner's cache.
   */
  #localFlight(key: string, bounded: boolean): Flight {
    const previous = bounded ? undefined : this.#host.previousOwner(key)
    return this.flights.startLocal(
      key,
      previous === undefined ? () => this.#loads.load(key) : () => this.#handOff(previous, key),
      (answer, current) => this.#keepLocal(key, answer, current, bounded),
    )
  }

  /** Warm hand-off: the previous owner's cached answer, else the loader. */
  async #handOff(previous: string, key: string): Promise<Answer> {
    try {
      const answer = await this.#host.peek(previous, this.#config.name, key, this.#host.signal)
      if (answer !== undefined) {
        this.#counters.handoffHits++
        this.#host.handedOff(true)
        return answer
      }
    } catch (err) {
      // The node closes: no loader runs now.
      if (this.#host.signal.aborted) throw err
      // An unreachable previous owner is no worse than a cold one: the loader answers.
    }
    this.#counters.handoffMisses++
    this.#host.handedOff(false)
    return this.#loads.load(key)
  }

  #keepLocal(key: string, answer: Answer, current: boolean, bounded: boolean): void {
    if (!current) {
      this.#counters.writeRaces++
      return
    }
    if (this.#host.signal.aborted) return
    this.#backoffs.delete(key)
    if (answer.value !== undefined) {
      this.#store.set('main', key, answer.value, this.deadline(answer.ttlMs, bounded))
    } else if (answer.ttlMs !== DO_NOT_KEEP) {
      this.#store.set('main', key, NOT_FOUND, this.deadline(answer.ttlMs, bounded))
    } else {
      // The data source no longer has the key: a stale copy must not be served any more.
      this.#store.delete(key)
    }
  }

  /** Caches an owner's answer: it refreshes a copy held in main, or may become a hot copy. */
  #keepRemote(key: string, answer: Answer, current: boolean): void {
    if (!current) {
      this.#counters.writeRaces++
      return
    }
    if (answer.ttlMs === DO_NOT_KEEP) {
      // A stale value is used once and not kept; a not-found that the owner does not cache ends ours.
      if (answer.value === undefined) this.#store.delete(key)
      return
    }
    const cached = answer.value ?? NOT_FOUND
    const store = this.#store
    if (store.holdsMain(key)) store.set('main', key, cached, this.deadline(answer.ttlMs, true))
    else if (this.#config.hotFraction === 0) return
    else if (store.policy === 'tinylfu')
      store.set('hot', key, cached, this.deadline(answer.ttlMs, true)) // kept if it wins its place
    else if (this.#host.random() < this.#config.hotProbability)
      store.set('hot', key, cached, this.deadline(answer.ttlMs, true))
  }

  /**
   * Starts the one background refresh of a stale key, unless a flight for it is running already
   * or its last refresh failed too recently (the backoff doubles with each failure). A peer's
   * request refreshes here: it is never forwarded.
   */
  #refresh(key: string, fromPeer: boolean): void {
    if (this.flights.running(key, fromPeer) !== undefined) return
    const backoff = this.#backoffs.get(key)
    if (backoff !== undefined && this.#host.now() < backoff.until) return
    this.#counters.refreshes++
    const owner = fromPeer ? undefined : this.#host.remoteOwner(key)
    const flight = owner === undefined ? this.#localFlight(key, false) : this.#remoteFlight(owner, key).flight
    this.#refreshing.set(key, flight)
    flight.then(
      (answer) => {
        if (this.#refreshing.get(key) !== flight) return
        this.#refreshing.delete(key)
        // The owner answered with its own stale value (its refresh runs): not refreshed yet.
        if (answer.ttlMs === DO_NOT_KEEP && answer.value !== undefined) this.#backOff(key, backoff)
        else this.#backoffs.delete(key)
      },
      () => {
        if (this.#refreshing.get(key) !== flight) return
        this.#refreshing.delete(key)
        this.#counters.refreshErrors++
        this.#backOff(key, backoff)
      },
    )
  }

  /** No refresh of `key` for a while: `refreshBackoffMs`, then twice the last delay, up to 64 times it. */
  #backOff(key: string, last: { delay: number } | undefined): void {
    const base = this.#config.refreshBackoffMs
    const delay = last === undefined ? base : Math.min(last.delay * 2, base * MAX_BACKOFF_FACTOR)
    this.#backoffs.delete(key)
    if (this.#backoffs.size >= MAX_BACKOFFS) this.#backoffs.delete(this.#backoffs.keys().next().value!)
    this.#backoffs.set(key, { until: this.#host.now() + delay, delay })
  }

  #notOwner(key: string): BurrowError {
    return new BurrowError(
      'BURROW_ERR_NOT_OWNER',
      `this node does not own key ${quote(key)} of namespace ${this.#config.name} and does not hold it`,
      { namespace: this.#config.name, key },
    )
  }

  #closedError(key: string): BurrowError {
    return new BurrowError(
      'BURROW_ERR_CLOSED',
      `the node is closed; namespace ${this.#config.name} takes no new loads`,
      { namespace: this.#config.name, key },
    )
  }
}

/**
 * One ask of a key's owner, the remote flight its callers wait on, told its outcome by the peer
 * client (a `Receiver`). Its two promises are made on demand: the answer (`flight`, for a refresh
 * or a close) and the answer's value (`value`, what a local get waits for); a get that starts the
 * ask usually needs only the second. Nothing the read path throws reaches the client's socket: it
 * fails the flight instead.
 */
class OwnerAsk implements Receiver<Answer>, RemoteFlight {
  readonly path: ReadPath<unknown>
  readonly owner: string
  readonly key: string
  /** `fetchTimer()` when asked: `NOT_TIMED` unless the diagnostics channels are listened to. */
  readonly started: number
  /** What the flight settled with: the answer, or a promise of it (a failure, a fallback load). */
  #outcome: Answer | Flight | undefined = undefined
  #flight: Flight | undefined = undefined
  #settleFlight: ((outcome: Answer | Flight) => void) | undefined = undefined
  #value: Promise<StoredValue | undefined> | undefined = undefined
  #settleValue: ((value: StoredValue | undefined | Promise<StoredValue | undefined>) => void) | undefined =
    undefined

  constructor(path: ReadPath<unknown>, owner: string, key: string, started: number) {
    this.path = path
    this.owner = owner
    this.key = key
    this.started = started
  }

  get flight(): Flight {
    if (this.#flight === undefined) {
      const outcome = this.#outcome
      if (outcome === undefined) {
        this.#flight = new Promise((resolve) => {
          this.#settleFlight = resolve
        })
      } else {
        this.#flight = outcome instanceof Promise ? outcome : Promise.resolve(outcome)
      }
    }
    return this.#flight
  }

  get value(): Promise<StoredValue | undefined> {
    if (this.#value === undefined) {
      const outcome = this.#outcome
      if (outcome === undefined) {
        this.#value = new Promise((resolve) => {
          this.#settleValue = resolve
        })
      } else {
        this.#value = outcome instanceof Promise ? outcome.then(answerValue) : Promise.resolve(outcome.value)
      }
    }
    return this.#value
  }

  answered(answer: Answer): void {
    let outcome: Answer | Flight
    try {
      outcome = this.path.ownerAnswered(this, answer)
    } catch (err) {
      this.path.flights.endRemote(this.key, this)
      outcome = Promise.reject(err)
    }
    this.#settle(outcome)
  }

  /**
   * Handled a microtask later, not inside the peer client's call: a failure may probe the owner
   * or run the loader here (a fallback), and the client may be in the middle of closing
   * connections (`retain`, `close`), as it was when failures came as a promise's rejection.
   */
  failed(reason: unknown): void {
    queueMicrotask(() => {
      let outcome: Flight
      try {
        outcome = this.path.ownerFailed(this, reason)
      } catch (err) {
        this.path.flights.endRemote(this.key, this)
        outcome = Promise.reject(err)
      }
      this.#settle(outcome)
    })
  }

  #settle(outcome: Answer | Flight): void {
    this.#outcome = outcome
    // A failure is handled by whoever waits on the flight or the value; never unhandled here.
    if (outcome instanceof Promise) outcome.catch(ignore)
    this.#settleFlight?.(outcome)
    this.#settleValue?.(outcome instanceof Promise ? outcome.then(answerValue) : outcome.value)
    this.#settleFlight = undefined
    this.#settleValue = undefined
  }
}

function isRemote(answer: Answer | Promise<Answer> | RemoteFlight): answer is RemoteFlight {
  return answer instanceof OwnerAsk
}

function answerValue(answer: Answer): StoredValue | undefined {
  return answer.value
}

function ignore(): void {}
