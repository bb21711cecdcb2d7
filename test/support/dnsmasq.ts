/**
 * A real dnsmasq for the tests of dnsPeers: started in the foreground on 127.0.0.1 at a free port,
 * answering only from a hosts file and SRV flags of ours (nothing upstream, nothing cached by
 * clients), logging every query to its stderr, and stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { promises as dns } from 'node:dns'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const DNSMASQ = '/usr/sbin/dnsmasq'
/** Every name the tests use ends in this domain; dnsmasq answers NXDOMAIN for unknown ones. */
export const DOMAIN = 'burrow.test'

/** Records to serve: addresses from a hosts file (changeable), SRV records from flags (fixed). */
export interface DnsRecords {
  /** `[ip, name]` pairs. */
  hosts?: readonly (readonly [ip: string, name: string])[]
  srv?: readonly { name: string; target: string; port: number }[]
}

export class Dnsmasq {
  readonly port: number
  readonly #child: ChildProcess
  readonly #hostsFile: string
  readonly #dir: string
  #log = ''
  #exited: Promise<void>
  #onLog = new Set<() => void>()

  private constructor(child: ChildProcess, port: number, dir: string) {
    this.#child = child
    this.port = port
    this.#dir = dir
    this.#hostsFile = join(dir, 'hosts')
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      this.#log += chunk
      for (const check of this.#onLog) check()
    })
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /**
   * Starts dnsmasq serving `records`; resolves once it answers queries. `port` reuses a port (to
   * restart with other SRV records); otherwise a free one is picked, and another if that is taken.
   */
  static async start(records: DnsRecords = {}, port?: number): Promise<Dnsmasq> {
    const dir = await mkdtemp(join(tmpdir(), 'burrow-dnsmasq-'))
    // dnsmasq drops to an unprivileged user before it re-reads the hosts file on SIGHUP.
    await chmod(dir, 0o755)
    for (let attempt = 1; ; attempt++) {
      const p = port ?? (await freePort())
      await writeHosts(join(dir, 'hosts'), records.hosts ?? [])
      const server = Dnsmasq.#spawn(records, p, dir)
      if (await server.#ready()) return server
      await server.stop(false)
      const inUse = server.#log.includes('Address already in use')
      if (!inUse || attempt === 10) {
        await rm(dir, { recursive: true, force: true })
        throw new Error(`dnsmasq did not start on port ${p}:\n${server.#log}`)
      }
    }
  }

  static #spawn(records: DnsRecords, port: number, dir: string): Dnsmasq {
    const args = [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-hosts',
      '--no-resolv',
      '--pid-file=',
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${port}`,
      `--addn-hosts=${join(dir, 'hosts')}`,
      `--local=/${DOMAIN}/`,
      '--local-ttl=0',
      '--log-facility=-',
      '--log-queries',
      ...(records.srv ?? []).map((r) => `--srv-host=${r.name},${r.target},${r.port}`),
    ]
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    return new Dnsmasq(child, port, dir)
  }

  /** The server to give `dnsPeers({ servers })`. */
  get server(): string {
    return `127.0.0.1:${this.port}`
  }

  get pid(): number {
    return this.#child.pid!
  }

  /** The queries dnsmasq has logged for `name` (any record type). */
  queries(name: string): number {
    return this.#log.split('\n').filter((line) => line.includes(`] ${name} from `)).length
  }

  /** Resolves once dnsmasq has logged `count` queries for `name` (within `ms`, or rejects). */
  waitForQueries(name: string, count: number, ms = 15_000): Promise<void> {
    return this.#waitForLog(() => this.queries(name) >= count, ms, `${count} queries for ${name}`)
  }

  /** Rewrites the hosts file, makes dnsmasq re-read it (SIGHUP) and waits until it has. */
  async setHosts(hosts: DnsRecords['hosts'] & {}): Promise<void> {
    const reads = (): number => this.#log.split(`read ${this.#hostsFile}`).length
    const before = reads()
    await writeHosts(this.#hostsFile, hosts)
    this.#child.kill('SIGHUP')
    await this.#waitForLog(() => reads() > before, 10_000, 'the hosts file re-read')
  }

  /** Stops dnsmasq by its PID (SIGTERM, then SIGKILL after 5 s) and removes its files. */
  async stop(removeFiles = true): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGCONT')
      this.#child.kill('SIGTERM')
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000)
      await this.#exited
      clearTimeout(timer)
    }
    if (removeFiles) await rm(this.#dir, { recursive: true, force: true })
  }

