/** Small helpers shared by the tests. */
import { createServer } from 'node:net'
import { expect } from 'vitest'
import { Burrow, BurrowError, type BurrowOptions } from '../src/index.ts'

/** A promise with its resolve and reject exposed. */
export function deferred<T>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (err: unknown) => void
} {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Nodes made by {@link node} are closed by {@link closeAll} (call it in afterEach). */
const open = new Set<Burrow>()

export function node(options: BurrowOptions = {}): Burrow {
  const n = new Burrow(options)
  open.add(n)
  return n
}

/** Cleanups registered by {@link onCleanup}, run first by {@link closeAll}. */
const cleanups: (() => unknown)[] = []

/** Registers `fn` (closing a client, a socket) to run at the next {@link closeAll}. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn)
}

export async function closeAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  const nodes = [...open]
  open.clear()
  await Promise.all(nodes.map((n) => n.close()))
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The settled states of `promises`, in order. */
export function settled<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(promises)
}

/** The BurrowError that `fn` throws; fails the test when it throws nothing or something else. */
export function thrownBy(fn: () => unknown): BurrowError {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(BurrowError)
  return thrown as BurrowError
}

/** A clock that moves only when a test moves it: `clock.t += 1000`. */
export function manualClock(start = 1_000_000): { t: number; now: () => number } {
  const clock = { t: start, now: () => clock.t }
  return clock
}

/** A loader that counts its calls per key and answers `${key}@${n}` for the n-th call. */
export function versioned(): { calls: Map<string, number>; load: (key: string) => string } {
  const calls = new Map<string, number>()
  return {
    calls,
    load: (key) => {
      const n = (calls.get(key) ?? 0) + 1
      calls.set(key, n)
      return `${key}@${n}`
    },
  }
}

/** Resolves with `n`'s ring once `test` holds for it (now, or at a later 'peers' event). */
export function ringWhere(
  n: Burrow,
  test: (peers: readonly string[]) => boolean,
): Promise<readonly string[]> {
  if (test(n.peers)) return Promise.resolve(n.peers)
  return new Promise((resolve) => {
    const listener = (peers: readonly string[]) => {
      if (!test(peers)) return
      n.off('peers', listener)
      resolve(peers)
    }
    n.on('peers', listener)
  })
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a node that needs a fixed `self`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}
