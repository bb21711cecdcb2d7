/**
 * A real etcd for the tests: /usr/bin/etcd as a child process on free loopback ports, with a data
 * directory of its own. Started and stopped by its PID (the ChildProcess handle), never by name.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../helpers.ts'

const ETCD = process.env.BURROW_ETCD ?? '/usr/bin/etcd'
/** etcd 3.4 on loopback is healthy in about a second; a loaded CI machine gets much longer. */
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000

/** One etcd member. `stop()` and `start()` again keep its data dir and ports (a restart). */
export class EtcdServer {
  readonly url: string
  readonly dataDir: string
  readonly #peerUrl: string
  #child: ChildProcess | undefined
  /** The last lines etcd wrote, for the error when it does not come up. */
  #log = ''

  private constructor(dataDir: string, clientPort: number, peerPort: number) {
    this.dataDir = dataDir
    this.url = `http://127.0.0.1:${clientPort}`
    this.#peerUrl = `http://127.0.0.1:${peerPort}`
  }

  /** Starts a fresh etcd and resolves once it reports itself healthy. */
  static async create(): Promise<EtcdServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'burrow-etcd-'))
    const server = new EtcdServer(dataDir, await freePort(), await freePort())
    try {
      await server.start()
    } catch (err) {
      await server.destroy()
      throw err
    }
    return server
  }

  /** The PID of the running etcd, or undefined when it is stopped. */
  get pid(): number | undefined {
    return this.#child?.pid
  }

  /** Starts etcd (again) on the same ports and data dir; resolves once it is healthy. */
  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error('etcd is already running')
    this.#log = ''
    const child = spawn(
      ETCD,
      [
        '--name=default',
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${this.url}`,
        `--advertise-client-urls=${this.url}`,
        `--listen-peer-urls=${this.#peerUrl}`,
        `--initial-advertise-peer-urls=${this.#peerUrl}`,
        `--initial-cluster=default=${this.#peerUrl}`,
        '--logger=zap',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.#child = child
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-4000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!(await this.#healthy())) {
      if (this.#child !== child) throw new Error(`etcd exited while starting:\n${this.#log}`)
      if (Date.now() > deadline) {
        await this.stop()
        throw new Error(`etcd was not healthy within ${START_TIMEOUT_MS} ms:\n${this.#log}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** Stops etcd by its PID (SIGTERM, then SIGKILL if it lingers); keeps the data dir. */
  async stop(): Promise<void> {
    const child = this.#child
    if (child === undefined) return
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
    this.#child = undefined
  }

  /** Stops etcd and deletes its data dir. */
  async destroy(): Promise<void> {
    await this.stop()
    await rm(this.dataDir, { recursive: true, force: true })
  }

  /** Whether `GET /health` answers `"health":"true"` within a second. */
  #healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request(`${this.url}/health`, { timeout: 1000 }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')))
        res.on('error', () => resolve(false))
      })
      req.on('timeout', () => req.destroy())
      req.on('error', () => resolve(false))
      req.end()
    })
  }
}
