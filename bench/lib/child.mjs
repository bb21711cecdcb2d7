/**
 * Child processes for the bench: each implementation runs in a process of its own (so call sites
 * stay monomorphic and heaps stay apart). The parent forks a child and calls named commands on it
 * over the IPC channel; every call has a timeout, and every child is killed by its PID when the
 * parent is done with it (or when the parent exits, whatever the reason).
 *
 * Parent side: {@link withChild}, {@link startChild}, {@link killAllChildren}.
 * Child side: {@link serve}.
 *
 * @module
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Children alive right now, so that a crash or Ctrl-C of the parent can still kill them. */
const alive = new Set()

/**
 * Extra node flags for every child, from the environment: e.g.
 * `BENCH_CHILD_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node bench/run.mjs --only local-hit-peek`
 * writes a CPU profile per child process.
 */
const EXTRA_FLAGS = (process.env.BENCH_CHILD_FLAGS ?? '').split(/\s+/).filter(Boolean)

/** How long a child gets to exit after SIGTERM before it gets SIGKILL. */
const TERM_GRACE_MS = 1500

/** A forked child and the commands in flight to it. */
export class ChildHandle {
  /**
   * @param {import('node:child_process').ChildProcess} proc
   * @param {string} name for messages
   */
  constructor(proc, name) {
    this.proc = proc
    this.pid = proc.pid
    this.name = name
    this.exited = false
    this.stderr = ''
    this.nextId = 1
    /** @type {Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>} */
    this.calls = new Map()
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exited = true
        alive.delete(this)
        const why = new Error(
          `child ${name} exited (code ${code}, signal ${signal}) ${this.stderr.slice(-2000)}`,
        )
        for (const call of this.calls.values()) call.reject(why)
        this.calls.clear()
        resolve()
      })
    })
    // Forwarded as it comes (a warning printed by the library is worth seeing), and its tail kept
    // for the error message should the child die.
    proc.stderr?.on('data', (chunk) => {
      process.stderr.write(chunk)
      this.stderr = (this.stderr + chunk).slice(-8000)
    })
    proc.on('message', (msg) => this.#onMessage(msg))
  }

  /**
   * Runs command `cmd` in the child and resolves its result.
   *
   * @param {string} cmd
   * @param {unknown} [args]
   * @param {number} [timeoutMs]
   * @returns {Promise<any>}
   */
  call(cmd, args = {}, timeoutMs = 60_000) {
    if (this.exited)
      return Promise.reject(new Error(`child ${this.name} is gone: ${this.stderr.slice(-2000)}`))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id)
        reject(new Error(`child ${this.name}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.calls.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.proc.send({ id, cmd, args })
    })
  }

  /** SIGTERM, then SIGKILL if the child is still there after a grace period. Idempotent. */
  async kill() {
    if (this.exited) return
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => {
      if (!this.exited) this.proc.kill('SIGKILL')
    }, TERM_GRACE_MS)
    await this.exitPromise
    clearTimeout(timer)
  }

  #onMessage(msg) {
    const call = this.calls.get(msg?.id)
    if (call === undefined) return
    this.calls.delete(msg.id)
    if (msg.ok) call.resolve(msg.value)
    else call.reject(new Error(`child ${this.name}: ${msg.error}`))
  }
}

/**
 * Forks `file` (a path relative to bench/children/) with the given node flags.
 *
 * @param {string} file e.g. 'local-hit.mjs'
 * @param {{ name?: string, execArgv?: string[], args?: string[] }} [options]
 * @returns {ChildHandle}
 */
export function startChild(file, options = {}) {
  const path = fileURLToPath(new URL(`../children/${file}`, import.meta.url))
  const proc = fork(path, options.args ?? [], {
    execArgv: [...(options.execArgv ?? []), ...EXTRA_FLAGS],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  })
  const child = new ChildHandle(proc, options.name ?? file)
  alive.add(child)
  return child
}

/**
 * Starts a child, runs `fn` with it, and always kills it afterwards.
 *
 * @template T
 * @param {string} file
 * @param {{ name?: string, execArgv?: string[] }} options
 * @param {(child: ChildHandle) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withChild(file, options, fn) {
  const child = startChild(file, options)
  try {
    return await fn(child)
  } finally {
    await child.kill()
  }
}

/** Kills every child still alive (by the PID each was started with); for exit paths. */
export async function killAllChildren() {
  await Promise.all([...alive].map((c) => c.kill()))
}

/** Synchronous last resort on process exit: SIGKILL whatever is left. */
export function killAllChildrenSync() {
  for (const c of alive) {
    try {
      process.kill(c.pid, 'SIGKILL')
    } catch {}
  }
}

/**
 * Child side: answers the parent's commands with `handlers[cmd](args)`. The child exits when the
 * parent goes away, so a crashed parent never leaves it running.
 *
 * @param {Record<string, (args: any) => unknown>} handlers
 */
export function serve(handlers) {
  if (process.send === undefined) throw new Error('this module runs as a child of bench/run.mjs')
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
  process.on('message', async ({ id, cmd, args }) => {
    try {
      const handler = handlers[cmd]
      if (handler === undefined) throw new Error(`unknown command ${cmd}`)
      const value = await handler(args)
      process.send({ id, ok: true, value })
    } catch (err) {
      process.send({ id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    }
  })
}
