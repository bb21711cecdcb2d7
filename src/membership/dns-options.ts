/**
 * The options of `dnsPeers`: their types, defaults and eager checks (unknown options refused,
 * each message naming the option and the value received).
 *
 * @module
 */
import { isIP } from 'node:net'
import { BurrowError, describe } from '../errors.ts'
import { booleanOption, integerOption, onlyKnownOptions } from '../options.ts'

/** Options of `dnsPeers(name, options)`. */
export interface DnsPeersOptions {
  /** The port every peer listens on. Required with A/AAAA records; refused with `srv` (the records say). */
  port?: number
  /** Read SRV records (target and port per peer) instead of A/AAAA records. @default false */
  srv?: boolean
  /**
   * With `srv`: resolve each target to its addresses, so a peer's id is `http://{ip}:{port}` like a
   * `self` of `http://$POD_IP:5001`. `false` keeps the target names as hosts. @default true
   */
  resolveTargets?: boolean
  /**
   * Which addresses: `4` (A records), `6` (AAAA records), or `'auto'`: A records, and AAAA records
   * only for a name that has no A records (a dual-stack pod is then on the ring once). @default 'auto'
   */
  family?: 4 | 6 | 'auto'
  /** How often to ask again, in milliseconds (10 to 3,600,000). @default 5000 */
  intervalMs?: number
  /** The deadline of one round of lookups, in milliseconds (10 to 60,000). @default 2000 */
  timeoutMs?: number
  /** The DNS servers to ask, e.g. `['10.96.0.10', '127.0.0.1:5353', '[::1]:53']`. @default the system's */
  servers?: readonly string[]
  /** How long the node waits after a changed list before applying it. @default 100 (the node's) */
  debounceMs?: number
}

/** The options checked, defaults filled in. */
export interface DnsSettings {
  name: string
  port: number
  srv: boolean
  resolveTargets: boolean
  family: 4 | 6 | 'auto'
  intervalMs: number
  timeoutMs: number
  servers: string[] | undefined
  /** `undefined` leaves the node's default. */
  debounceMs: number | undefined
  label: string
}

const KNOWN = ['port', 'srv', 'resolveTargets', 'family', 'intervalMs', 'timeoutMs', 'servers', 'debounceMs']
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/
/** `ip`, `ip:port` or `[ipv6]:port`, as `setServers` takes them (which aborts the process on port 0). */
const SERVER = /^(?:\[([^\]]+)\]|([^:]+))(?::([0-9]{1,5}))?$|^([0-9a-fA-F:]+)$/

/** Checks `dnsPeers(name, options)`; throws `BURROW_ERR_BAD_OPTION` naming the option and the value. */
export function checkDnsOptions(name: unknown, opts: Partial<DnsPeersOptions>): DnsSettings {
  onlyKnownOptions('dnsPeers', opts, KNOWN)
  const bare = typeof name === 'string' && name.endsWith('.') ? name.slice(0, -1) : name
  if (typeof bare !== 'string' || bare.length > 253 || !bare.split('.').every((l) => LABEL.test(l)))
    throw bad('name', 'a DNS name like cache.default.svc.cluster.local', name)
  const srv = booleanOption('srv', opts.srv, false)
  if (srv && opts.port !== undefined)
    throw bad('port', 'left out with srv: true (SRV records give ports)', opts.port)
  if (!srv && opts.port === undefined) throw bad('port', 'given (the port peers listen on)', opts.port)
  if (!srv && opts.resolveTargets !== undefined)
    throw bad('resolveTargets', 'left out without srv: true', opts.resolveTargets)
  const family = opts.family ?? 'auto'
  if (family !== 4 && family !== 6 && family !== 'auto') throw bad('family', "4, 6 or 'auto'", family)
  const port = srv ? 0 : integerOption('port', opts.port, 0, 1, 65535)
  return {
    name: bare,
    port,
    srv,
    resolveTargets: booleanOption('resolveTargets', opts.resolveTargets, true),
    family,
    intervalMs: integerOption('intervalMs', opts.intervalMs, 5000, 10, 3_600_000),
    timeoutMs: integerOption('timeoutMs', opts.timeoutMs, 2000, 10, 60_000),
    servers: checkServers(opts.servers),
    debounceMs:
      opts.debounceMs === undefined ? undefined : integerOption('debounceMs', opts.debounceMs, 0, 0, 60_000),
    label: srv ? `dns srv ${bare}` : `dns ${bare}:${port}`,
  }
}

function checkServers(servers: unknown): string[] | undefined {
  if (servers === undefined) return undefined
  if (!Array.isArray(servers) || servers.length === 0) throw bad('servers', 'a non-empty array', servers)
  return servers.map((server: unknown, i) => {
    const m = typeof server === 'string' ? SERVER.exec(server) : null
    const ip = m?.[1] ?? m?.[2] ?? m?.[4]
    const port = m?.[3] === undefined ? 53 : Number(m[3])
    if (ip === undefined || isIP(ip) === 0 || port < 1 || port > 65535)
      throw bad(
        `servers[${i}]`,
        "an IP address with an optional port, like '10.96.0.10' or '[::1]:53'",
        server,
      )
    return server as string
  })
}

function bad(option: string, expected: string, value: unknown): BurrowError {
  return new BurrowError(
    'BURROW_ERR_BAD_OPTION',
    `option ${option} must be ${expected}, received ${describe(value)}`,
  )
}
