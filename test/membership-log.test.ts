/**
 * The membership log behind `/_burrow/ring`'s events: bounded, oldest first, its own node's
 * messages only, and subscribed only between start() and stop().
 */
import { hasSubscribers } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { channels, diagnosticsChannels } from '../src/diagnostics.ts'
import { MembershipLog } from '../src/membership/membership-log.ts'
import { closeAll, manualClock, node } from './helpers.ts'

afterEach(closeAll)

const MEMBERSHIP = [diagnosticsChannels.ring, diagnosticsChannels.peerDown, diagnosticsChannels.peerUp]

describe('MembershipLog', () => {
  it('keeps the latest events up to its capacity, oldest first, with their times', () => {
    const self = { self: 'http://127.0.0.1:1' }
    const clock = manualClock()
    const log = new MembershipLog(self, { now: clock.now, capacity: 3 })
    log.start([self.self])
    for (let i = 0; i < 4; i++) {
      clock.t += 1000
      channels.peerDown.publish({ node: self, peer: `http://127.0.0.1:${10 + i}`, reason: 'unreachable' })
    }
    clock.t += 1000
    channels.peerUp.publish({ node: self, peer: 'http://127.0.0.1:13' })
    log.stop()
    // listen, four downs and an up: the last three are kept.
    expect(log.events()).toEqual([
      { at: clock.t - 2000, type: 'peer.down', peer: 'http://127.0.0.1:12', reason: 'unreachable' },
      { at: clock.t - 1000, type: 'peer.down', peer: 'http://127.0.0.1:13', reason: 'unreachable' },
      { at: clock.t, type: 'peer.up', peer: 'http://127.0.0.1:13' },
    ])
  })

  it("records only its own node's messages, and nothing once stopped", () => {
    const mine = { self: 'http://127.0.0.1:1' }
    const other = { self: 'http://127.0.0.1:2' }
    const clock = manualClock()
    const log = new MembershipLog(mine, { now: clock.now })
    log.start([mine.self, other.self])
    channels.ring.publish({ node: other, peers: [other.self], added: [], removed: [mine.self] })
    channels.ring.publish({ node: mine, peers: [mine.self], added: [], removed: [other.self] })
    log.stop()
    channels.peerUp.publish({ node: mine, peer: other.self })
    expect(log.events()).toEqual([
      { at: clock.t, type: 'listen', peers: [mine.self, other.self] },
      { at: clock.t, type: 'ring', peers: 1, added: [], removed: [other.self] },
    ])
  })

  it('a node subscribes to the membership channels from listen() to close(), not before', async () => {
    const n = node()
    expect(MEMBERSHIP.some((name) => hasSubscribers(name))).toBe(false)
    await n.listen()
    for (const name of MEMBERSHIP) expect(hasSubscribers(name)).toBe(true)
    expect(hasSubscribers(diagnosticsChannels.loadStart)).toBe(false)
    await n.close()
    expect(MEMBERSHIP.some((name) => hasSubscribers(name))).toBe(false)
  })
})
