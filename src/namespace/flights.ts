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
import type { Answer } from '../transport/served.ts'

export type Flight = Promise<Answer>

/**
 * Running flights by key, in an object without a prototype (so any string is a safe key). Not a
 * Map: with one set and one delete per miss, a Map keyed by strings kept a third of each
 * scavenge's young objects alive (measured with --trace-gc-nvp: 3.8 ms pauses and 31 % survival,
 * against 0.2 ms and 1.6 % for an object), and those pauses were the remote p99.
 */
type FlightTable = Record<string, Flight | undefined>

function flightTable(): FlightTable {
  return Object.create(null)
}

/** The running flights of one namespace. */
export class Flights {
  /** Flights that run the loader on this node. */
  local = flightTable()
  /** Flights that ask the key's owner. */
  remote = flightTable()
  /** Rejecters of the local flights (detached ones too), for close: a loader may ignore its signal. */
  #guards = new Set<{ key: string; reject: (err: unknown) => void; flight?: Flight }>()

  /** The flight a request may join: for a peer's request, only one that runs the loader here. */
  running(key: string, fromPeer: boolean): Flight | undefined {
    return this.local[key] ?? (fromPeer ? undefined : this.remote[key])
  }

  /**
   * Starts the local flight of `key`, running `load`. When it resolves while still current (not
   * detached), `keep` is called to cache the answer. Closing rejects its waiters at once.
   */
  startLocal(
    key: string,
    load: () => Promise<Answer>,
    keep: (answer: Answer, current: boolean) => void,
  ): Flight {
    const flight: Flight = this.#guarded(key, load, (answer) => {
      const current = this.local[key] === flight
      if (current) delete this.local[key]
      if (answer !== undefined) keep(answer, current)
    })
    this.local[key] = flight
    return flight
  }

  /** Runs `load` for the waiters of a detached flight: in no table, caching nothing, closed with the node. */
  runDetached(key: string, load: () => Promise<Answer>): Flight {
    return this.#guarded(key, load, () => {})
  }

  /** Registers `flight` as the remote flight of `key`. */
  setRemote(key: string, flight: Flight): void {
    this.remote[key] = flight
  }

  /** Ends `flight` as the remote flight of `key`; returns whether it was current (not detached). */
  endRemote(key: string, flight: Flight): boolean {
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

  /** `load`, whose waiters `closeAll` rejects at once; `settled` sees the answer (undefined: it failed). */
  #guarded(key: string, load: () => Promise<Answer>, settled: (answer: Answer | undefined) => void): Flight {
    let guard!: { key: string; reject: (err: unknown) => void; flight?: Flight }
    const flight = new Promise<Answer>((resolve, reject) => {
      guard = { key, reject, flight: undefined }
      this.#guards.add(guard)
      load().then(
        (answer) => {
          this.#guards.delete(guard)
          settled(answer)
          resolve(answer)
        },
        (err: unknown) => {
          this.#guards.delete(guard)
          settled(undefined)
          reject(err)
        },
      )
    })
    guard.flight = flight
    return flight
  }

  /** Every flight running now, local, detached or remote: what a graceful close waits for. */
  inFlight(): Flight[] {
    const flights: Flight[] = []
    for (const guard of this.#guards) if (guard.flight !== undefined) flights.push(guard.flight)
    for (const key in this.remote) flights.push(this.remote[key]!)
    return flights
  }

  /** Rejects the waiters of every local flight with `err` and forgets every flight; the node is closing. */
  closeAll(err: (key: string) => unknown): void {
    for (const { key, reject } of this.#guards) reject(err(key))
    this.#guards.clear()
    this.local = flightTable()
    this.remote = flightTable()
  }
}
