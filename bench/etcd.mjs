#!/usr/bin/env node
/**
 * Membership through etcd, timed: `npm run build && node bench/etcd.mjs`.
 *
 * Starts its own etcd (/usr/bin/etcd, or $BURROW_ETCD) on free loopback ports with a temporary data
 * dir, and stops it by its PID at the end. An observer node (this process, liveness off so only
 * etcd changes its ring) and nodes using etcdPeers with the default options. Each round times:
 * listen() of a node (lease, put, read, watch); its arrival on the observer's ring; its removal
 * after close() (revoking the lease); and, with a child process and a 2 s lease, its removal
 * after SIGKILL (the lease running out). Every wait is capped; prints median and range.
 *
 * @module
 */
import { fork, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { etcdPeers } from '../dist/etcd.js'
import { Burrow } from '../dist/index.js'
import { freePort, HOST, untilPeers } from './lib/net.mjs'

const ROUNDS = 5
const CAP_MS = 15_000
const KILLED_LEASE_S = 2

async function startEtcd() {
  const dataDir = await mkdtemp(join(tmpdir(), 'burrow-bench-etcd-'))
  const client = `http://${HOST}:${await freePort()}`
  const peer = `http://${HOST}:${await freePort()}`
  const proc = spawn(
    process.env.BURROW_ETCD ?? '/usr/bin/etcd',
    [
      '--name=default',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--logger=zap',
      '--log-level=error',
    ],
    { stdio: 'ignore' },
  )
  const deadline = Date.now() + 30_000
  for (;;) {
    const healthy = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) })
      .then((res) => res.json())
      .then((body) => body.health === 'true')
      .catch(() => false)
    if (healthy) break
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error('etcd did not become healthy')
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url: client,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve))
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

function startChild(options) {
  const script = fileURLToPath(new URL('./children/etcd-node.mjs', import.meta.url))
  const proc = fork(script, [], {
    env: { ...process.env, BURROW_ETCD: JSON.stringify(options) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error('the child node did not start'))
    }, CAP_MS)
    proc.once('message', (m) => {
      clearTimeout(timer)
      resolve({ proc, self: m.self })
    })
  })
}

const etcd = await startEtcd()
const results = { listen: [], joined: [], closed: [], killed: [] }
const children = new Set()
try {
  for (let round = 0; round < ROUNDS; round++) {
    const options = { endpoints: [etcd.url], prefix: `/bench/${round}/` }
    const observer = new Burrow({ liveness: false, peers: etcdPeers(options) })
    await observer.listen()
    const node = new Burrow({ peers: etcdPeers(options) })
    let started = performance.now()
    await node.listen()
    results.listen.push(performance.now() - started)
    results.joined.push(await untilPeers(observer, (p) => p.includes(node.self), CAP_MS, started))
    started = performance.now()
    await node.close()
    results.closed.push(await untilPeers(observer, (p) => !p.includes(node.self), CAP_MS, started))
    if (round < 2) {
      const child = await startChild({ ...options, leaseTtlSeconds: KILLED_LEASE_S })
      children.add(child.proc)
      await untilPeers(observer, (p) => p.includes(child.self), CAP_MS)
      started = performance.now()
      child.proc.kill('SIGKILL')
      results.killed.push(await untilPeers(observer, (p) => !p.includes(child.self), CAP_MS, started))
    }
    await observer.close()
  }
} finally {
  for (const proc of children) proc.kill('SIGKILL')
  await etcd.stop()
}
const line = (name, times) => {
  const sorted = [...times].sort((a, b) => a - b)
  const ms = (t) => `${Math.round(t)} ms`
  console.log(
    `${name}: median ${ms(sorted[sorted.length >> 1])}, range ${ms(sorted[0])}–${ms(sorted.at(-1))} (${times.length} rounds)`,
  )
}
console.log(
  `etcdPeers, default options (lease 10 s, debounce 100 ms), etcd on loopback, node ${process.version}`,
)
line('listen() (lease, put, read, watch)', results.listen)
line('listen() start -> on the observer ring', results.joined)
line('close() start -> off the observer ring', results.closed)
line(`killed (SIGKILL, lease ${KILLED_LEASE_S} s) -> off the observer ring`, results.killed)
process.exit(0)
