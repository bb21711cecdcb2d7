/**
 * Flights: the one in-progress load of a key that every concurrent caller waits on. A flight that
 * runs the loader here and one that asks the owner are kept apart, because a request from a peer
 * may only join the former: joining a flight that asks a peer would be forwarding, and two nodes
 * that disagree about the owner would then wait on each other until the deadline.
 *
 * A write of a key (`set`, `delete`, a purge from a peer) *detaches* its flights: they leave the
 * table, so every get that starts afterwards starts a new flight, and a detached flight still
 * answers its own waiters but caches nothing. The flight's identity is the token, not the time.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'
import type { Answer } from '../transport/served.ts'

export type Flight = Promise<Answer>

/** A flight that asks the key's owner (the read path's `OwnerAsk`): its promises made on demand. */
export interface RemoteFlight {
  /** The answer. */
  readonly flight: Flight
  /** The answer's value: what a local get waits for. */
  readonly value: Promise<StoredValue | undefined>
}

/**
 * Running flights by key, in an object without a prototype (so any string is a safe key). Not a
 * Map: with one set and one delete per miss, a Map keyed by strings kept a third of each
 * scavenge's young objects alive (measured with --trace-gc-nvp: 3.8 ms pauses and 31 % survival,
 * against 0.2 ms and 1.6 % for an object), and those pauses were the remote p99.
 */
type FlightTable<F> = Record<string, F | undefined>

function flightTable<F>(): FlightTable<F> {
  return Object.create(null)
}

/** The running flights of one namespace. */
export class Flights {
  /** Flights that run the loader on this node. */
  local = flightTable<Flight>()
  /** Flights that ask the key's owner. */
  remote = flightTable<RemoteFlight>()
  /**
   * The local flights running (detached ones too), newest first, for close: a loader may ignore
   * its signal. A list through the guards themselves, not a Set: a Set with one add and one
   * delete per miss reallocated its table every few misses.
   */
  #newest: Guard | undefined

  /** The flight a request may join: for a peer's request, only one that runs the loader here. */
  running(key: string, fromPeer: boolean): Flight | RemoteFlight | undefined {
    return this.local[key] ?? (fromPeer ? undefined : this.remote[key])
  }

  /**
   * Starts the local flight of `key`, running `load`. When it resolves while still current (not
   * detached), `keep` is called to cache the answer. Closing rejects its waiters at once.
   */
  startLocal(key: string, load: () => Promise<Answer>, keep: Keep): Flight {
    const flight = this.#guarded(key, load, keep)
    this.local[key] = flight
    return flight
  }

  /** Runs `load` for the waiters of a detached flight: in no table, caching nothing, closed with the node. */
  runDetached(key: string, load: () => Promise<Answer>): Flight {
    return this.#guarded(key, load, undefined)
  }

  /** Registers `flight` as the remote flight of `key`. */
  setRemote(key: string, flight: RemoteFlight): void {
    this.remote[key] = flight
  }

  /** Ends `flight` as the remote flight of `key`; returns whether it was current (not detached). */
  endRemote(key: string, flight: RemoteFlight): boolean {
    if (this.remote[key] !== flight) return false
    delete this.remote[key]
    return true
  }

  /** Detaches every flight: the namespace was flushed. */
  detachAll(): void {
    this.local = flightTable()
    this.remote = flightTable()
  }

  /** Detaches the flights of `key`: a write came. */
  detach(key: string): void {
    delete this.local[key]
    delete this.remote[key]
  }

  /**
   * `load`, whose waiters `closeAll` rejects at once. A flight with `keep` is a local flight: when
   * it settles it leaves the table (if it is still there) and `keep` sees its answer.
   */
  #guarded(key: string, load: () => Promise<Answer>, keep: Keep | undefined): Flight {
    const guard = new Guard(key, keep)
    const flight = new Promise<Answer>((resolve, reject) => {
      guard.resolve = resolve
      guard.reject = reject
    })
    guard.flight = flight
    this.#list(guard)
    let loading: Promise<Answer>
    try {
      loading = load()
    } catch (err) {
      loading = Promise.reject(err)
    }
    loading.then(
      (answer) => {
        this.#unlist(guard)
        this.#settled(guard, answer)
        guard.resolve(answer)
      },
      (err: unknown) => {
        this.#unlist(guard)
        this.#settled(guard, undefined)
        guard.reject(err)
      },
    )
    return flight
  }

  /** A local flight settled (`answer` undefined: it failed): out of the table, and kept if it answered. */
  #settled(guard: Guard, answer: Answer | undefined): void {
    const keep = guard.keep
    if (keep === undefined) return
    const current = this.local[guard.key] === guard.flight
    if (current) delete this.local[guard.key]
    if (answer !== undefined) keep(answer, current)
  }

  #list(guard: Guard): void {
    const newest = this.#newest
    guard.older = newest
    if (newest !== undefined) newest.newer = guard
    this.#newest = guard
  }

  #unlist(guard: Guard): void {
    const { newer, older } = guard
    if (older !== undefined) older.newer = newer
    if (newer !== undefined) newer.older = older
    else if (this.#newest === guard) this.#newest = older
    guard.newer = undefined
    guard.older = undefined
  }

  /** Every flight running now, local, detached or remote: what a graceful close waits for. */
  inFlight(): Flight[] {
    const flights: Flight[] = []
    for (let guard = this.#newest; guard !== undefined; guard = guard.older) flights.push(guard.flight)
    for (const key in this.remote) flights.push(this.remote[key]!.flight)
    return flights
  }

  /** Rejects the waiters of every local flight with `err` and forgets every flight; the node is closing. */
  closeAll(err: (key: string) => unknown): void {
    for (let guard = this.#newest; guard !== undefined; guard = guard.older) guard.reject(err(guard.key))
    this.#newest = undefined
    this.local = flightTable()
    this.remote = flightTable()
  }
}

/** Caches a local flight's answer; `current`: the flight was still in the table (no write came). */
type Keep = (answer: Answer, current: boolean) => void

/**
 * A flight while it runs: how to settle it, what keeps its answer (none for a detached flight),
 * and its neighbours in the list of running flights.
 */
class Guard {
  readonly key: string
  readonly keep: Keep | undefined
  flight!: Flight
  resolve!: (answer: Answer) => void
  reject!: (err: unknown) => void
  newer: Guard | undefined = undefined
  older: Guard | undefined = undefined

  constructor(key: string, keep: Keep | undefined) {
    this.key = key
    this.keep = keep
  }
}
