/**
 * Peers from DNS: a {@link PeerSource} that asks DNS for a name every few seconds and hands the
 * node the addresses it finds. A Kubernetes headless service or a Compose service name answers
 * with one address per replica (A/AAAA), and an SRV name with a target and a port per replica.
 *
 * @module
 */
import { promises as dns } from 'node:dns'
import { isIP } from 'node:net'
import { BurrowError } from '../errors.ts'
import { objectOption } from '../options.ts'
import { checkDnsOptions, type DnsPeersOptions, type DnsSettings } from './dns-options.ts'
import type { PeerSource, PeerSourceContext, PeerSubscription } from './source.ts'

export type { DnsPeersOptions } from './dns-options.ts'

/**
 * A peer source that finds the cluster's nodes in DNS and follows them as records change. Every
 * `intervalMs` it looks the name up and hands the node the whole list; a failed lookup (no such
 * name, no records, no answer in time) is reported as `'peerSourceError'` and the last list kept.
 * Options are checked here, eagerly.
 *
 * @example
 * new Burrow({ self: `http://${process.env.POD_IP}:5001`, peers: dnsPeers('cache.default.svc.cluster.local', { port: 5001 }) })
 * new Burrow({ self, peers: dnsPeers('_burrow._tcp.cache.default.svc.cluster.local', { srv: true }) })
 */
export function dnsPeers(name: string, options: DnsPeersOptions = {}): PeerSource {
  const settings = checkDnsOptions(name, objectOption<DnsPeersOptions>('dnsPeers options', options))
  return {
    name: settings.label,
    debounceMs: settings.debounceMs,
    start: (context) => new DnsWatch(settings, context).start(),
  }
}

/** One node's polling: a resolver of its own, one round at a time, the next one after the last. */
class DnsWatch {
  #settings: DnsSettings
  #context: PeerSourceContext
  #resolver: dns.Resolver
  #timer: NodeJS.Timeout | undefined
  #round: Promise<void> | undefined
  /** The list last handed over, joined: an unchanged list is not handed over again. */
  #last: string | undefined
  #stopped = false
  #onAbort = (): void => void this.#stop()

  constructor(settings: DnsSettings, context: PeerSourceContext) {
    this.#settings = settings
    this.#context = context
    // c-ares retries once inside the deadline; the deadline itself is ours (cancel()).
    this.#resolver = new dns.Resolver({ timeout: Math.ceil(settings.timeoutMs / 2), tries: 2 })
    if (settings.servers !== undefined) this.#resolver.setServers(settings.servers)
  }

  async start(): Promise<PeerSubscription> {
    this.#context.signal.addEventListener('abort', this.#onAbort, { once: true })
    if (this.#context.signal.aborted) this.#stopped = true
    else {
      this.#round = this.#poll()
      await this.#round
    }
    return { stop: () => this.#stop() }
  }

  /** One round, then the next one `intervalMs` after it ends (so rounds never overlap). */
  async #poll(): Promise<void> {
    try {
      const peers = await this.#lookup()
      // Only changes: a list handed over every round would keep restarting the node's debounce.
      const joined = peers.join(' ')
      if (!this.#stopped && joined !== this.#last) {
        this.#last = joined
        this.#context.update(peers)
      }
    } catch (err) {
      if (!this.#stopped) this.#context.error(err)
    }
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#round = this.#poll()
    }, this.#settings.intervalMs)
    // Polling alone must not keep a process alive.
    this.#timer.unref()
  }

  async #stop(): Promise<void> {
    this.#stopped = true
    this.#context.signal.removeEventListener('abort', this.#onAbort)
    clearTimeout(this.#timer)
    this.#resolver.cancel()
    await this.#round
  }

  /** One round: the peer ids the records give now, sorted; throws when there are none. */
  async #lookup(): Promise<string[]> {
    const { name, timeoutMs, label } = this.#settings
    let late = false
    const deadline = setTimeout(() => {
      late = true
      this.#resolver.cancel()
    }, timeoutMs)
    deadline.unref()
    try {
      const peers = this.#settings.srv ? await this.#fromSrv(name) : await this.#fromAddresses(name)
      return [...new Set(peers)].sort()
    } catch (err) {
      const why = late ? `no answer within ${timeoutMs} ms` : (err as Error).message
      throw new BurrowError(
        'BURROW_ERR_PEER_SOURCE',
        `${label}: lookup failed (${why}); kept the last peers`,
        { cause: err },
      )
    } finally {
      clearTimeout(deadline)
    }
  }

  async #fromAddresses(name: string): Promise<string[]> {
    return (await this.#addresses(name)).map((ip) => peerId(ip, this.#settings.port))
  }

  async #fromSrv(name: string): Promise<string[]> {
    const records = await this.#resolver.resolveSrv(name)
    if (!this.#settings.resolveTargets) return records.map((r) => peerId(r.name, r.port))
    const found = await Promise.allSettled(records.map((r) => this.#addresses(r.name)))
    const peers = found.flatMap((f, i) =>
      f.status === 'fulfilled' ? f.value.map((ip) => peerId(ip, records[i]!.port)) : [],
    )
    const failed = found.flatMap((f, i) =>
      f.status === 'rejected' ? [{ target: records[i]!.name, err: f.reason }] : [],
    )
    if (peers.length === 0) throw failed[0]?.err ?? new Error(`querySrv ENODATA ${name}`)
    // A target that does not resolve (yet) is left out; the others are still this round's list.
    for (const { target, err } of failed) {
      if (this.#stopped) break
      this.#context.error(
        new BurrowError(
          'BURROW_ERR_PEER_SOURCE',
          `${this.#settings.label}: target ${target} left out (${err.message})`,
          { cause: err },
        ),
      )
    }
    return peers
  }

  /** The addresses of `host` in the chosen family; throws when there are none. */
  async #addresses(host: string): Promise<string[]> {
    const { family } = this.#settings
    let ips: string[]
    if (family === 6) ips = await this.#resolver.resolve6(host)
    else {
      try {
        ips = await this.#resolver.resolve4(host)
      } catch (err) {
        if (family === 4 || (err as NodeJS.ErrnoException).code !== 'ENODATA') throw err
        ips = await this.#resolver.resolve6(host).catch((err6: NodeJS.ErrnoException) => {
          throw err6.code === 'ENODATA'
            ? new Error(`no A or AAAA records for ${host}`, { cause: err6 })
            : err6
        })
      }
    }
    if (ips.length === 0) throw new Error(`no addresses for ${host}`)
    return ips
  }
}

function peerId(host: string, port: number): string {
  return isIP(host) === 6 ? `http://[${host}]:${port}` : `http://${host}:${port}`
}
