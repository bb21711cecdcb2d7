/**
 * The `burrow` command as a user runs it: the built dist/cli/main.js in child processes (so
 * `npm run build` must have run; npm test does), and a real HTTP origin for `burrow serve`.
 * Every process is stopped by its PID at the next closeAll(), whatever the test did.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { freePort, onCleanup } from '../helpers.ts'

/** The built command. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

/** How a finished `burrow` run ended. */
export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout as bytes, for values that are not text. */
  bytes: Buffer
}

/** The environment a child gets: this one without BURROW_SECRET, plus `env`. */
function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { BURROW_SECRET: _, ...rest } = process.env
  return { ...rest, ...env }
}

/**
 * Runs `burrow ...args` to its end (killed by PID after 30 s, so no test hangs on it).
 *
 * @example
 * const { code, stdout } = await burrow(['get', '--node', self, 'items', '42'])
 */
export function burrow(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const bytes = Buffer.concat(out)
      resolve({ code, signal, stdout: bytes.toString('utf8'), stderr, bytes })
    })
  })
}

/** A `burrow serve` process. */
export class ServeProcess {
  readonly child: ChildProcess
  /** The node's URL, from its "listening on" line. */
  self = ''
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #watchers: (() => void)[] = []

  constructor(child: ChildProcess) {
    this.child = child
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8')
      this.#wake()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8')
      this.#wake()
    })
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#wake()
        resolve({ code, signal })
      })
    })
  }

  /** Resolves once stdout or stderr (as `stream` says) matches `pattern`; rejects after 20 s or on exit. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done()
        reject(new Error(`burrow serve: no ${pattern} on ${stream} within 20 s; stderr: ${this.stderr}`))
      }, 20_000)
      const check = (): void => {
        const match = pattern.exec(this[stream])
        if (match !== null) {
          done()
          resolve(match)
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done()
          reject(new Error(`burrow serve exited (${this.child.exitCode}); stderr: ${this.stderr}`))
        }
      }
      const done = (): void => {
        clearTimeout(timer)
        this.#watchers = this.#watchers.filter((w) => w !== check)
      }
      this.#watchers.push(check)
      check()
    })
  }

  /** Sends `signal` (by PID). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  #wake(): void {
    for (const watcher of [...this.#watchers]) watcher()
  }
}

/**
 * Starts `burrow serve ...args` and resolves once it prints its listening line. The process is
 * killed (SIGKILL, by PID) at the next closeAll() if it is still running.
 */
export async function serve(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const proc = new ServeProcess(child)
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await proc.exited
    }
  })
  const [, self] = await proc.waitFor('stdout', /listening on (\S+)/)
  proc.self = self as string
  return proc
}

/**
 * Three `burrow serve` nodes on loopback (on `ports`, or free ones), each listing all three,
 * serving namespace `items` from `origin`, with `extra` flags.
 */
export async function serveThree(
  origin: Origin,
  extra: string[] = [],
  ports?: number[],
): Promise<ServeProcess[]> {
  const chosen = ports ?? [await freePort(), await freePort(), await freePort()]
  const peers = chosen.map((port) => `http://127.0.0.1:${port}`)
  return Promise.all(
    peers.map((self) =>
      serve([
        '--self',
        self,
        '--peers',
        peers.join(','),
        '--namespace',
        'items',
        '--origin',
        origin.template,
        ...extra,
      ]),
    ),
  )
}

/**
 * A real HTTP origin on 127.0.0.1 for `burrow serve`, answering `/items/{key}` by the key:
 * `missing…` 404, `boom…` 500, `teapot` 418, `moved` a 302, `slow…` never (until closed),
 * `big` 4 KiB with a content-length, `stream-big` 4 KiB chunked, `bytes` the bytes 0x00 0xff 0x80,
 * `held…` once {@link Origin.release}d; anything else `value of {key}`. Counts requests per key.
 */
export class Origin {
  readonly server: Server
  /** Requests per decoded key. */
  readonly requests = new Map<string, number>()
  /** The raw paths requested, in order. */
  readonly paths: string[] = []
  #held = new Map<string, ServerResponse[]>()
  #watchers: (() => void)[] = []
  url = ''

  private constructor() {
    this.server = createServer((req, res) => this.#answer(req, res))
  }

  static async start(): Promise<Origin> {
    const origin = new Origin()
    await new Promise<void>((resolve) => origin.server.listen(0, '127.0.0.1', resolve))
    origin.url = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}`
    onCleanup(() => origin.close())
    return origin
  }

  /** The `--origin` template for this origin. */
  get template(): string {
    return `${this.url}/items/{key}`
  }

  count(key: string): number {
    return this.requests.get(key) ?? 0
  }

  /** Resolves once `key` has been asked for `n` times; rejects after 20 s. */
  waitForRequests(key: string, n = 1): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`origin: ${key} not asked ${n} times within 20 s`)),
        20_000,
      )
      const check = (): void => {
        if (this.count(key) < n) return
        clearTimeout(timer)
        this.#watchers = this.#watchers.filter((w) => w !== check)
        resolve()
      }
      this.#watchers.push(check)
      check()
    })
  }

  /** Answers the held requests for `key` with `value of {key}`. */
  release(key: string): void {
    for (const res of this.#held.get(key) ?? []) res.end(`value of ${key}`)
    this.#held.delete(key)
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? ''
    this.paths.push(path)
    const key = decodeURIComponent(path.slice('/items/'.length))
    this.requests.set(key, this.count(key) + 1)
    for (const watcher of [...this.#watchers]) watcher()
    if (key.startsWith('missing')) {
      res.writeHead(404).end('no such item')
    } else if (key.startsWith('boom')) {
      res.writeHead(500).end('the origin broke')
    } else if (key === 'teapot') {
      res.writeHead(418).end('short and stout')
    } else if (key === 'moved') {
      res.writeHead(302, { location: '/items/elsewhere' }).end()
    } else if (key.startsWith('slow')) {
      // Never answered: the loader's deadline must end it.
    } else if (key === 'big') {
      res.writeHead(200, { 'content-length': 4096 }).end('x'.repeat(4096))
    } else if (key === 'stream-big') {
      res.writeHead(200)
      for (let i = 0; i < 4; i++) res.write('y'.repeat(1024))
      res.end()
    } else if (key === 'bytes') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0x00, 0xff, 0x80]))
    } else if (key.startsWith('held')) {
      this.#held.set(key, [...(this.#held.get(key) ?? []), res])
    } else {
      res.end(`value of ${key}`)
    }
  }
}
