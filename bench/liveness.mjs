#!/usr/bin/env node
/**
 * Detection times of liveness, default options: `npm run build && node bench/liveness.mjs`.
 *
 * An observer node (this process) and three nodes in child processes, on loopback. Each round
 * kills one child (SIGKILL), or freezes one (SIGSTOP) then thaws it (SIGCONT), and times how long
 * until the observer's ring drops it, and takes it back. Every wait is capped at 10 s; children
 * are killed by their PIDs at the end. Prints one line per measure: median and range over rounds.
 *
 * @module
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Burrow } from '../dist/index.js'
import { untilPeers } from './lib/net.mjs'

const ROUNDS = 5
const CAP_MS = 10_000
const child = fileURLToPath(new URL('./children/liveness-node.mjs', import.meta.url))
const running = new Set()

function startChild() {
  const proc = fork(child, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  running.add(proc)
  proc.once('exit', () => running.delete(proc))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('a child node did not start')), CAP_MS)
    proc.once('message', (m) => {
      clearTimeout(timer)
      resolve({ proc, self: m.self })
    })
  })
}

async function cluster() {
  const observer = new Burrow({ self: 'http://127.0.0.1:0' })
  await observer.listen()
  const nodes = await Promise.all([startChild(), startChild(), startChild()])
  const peers = [observer.self, ...nodes.map((n) => n.self)]
  for (const n of nodes) n.proc.send({ peers })
  observer.setPeers(peers)
  return { observer, nodes }
}

const results = { killed: [], frozen: [], thawed: [] }
try {
  for (let round = 0; round < ROUNDS; round++) {
    const { observer, nodes } = await cluster()
    const [victim, sleeper] = nodes
    // Both are on the ring, and probed, before anything happens to them.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    // A random offset, so that the events do not line up with the probe interval.
    const offset = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 500))
    await offset()
    victim.proc.kill('SIGKILL')
    results.killed.push(await untilPeers(observer, (p) => !p.includes(victim.self), CAP_MS))
    await offset()
    sleeper.proc.kill('SIGSTOP')
    results.frozen.push(await untilPeers(observer, (p) => !p.includes(sleeper.self), CAP_MS))
    await offset()
    sleeper.proc.kill('SIGCONT')
    results.thawed.push(await untilPeers(observer, (p) => p.includes(sleeper.self), CAP_MS))
    await observer.close()
    for (const n of nodes) n.proc.kill('SIGKILL')
  }
} finally {
  for (const proc of running) {
    proc.kill('SIGCONT')
    proc.kill('SIGKILL')
  }
}
const line = (name, times) => {
  const sorted = [...times].sort((a, b) => a - b)
  const ms = (t) => `${Math.round(t)} ms`
  console.log(
    `${name}: median ${ms(sorted[sorted.length >> 1])}, range ${ms(sorted[0])}–${ms(sorted.at(-1))} (${times.length} rounds)`,
  )
}
console.log(`liveness, default options (interval 500 ms, probe deadline 1000 ms), node ${process.version}`)
line('killed (SIGKILL) -> off the ring', results.killed)
line('frozen (SIGSTOP) -> off the ring', results.frozen)
line('thawed (SIGCONT) -> back on the ring', results.thawed)
process.exit(0)
