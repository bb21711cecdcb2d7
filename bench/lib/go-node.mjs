/**
 * Real golang/groupcache nodes, for the interop tests and the groupcache benchmark:
 * test/support/groupcache-node/main.go, built once with Debian's Go and groupcache packages
 * (GOPATH mode, offline) into node_modules/.cache, keyed by the source's hash, then run as child
 * processes on loopback ports. Each node is stopped by its PID (the ChildProcess handle), never by
 * name.
 *
 * @module
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename } from 'node:fs/promises'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stopped } from './stopped.mjs'

const SOURCE = fileURLToPath(new URL('../../test/support/groupcache-node/main.go', import.meta.url))
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/burrow-groupcache-node/', import.meta.url))
const GO = process.env.BURROW_GO ?? 'go'
/** A cold Go build on a loaded 2-core machine. */
const BUILD_TIMEOUT_MS = 180_000
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000
/** How long `freeze()` waits for every thread of the process to stop. */
const FREEZE_TIMEOUT_MS = 2_000

/** @type {Promise<string> | undefined} */
let built

/**
 * The path of the Go node's binary, built on first use (and once per source version).
 *
 * @returns {Promise<string>}
 */
export function goNodeBinary() {
  built ??= build()
  return built
}

async function build() {
  const source = await readFile(SOURCE)
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16)
  const binary = join(CACHE, `groupcache-node-${hash}`)
  if (existsSync(binary)) return binary
  await mkdir(CACHE, { recursive: true })
  // Built beside its final name, then renamed: processes that build at once never run half a file.
  const partial = `${binary}.${process.pid}.partial`
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: '/usr/share/gocode',
    GOCACHE: join(CACHE, 'go-build'),
    GOFLAGS: '',
    CGO_ENABLED: '0',
  }
  await new Promise((resolve, reject) => {
    execFile(
      GO,
      ['build', '-o', partial, SOURCE],
      { env, cwd: dirname(SOURCE), timeout: BUILD_TIMEOUT_MS },
      (err, _stdout, stderr) => {
        if (err === null) return resolve(undefined)
        reject(
          new Error(
            `could not build the Go groupcache node (scripts/install-test-deps.sh installs golang-go and golang-github-golang-groupcache-dev): ${err.message}\n${stderr}`,
          ),
        )
      },
    )
  })
  await rename(partial, binary)
  return binary
}

/** One Go groupcache node. */
export class GoNode {
  /** @type {import('node:child_process').ChildProcess} */
  #child
  /** @type {Promise<void>} */
  #exited
  #frozen = false

  /**
   * @param {string} self
   * @param {import('node:child_process').ChildProcess} child
   */
  constructor(self, child) {
    /** Its peer id, as listed in every node's peers. */
    this.self = self
    this.#child = child
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /**
   * Starts a Go node on `127.0.0.1:port` with `peers` (itself among them) and `groups`, and
   * resolves once its port is bound.
   *
   * @param {{ port: number, peers: readonly string[], groups: readonly string[] }} options
   * @returns {Promise<GoNode>}
   */
  static async start(options) {
    const binary = await goNodeBinary()
    const self = `http://127.0.0.1:${options.port}`
    const child = spawn(
      binary,
      [
        `-addr=127.0.0.1:${options.port}`,
        `-self=${self}`,
        `-peers=${options.peers.join(',')}`,
        `-groups=${options.groups.join(',')}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const node = new GoNode(self, child)
    let log = ''
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(
          new Error(
            `the Go node on port ${options.port} did not start within ${START_TIMEOUT_MS} ms:\n${log}`,
          ),
        )
      }, START_TIMEOUT_MS)
      /** @param {Buffer} chunk */
      const keep = (chunk) => {
        log = (log + chunk.toString()).slice(-4000)
        if (/^ready$/m.test(log)) {
          clearTimeout(timer)
          resolve(undefined)
        }
      }
      child.stdout?.on('data', keep)
      child.stderr?.on('data', keep)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the Go node on port ${options.port} exited (${code}):\n${log}`))
      })
    })
    return node
  }

  /** Its process id. */
  get pid() {
    return /** @type {number} */ (this.#child.pid)
  }

  /**
   * Every load its getter saw, in order.
   *
   * @returns {Promise<{ group: string, key: string }[]>}
   */
  async loads() {
    const { status, body } = await httpGet(this.self, '/loads')
    if (status !== 200) throw new Error(`GET /loads answered ${status}`)
    return body
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line))
  }

  /**
   * Stops the process where it is (SIGSTOP): its port accepts connections and answers nothing.
   * Resolves once every thread of it is stopped (`T` in /proc/PID/task/TID/stat): the signal is
   * delivered asynchronously, and a request sent just after `kill` returned was once answered.
   */
  async freeze() {
    this.#child.kill('SIGSTOP')
    this.#frozen = true
    await stopped(this.#child.pid, FREEZE_TIMEOUT_MS)
  }

  /** Lets a frozen process run again (SIGCONT). */
  thaw() {
    this.#child.kill('SIGCONT')
    this.#frozen = false
  }

  /** Stops the process by its PID: SIGTERM (after SIGCONT if frozen), SIGKILL if it lingers. */
  async stop() {
    const child = this.#child
    if (child.exitCode !== null || child.signalCode !== null) return
    if (this.#frozen) this.thaw()
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await this.#exited
    clearTimeout(timer)
  }
}

/**
 * One GET of `path` (sent as given: escaped, never normalised) on `peer`, with a deadline and no
 * redirect followed: the status, headers and body.
 *
 * @param {string} peer
 * @param {string} path
 * @param {Record<string, string>} [headers]
 * @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, body: Buffer }>}
 */
export function httpGet(peer, path, headers = {}) {
  const { hostname, port } = new URL(peer)
  const url = `${peer}${path}`
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers, timeout: 15_000 }, (res) => {
      /** @type {Buffer[]} */
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}
