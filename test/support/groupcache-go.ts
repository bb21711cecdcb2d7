/**
 * Real golang/groupcache nodes for the tests: test/support/groupcache-node/main.go, built once
 * with Debian's Go and groupcache packages (GOPATH mode, offline) into node_modules/.cache, keyed
 * by the source's hash, then run as child processes on loopback ports. Each node is stopped by its
 * PID (the ChildProcess handle), never by name.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename } from 'node:fs/promises'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SOURCE = fileURLToPath(new URL('./groupcache-node/main.go', import.meta.url))
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/burrow-groupcache-node/', import.meta.url))
const GO = process.env.BURROW_GO ?? 'go'
/** A cold Go build on a loaded 2-core machine. */
const BUILD_TIMEOUT_MS = 180_000
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000

/** A load a Go node's getter saw. */
export interface GoLoad {
  group: string
  key: string
}

let built: Promise<string> | undefined

/** The path of the Go node's binary, built on first use (and once per source version). */
export function goNodeBinary(): Promise<string> {
  built ??= build()
  return built
}

async function build(): Promise<string> {
  const source = await readFile(SOURCE)
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16)
  const binary = join(CACHE, `groupcache-node-${hash}`)
  if (existsSync(binary)) return binary
  await mkdir(CACHE, { recursive: true })
  // Built beside its final name, then renamed: test files that build at once never run half a file.
  const partial = `${binary}.${process.pid}.partial`
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: '/usr/share/gocode',
    GOCACHE: join(CACHE, 'go-build'),
    GOFLAGS: '',
    CGO_ENABLED: '0',
  }
  await new Promise<void>((resolve, reject) => {
    execFile(
      GO,
      ['build', '-o', partial, SOURCE],
      { env, cwd: dirname(SOURCE), timeout: BUILD_TIMEOUT_MS },
      (err, _stdout, stderr) => {
        if (err === null) return resolve()
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
  /** Its peer id, as listed in every node's peers. */
  readonly self: string
  readonly #child: ChildProcess
  #exited: Promise<void>
  #frozen = false

  private constructor(self: string, child: ChildProcess) {
    this.self = self
    this.#child = child
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /**
   * Starts a Go node on `127.0.0.1:port` with `peers` (itself among them) and `groups`, and
   * resolves once its port is bound.
   */
  static async start(options: {
    port: number
    peers: readonly string[]
    groups: readonly string[]
  }): Promise<GoNode> {
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
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(
          new Error(
            `the Go node on port ${options.port} did not start within ${START_TIMEOUT_MS} ms:\n${log}`,
          ),
        )
      }, START_TIMEOUT_MS)
      const keep = (chunk: Buffer): void => {
        log = (log + chunk.toString()).slice(-4000)
        if (/^ready$/m.test(log)) {
          clearTimeout(timer)
          resolve()
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
  get pid(): number {
    return this.#child.pid as number
  }

  /** Every load its getter saw, in order. */
  async loads(): Promise<GoLoad[]> {
    const { status, body } = await httpGet(this.self, '/loads')
    if (status !== 200) throw new Error(`GET /loads answered ${status}`)
    return body
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as GoLoad)
  }

  /** Stops the process where it is (SIGSTOP): its port accepts connections and answers nothing. */
  freeze(): void {
    this.#child.kill('SIGSTOP')
    this.#frozen = true
  }

  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void {
    this.#child.kill('SIGCONT')
    this.#frozen = false
  }

  /** Stops the process by its PID: SIGTERM (after SIGCONT if frozen), SIGKILL if it lingers. */
  async stop(): Promise<void> {
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
 */
export function httpGet(
  peer: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(peer)
  const url = `${peer}${path}`
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
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

/**
 * `key` escaped as Go's client escapes it (`url.QueryEscape`): a space as `+`, every byte but
 * `A-Z a-z 0-9 - _ . ~` as `%XX`.
 */
export function queryEscape(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')
}
