/**
 * The redis-server anchor: found (or installed from Debian's package when running as root),
 * started on a free loopback port with persistence off, and stopped by the PID recorded at start.
 *
 * @module
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { freePort, HOST, waitForPong } from './net.mjs'

/** What to run by hand when the bench cannot install redis-server itself. */
export const INSTALL_HINT = 'sudo apt-get update && sudo apt-get install -y redis-server'

/** @returns {string | undefined} the path of redis-server, if one is installed */
function findRedis() {
  for (const path of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(path)) return path
  }
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const path = which.stdout?.trim()
  return which.status === 0 && path ? path : undefined
}

/**
 * The path of redis-server, installing Debian's package if it is missing and we are root.
 * Returns `{ path }`, or `{ skipped: reason }` after printing what to run by hand; never throws.
 *
 * @param {(line: string) => void} log
 * @returns {{ path?: string, skipped?: string }}
 */
export function ensureRedis(log) {
  const found = findRedis()
  if (found !== undefined) return { path: found }
  if (process.getuid?.() !== 0) {
    log(`redis-server is not installed and this is not root; run: ${INSTALL_HINT}`)
    return { skipped: `redis-server missing; run: ${INSTALL_HINT}` }
  }
  log('redis-server is missing: installing Debian package redis-server')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const opts = { stdio: 'inherit', env, timeout: 240_000 }
  let install = spawnSync('apt-get', ['install', '-y', 'redis-server'], opts)
  if (install.status !== 0) {
    // The package lists may be missing or stale on a fresh machine.
    spawnSync('apt-get', ['update'], opts)
    install = spawnSync('apt-get', ['install', '-y', 'redis-server'], opts)
  }
  const path = findRedis()
  if (path !== undefined) return { path }
  log(`installing redis-server failed; run: ${INSTALL_HINT}`)
  return { skipped: `redis-server could not be installed; run: ${INSTALL_HINT}` }
}

/**
 * Starts redis-server on a free loopback port, without persistence, as our child.
 *
 * @param {string} path the redis-server binary
 * @returns {Promise<{ port: number, pid: number, stop: () => Promise<void> }>}
 */
export async function startRedis(path) {
  const port = await freePort()
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
  ]
  const proc = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let exited = false
  const exit = new Promise((resolve) => proc.once('exit', resolve))
  exit.then(() => {
    exited = true
  })
  const pid = proc.pid
  const stop = async () => {
    if (exited) return
    process.kill(pid, 'SIGTERM')
    const timer = setTimeout(() => !exited && process.kill(pid, 'SIGKILL'), 2000)
    await exit
    clearTimeout(timer)
  }
  running.add(pid)
  exit.then(() => running.delete(pid))
  try {
    await waitForPong(port, 10_000)
  } catch (err) {
    await stop()
    throw err
  }
  return { port, pid, stop }
}

/** PIDs of redis-servers we started and that have not exited yet. */
const running = new Set()

/** Synchronous last resort on process exit: SIGKILL the redis-servers we started, by PID. */
export function killRedisSync() {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

/**
 * Runs redis-benchmark (`tool`, default the one on the PATH) once against `port` with `args`,
 * killed by its PID past `timeoutMs`; its requests per second and latencies from the CSV.
 *
 * @param {number} port
 * @param {string[]} args
 * @param {{ tool?: string, timeoutMs?: number }} [options]
 * @returns {{ rps: number, p50Ms: number, p99Ms: number }}
 */
export function runRedisBenchmark(port, args, { tool = 'redis-benchmark', timeoutMs = 60_000 } = {}) {
  const run = spawnSync(tool, ['-h', HOST, '-p', String(port), '--csv', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  })
  if (run.status !== 0)
    throw new Error(
      `redis-benchmark failed (${run.status ?? run.signal}): ${(run.stderr ?? '').slice(0, 500)}`,
    )
  // "name","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const line = run.stdout.trim().split('\n').at(-1) ?? ''
  const fields = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1])
  const rps = Number(fields[1])
  if (!(rps > 0)) throw new Error(`unreadable redis-benchmark output: ${run.stdout.slice(0, 500)}`)
  return { rps: Math.round(rps), p50Ms: Number(fields[4]), p99Ms: Number(fields[6]) }
}
