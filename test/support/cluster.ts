/** Multi-node helpers: in-process clusters on loopback, and nodes in child processes. */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { stopped } from '../../bench/lib/stopped.mjs'
import type { Burrow, BurrowOptions, Namespace, NamespaceOptions, StoredValue } from '../../src/index.ts'
import { node, sleep } from '../helpers.ts'

/** A loader call seen by a test: which node loaded which key. */
export interface LoadRecord {
  self: string
  key: string
}

/**
 * Starts `count` nodes in this process on 127.0.0.1 port 0, each with a namespace `test`, and
 * gives them all the same peer list. Close them with `closeAll()` from helpers.ts.
 */
export async function cluster(
  count: number,
  options: {
    node?: BurrowOptions
    /** Options for node `index` alone (a clock of its own, say), over `node`. */
    nodeOptions?: (index: number) => BurrowOptions
    namespace?: Partial<NamespaceOptions<StoredValue>>
    load?: (key: string) => StoredValue | undefined | Promise<StoredValue | undefined>
  } = {},
): Promise<{ nodes: Burrow[]; namespaces: Namespace<StoredValue>[]; loads: LoadRecord[] }> {
  const loads: LoadRecord[] = []
  const nodes = Array.from({ length: count }, (_, i) =>
    node({ peerTimeoutMs: 1000, ...options.node, ...options.nodeOptions?.(i) }),
  )
  const namespaces = nodes.map((n) =>
    n.namespace('test', {
      ...options.namespace,
      load: async (key) => {
        loads.push({ self: n.self, key })
        return options.load ? options.load(key) : `value of ${key}`
      },
    }),
  )
  await Promise.all(nodes.map((n) => n.listen()))
  const peers = nodes.map((n) => n.self)
  for (const n of nodes) n.setPeers(peers)
  return { nodes, namespaces, loads }
}

/**
 * Resolves with `records()` once it holds `count` load records (and a moment more, so that a late
 * extra one is in too), or after 5 s with what it holds. A child tells of a load on its own IPC
 * channel: this process may read that message after the reply of another child to a get that the
 * load served, so a get's reply does not mean it is in.
 */
export async function loadsReported(records: () => LoadRecord[], count: number): Promise<LoadRecord[]> {
  for (let waited = 0; records().length < count && waited < 5000; waited += 10) await sleep(10)
  await sleep(50)
  return records()
}

/** A node running in a child process (test/support/node-process.mjs). */
export class ChildNode {
  readonly process: ChildProcess
  readonly loads: LoadRecord[] = []
  self = ''
  #nextId = 1
  #waiting = new Map<number, (message: { type: string; value?: string | null; code?: string }) => void>()

  private constructor(child: ChildProcess) {
    this.process = child
    child.on('message', (message: { type: string; id?: number; self?: string; key?: string }) => {
      if (message.type === 'load') this.loads.push({ self: message.self!, key: message.key! })
      else if (message.id !== undefined) {
        this.#waiting.get(message.id)?.(message)
        this.#waiting.delete(message.id)
      }
    })
  }

  /**
   * Forks a node process and resolves once it listens. `now` gives it a clock that only moves by
   * {@link setClock}; `certainHot` makes its hot-cache draws always succeed.
   */
  static start(
    options: {
      /** Its peer id; port 0 (the default) picks a free port. */
      self?: string
      peers?: string[]
      liveness?: { intervalMs?: number; timeoutMs?: number }
      /** How long each load takes. */
      loadDelayMs?: number
      peerTimeoutMs?: number
      now?: number
      certainHot?: boolean
      namespace?: Record<string, unknown>
      /** Options of `etcdPeers`: the child finds its peers in etcd (and registers there). */
      etcd?: Record<string, unknown>
    } = {},
  ): Promise<ChildNode> {
    const script = fileURLToPath(new URL('./node-process.mjs', import.meta.url))
    const child = fork(script, [], {
      env: { ...process.env, BURROW_NODE: JSON.stringify(options) },
      stdio: 'inherit',
    })
    const node = new ChildNode(child)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child node did not start within 10 s')), 10_000)
      child.once('error', reject)
      child.on('message', (message: { type: string; self?: string }) => {
        if (message.type !== 'ready') return
        clearTimeout(timer)
        node.self = message.self!
        resolve(node)
      })
    })
  }

  setPeers(peers: string[]): Promise<unknown> {
    return this.#ask({ type: 'peers', peers })
  }

  /** A get through the child's node: its value, or `{ code }` when it failed. */
  get(key: string): Promise<{ type: string; value?: string | null; code?: string }> {
    return this.#ask({ type: 'get', key })
  }

  /** `ns.peek(key)` in the child. */
  peek(key: string): Promise<{ type: string; value?: string | null; code?: string }> {
    return this.#ask({ type: 'peek', key })
  }

  /** `ns.set(key, value, options)` in the child; the value is the WriteResult as JSON. */
  set(
    key: string,
    value: string,
    options?: { ttl?: number },
  ): Promise<{ type: string; value?: string | null; code?: string }> {
    return this.#ask({ type: 'set', key, value, options })
  }

  /** `ns.delete(key)` in the child; the value is the WriteResult as JSON. */
  delete(key: string): Promise<{ type: string; value?: string | null; code?: string }> {
    return this.#ask({ type: 'delete', key })
  }

  /** Sets the child's clock (started with `now`). */
  setClock(now: number): Promise<unknown> {
    return this.#ask({ type: 'clock', now })
  }

  /**
   * Freezes the process (SIGSTOP): it holds its connections and answers nothing. Resolves once
   * every thread of it is stopped (the signal is delivered asynchronously).
   */
  async freeze(): Promise<void> {
    this.process.kill('SIGSTOP')
    await stopped(this.process.pid!, 2_000)
  }

  /** Lets a frozen process go on (SIGCONT). */
  thaw(): void {
    this.process.kill('SIGCONT')
  }

  /** Closes the node gracefully (`node.close()`); resolves once the process has exited. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()))
    await this.#ask({ type: 'close' })
    await exited
  }

  /** Ends the process at once, like a crash. */
  kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      this.process.once('exit', () => resolve())
      this.process.kill('SIGKILL')
    })
  }

  #ask(message: Record<string, unknown>): Promise<{ type: string; value?: string | null; code?: string }> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child node did not answer ${String(message.type)} within 10 s`)),
        10_000,
      )
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      this.process.send({ ...message, id })
    })
  }
}