  /** Whether dnsmasq answers (any answer, NXDOMAIN included), asked every 25 ms for up to 10 s. */
  async #ready(): Promise<boolean> {
    const resolver = new dns.Resolver({ timeout: 200, tries: 1 })
    resolver.setServers([this.server])
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && this.#child.exitCode === null && this.#child.signalCode === null) {
      try {
        await resolver.resolve4(`ready.${DOMAIN}`)
        return true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOTFOUND') return true
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    return false
  }

  #waitForLog(test: () => boolean, ms: number, what: string): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!test()) return
        this.#onLog.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#onLog.delete(check)
        reject(new Error(`dnsmasq: no ${what} within ${ms} ms; its log ends:\n${this.#log.slice(-2000)}`))
      }, ms)
      this.#onLog.add(check)
    })
  }
}

async function writeHosts(file: string, hosts: DnsRecords['hosts'] & {}): Promise<void> {
  await writeFile(file, hosts.map(([ip, name]) => `${ip} ${name}\n`).join(''))
  await chmod(file, 0o644)
}

/** A port free on 127.0.0.1 for both UDP and TCP (dnsmasq serves both). */
async function freePort(): Promise<number> {
  for (let attempt = 1; attempt <= 50; attempt++) {
    const udp = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
    const { port } = udp.address()
    const tcp = net.createServer()
    const free = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false))
      tcp.listen(port, '127.0.0.1', () => resolve(true))
    })
    await new Promise<void>((resolve) => udp.close(() => resolve()))
    if (free) {
      await new Promise((resolve) => tcp.close(resolve))
      return port
    }
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1 after 50 tries')
}

/**
 * A UDP relay in front of a DNS server, for fault injection: while open it passes queries and
 * answers through; while shut it swallows queries (a server that never answers) and counts them.
 */
export class DnsGate {
  open = true
  swallowed = 0
  readonly #socket: dgram.Socket
  readonly #target: number
  readonly #upstream = new Set<dgram.Socket>()
  #onSwallow = new Set<() => void>()
  #closed = false

  private constructor(socket: dgram.Socket, target: number) {
    this.#socket = socket
    this.#target = target
    socket.on('message', (query, client) => this.#relay(query, client))
  }

  /** A gate on a free 127.0.0.1 port in front of `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<DnsGate> {
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    return new DnsGate(socket, targetPort)
  }

  /** The server to give `dnsPeers({ servers })`. */
  get server(): string {
    return `127.0.0.1:${this.#socket.address().port}`
  }

  /** Resolves once `count` queries have been swallowed in all (within `ms`, or rejects). */
  waitForSwallowed(count: number, ms = 15_000): Promise<void> {
    if (this.swallowed >= count) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.swallowed < count) return
        this.#onSwallow.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#onSwallow.delete(check)
        reject(new Error(`dns gate: fewer than ${count} queries swallowed within ${ms} ms`))
      }, ms)
      this.#onSwallow.add(check)
    })
  }

  close(): void {
    this.#closed = true
    for (const upstream of this.#upstream) upstream.close()
    this.#upstream.clear()
    this.#socket.close()
  }

  #relay(query: Buffer, client: dgram.RemoteInfo): void {
    if (!this.open) {
      this.swallowed++
      for (const check of this.#onSwallow) check()
      return
    }
    // One socket per query, closed on its answer or after 5 s.
    const upstream = dgram.createSocket('udp4')
    this.#upstream.add(upstream)
    const done = (): void => {
      clearTimeout(timer)
      if (this.#upstream.delete(upstream)) upstream.close()
    }
    const timer = setTimeout(done, 5000)
    upstream.on('error', done)
    upstream.once('message', (answer) => {
      if (!this.#closed) this.#socket.send(answer, client.port, client.address)
      done()
    })
    upstream.send(query, this.#target, '127.0.0.1')
  }
}
