import { afterEach, describe, expect, it } from 'vitest'
import { BusyPoll } from '../src/transport/busy-poll.ts'
import { closeAll, node, sleep, thrownBy } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(closeAll)

/** One turn of the event loop: a spin polls once per turn. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A poller over a clock the test moves (ms). */
function poller(micros: number): { poll: BusyPoll; clock: { t: number } } {
  const clock = { t: 1000 }
  return { poll: new BusyPoll(micros, () => clock.t), clock }
}

describe('busy polling (busyPollMicros)', () => {
  it('a lone read starts no spin; a second read within the budget does', async () => {
    const { poll, clock } = poller(100)
    poll.read()
    expect(poll.spinning).toBe(false)
    clock.t += 0.5 // 500 µs later: past the budget
    poll.read()
    expect(poll.spinning).toBe(false)
    clock.t += 0.05
    poll.read()
    expect(poll.spinning).toBe(true)
    expect(poll.counters.spins).toBe(1)
    poll.stop()
  })

  it('a spin polls while reads keep coming, and stops once none came for the budget', async () => {
    const { poll, clock } = poller(100)
    poll.read()
    clock.t += 0.01
    poll.read()
    // Reads every 50 µs for 3 ms (past a check of what the polls found), each in its own turn of
    // the loop: the spin goes on.
    for (let i = 0; i < 60; i++) {
      clock.t += 0.05
      poll.read()
      await turn()
      expect(poll.spinning).toBe(true)
    }
    // Then nothing: within the budget it still polls, past it it stops.
    clock.t += 0.08
    await turn()
    expect(poll.spinning).toBe(true)
    clock.t += 0.05
    await turn()
    expect(poll.spinning).toBe(false)
    expect(poll.counters).toEqual({ spins: 1, timedOut: 1, vain: 0 })
  })

  it('writes are work too: they keep a spin going and count against polling in vain', async () => {
    const { poll, clock } = poller(100)
    poll.read()
    poll.read()
    // 4 ms of turns that each write (as a node answering, or asking a peer), with no read.
    for (let i = 0; i < 80; i++) {
      clock.t += 0.05
      poll.wrote()
      await turn()
    }
    expect(poll.spinning).toBe(true)
    expect(poll.counters).toEqual({ spins: 1, timedOut: 0, vain: 0 })
    // A write alone starts nothing once the spin is over.
    clock.t += 0.2
    await turn()
    expect(poll.spinning).toBe(false)
    poll.wrote()
    poll.wrote()
    expect(poll.spinning).toBe(false)
  })

  it('a spin whose polls mostly find nothing stops, and none starts again for a while', async () => {
    const { poll, clock } = poller(1000)
    poll.read()
    poll.read()
    // A read every tenth poll, each poll 20 µs apart: nine empty polls in ten, within the budget.
    let turns = 0
    while (poll.spinning && turns < 1000) {
      clock.t += 0.02
      if (turns % 10 === 0) poll.read()
      await turn()
      turns++
    }
    expect(poll.spinning).toBe(false)
    expect(poll.counters).toMatchObject({ spins: 1, vain: 1, timedOut: 0 })
    // Resting: reads close together start nothing...
    poll.read()
    clock.t += 0.01
    poll.read()
    expect(poll.spinning).toBe(false)
    // ...until the rest is over.
    clock.t += 100
    poll.read()
    clock.t += 0.01
    poll.read()
    expect(poll.spinning).toBe(true)
    poll.stop()
  })

  it('short spins that each run out in vain add up, and polling rests', async () => {
    const { poll, clock } = poller(100)
    // A pair of reads every 150 µs: each pair starts a spin that polls 100 µs for nothing.
    let pairs = 0
    while (poll.counters.vain === 0 && pairs < 200) {
      poll.read()
      clock.t += 0.01
      poll.read()
      pairs++
      while (poll.spinning) {
        clock.t += 0.02
        await turn()
      }
      clock.t += 0.03
    }
    // ~2 ms of polling in vain, ~100 µs a spin: about twenty spins, not two hundred.
    expect(pairs).toBeLessThan(40)
    expect(poll.counters).toEqual({ spins: pairs, timedOut: pairs - 1, vain: 1 })
    // Resting now: the next pairs start nothing.
    poll.read()
    clock.t += 0.01
    poll.read()
    expect(poll.spinning).toBe(false)
  })

  it('stop() ends a spin, and reads start none after it', async () => {
    const { poll, clock } = poller(100)
    poll.read()
    poll.read()
    expect(poll.spinning).toBe(true)
    poll.stop()
    expect(poll.spinning).toBe(false)
    clock.t += 0.01
    poll.read()
    poll.read()
    await turn()
    expect(poll.spinning).toBe(false)
    expect(poll.counters.spins).toBe(1)
  })

  it('nodes that poll answer remote gets rightly, and count their spins in stats()', async () => {
    const { nodes, namespaces, loads } = await cluster(2, {
      namespace: { hot: false },
      node: { busyPollMicros: 500 },
    })
    const remote = Array.from({ length: 200 }, (_, i) => `key-${i}`).filter(
      (key) => nodes[0]!.ownerOf(key) === nodes[1]!.self,
    )
    const values = await Promise.all(remote.map((key) => namespaces[0]!.get(key)))
    expect(values).toEqual(remote.map((key) => `value of ${key}`))
    expect(loads.map((l) => l.self)).toEqual(remote.map(() => nodes[1]!.self))
    // A second round while the first's replies are still fresh: reads come close together.
    for (let round = 0; round < 20; round++) await Promise.all(remote.map((key) => namespaces[0]!.get(key)))
    const spins = nodes.map((n) => n.stats().busyPoll.spins)
    expect(spins[0]! + spins[1]!).toBeGreaterThan(0)
    // Once the traffic stops, every spin ends by itself (500 µs with nothing to read).
    const ended = (): boolean =>
      nodes.every((n) => {
        const { spins, timedOut, vain } = n.stats().busyPoll
        return spins === timedOut + vain
      })
    for (let waited = 0; !ended() && waited < 2000; waited += 10) await sleep(10)
    for (const n of nodes) {
      const { spins, timedOut, vain } = n.stats().busyPoll
      expect(timedOut + vain).toBe(spins)
    }
  })

  it('close() ends a spin under way: the nodes leave no immediate behind', async () => {
    const { nodes, namespaces } = await cluster(2, {
      namespace: { hot: false },
      node: { busyPollMicros: 10_000 },
    })
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`)
    const immediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length
    // Gets keep coming until the nodes close; one of them is polling meanwhile.
    let closing = false
    const traffic = (async () => {
      for (let round = 0; round < 10_000 && !closing; round++)
        await Promise.all(keys.map((key) => namespaces[0]!.get(key))).catch(() => {})
    })()
    for (let waited = 0; immediates() === 0 && waited < 2000; waited++) await sleep(1)
    expect(immediates()).toBeGreaterThan(0)
    closing = true
    await Promise.all(nodes.map((n) => n.close()))
    await traffic
    expect(nodes.some((n) => n.stats().busyPoll.spins > 0)).toBe(true)
    expect(immediates()).toBe(0)
  })

  it('a node that does not poll reports no spins', async () => {
    const { nodes, namespaces } = await cluster(2, { namespace: { hot: false } })
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 50 }, (_, i) => namespaces[0]!.get(`key-${i}`)))
    for (const n of nodes) expect(n.stats().busyPoll).toEqual({ spins: 0, timedOut: 0, vain: 0 })
  })

  it('refuses a busyPollMicros that is not an integer in [0, 10000]', () => {
    for (const bad of [-1, 1.5, 10_001, '50']) {
      const err = thrownBy(() => node({ busyPollMicros: bad as number }))
      expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
      expect(err.message).toContain('busyPollMicros')
    }
  })
})
