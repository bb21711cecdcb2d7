/**
 * `etcdPeers`: a peer source backed by etcd. Each node registers its own id under a common key
 * prefix, on a lease it keeps alive, and watches the prefix for everyone else. A node that closes
 * revokes its lease, so it leaves every ring at once; one that dies without closing leaves when
 * its lease runs out. Imported from `burrow/etcd` only: the core never loads the etcd client.
 *
 * @module
 */
import type { IOptions } from 'etcd3'
import { BurrowError, describe } from '../errors.ts'
import { integerOption, objectOption, onlyKnownOptions } from '../options.ts'
import { EtcdSession, type EtcdSessionOptions } from './etcd-session.ts'
import type { PeerSource } from './source.ts'

/** Options of {@link etcdPeers}. */
export interface EtcdPeersOptions {
  /**
   * The etcd members to talk to, as `http://host:port` (or all `https://`). Required.
   * @example ['http://10.0.0.5:2379', 'http://10.0.0.6:2379']
   */
  endpoints: readonly string[]
  /**
   * The key prefix shared by one cluster's nodes. A node registers under `prefix + self`, with its
   * id as the value. End it with a separator (`/`): `/burrow` would also see `/burrow-staging/…`.
   * @default '/burrow/'
   */
  prefix?: string
  /**
   * The TTL of this node's lease, in seconds. The node renews it every third of that; a node that
   * dies without `close()` (SIGKILL, a lost machine) leaves every ring when it runs out, even with
   * liveness probing off. Shorter: a dead node leaves sooner, but a node cut off from etcd for that
   * long loses its registration (it registers again once etcd is back).
   * @default 10
   */
  leaseTtlSeconds?: number
  /**
   * The deadline of each call to etcd, in ms, and of the whole registration in `listen()` (which
   * then fails with `BURROW_ERR_PEER_SOURCE`).
   * @default 3000
   */
  timeoutMs?: number
  /** How long a node waits after a change before rebuilding its ring, in ms. @default 100 */
  debounceMs?: number
  /** Password authentication to etcd. */
  auth?: { username: string; password: string }
  /** TLS to etcd (with `https://` endpoints): the CA, and a client certificate if etcd asks for one. */
  credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer }
}

const KNOWN_OPTIONS = [
  'endpoints',
  'prefix',
  'leaseTtlSeconds',
  'timeoutMs',
  'debounceMs',
  'auth',
  'credentials',
] as const

/** `http(s)://host:port`, nothing after but a lone `/`. */
const ENDPOINT = /^(https?):\/\/([^/?#@\s]+:[0-9]{1,5})\/?$/

/**
 * A {@link PeerSource} that finds the cluster's nodes in etcd and registers this one there.
 * Options are checked here, eagerly (`BURROW_ERR_BAD_OPTION`); etcd is first contacted in
 * `listen()`, which fails with `BURROW_ERR_PEER_SOURCE` when it cannot register within `timeoutMs`.
 * Later outages are `'peerSourceError'` events: the node keeps its ring, and registers again (on a
 * new lease if the old one ran out) once etcd answers.
 *
 * Needs the optional peer dependency `etcd3` (`npm install etcd3`).
 *
 * @example
 * import { Burrow } from 'burrow'
 * import { etcdPeers } from 'burrow/etcd'
 *
 * const node = new Burrow({
 *   self: 'http://10.0.0.2:5001',
 *   peers: etcdPeers({ endpoints: ['http://10.0.0.5:2379'], prefix: '/burrow/' }),
 * })
 * await node.listen() // registered; the ring holds every node registered under the prefix
 */
export function etcdPeers(options: EtcdPeersOptions): PeerSource {
  const opts = objectOption<EtcdPeersOptions>('etcdPeers options', options)
  onlyKnownOptions('etcdPeers', opts, KNOWN_OPTIONS)
  const endpoints = endpointsOption(opts.endpoints)
  const prefix = opts.prefix ?? '/burrow/'
  if (typeof prefix !== 'string' || prefix === '') {
    throw new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option prefix must be a non-empty string, received ${describe(prefix)}`,
    )
  }
  const session: EtcdSessionOptions = {
    prefix,
    leaseTtlSeconds: integerOption('leaseTtlSeconds', opts.leaseTtlSeconds, 10, 1, 86_400),
    timeoutMs: integerOption('timeoutMs', opts.timeoutMs, 3000, 1, 600_000),
    client: clientOptions(endpoints, opts),
  }
  const debounceMs = integerOption('debounceMs', opts.debounceMs, 100, 0, 60_000)
  const name = `etcd ${endpoints.join(',')} ${prefix}`
  return {
    name,
    debounceMs,
    async start(context) {
      const running = new EtcdSession(session, context)
      await running.start()
      return { stop: () => running.stop() }
    },
  }
}

/** The endpoints, checked: a non-empty list of `http(s)://host:port`, one scheme for all. */
function endpointsOption(value: unknown): string[] {
  const bad = (name: string, why: string, received: unknown) =>
    new BurrowError('BURROW_ERR_BAD_OPTION', `option ${name} ${why}, received ${describe(received)}`)
  if (!Array.isArray(value) || value.length === 0) {
    throw bad('endpoints', "must be a non-empty array of URLs like 'http://127.0.0.1:2379'", value)
  }
  const endpoints = value.map((endpoint: unknown, i) => {
    const match = typeof endpoint === 'string' ? ENDPOINT.exec(endpoint) : null
    if (match === null) throw bad(`endpoints[${i}]`, `must be a URL like 'http://127.0.0.1:2379'`, endpoint)
    return `${match[1]}://${match[2]}`
  })
  if (new Set(endpoints.map((e) => e.startsWith('https:'))).size > 1) {
    throw bad('endpoints', 'must all be http:// or all https://', value)
  }
  return endpoints
}

/** The options of the etcd client, less the deadlines and backoff the session adds. */
function clientOptions(hosts: string[], opts: Partial<EtcdPeersOptions>): IOptions {
  const client: IOptions = { hosts }
  if (opts.auth !== undefined) {
    const auth = objectOption<{ username: string; password: string }>('auth', opts.auth)
    onlyKnownOptions('auth', auth, ['username', 'password'])
    for (const field of ['username', 'password'] as const) {
      const value = auth[field]
      if (typeof value !== 'string') {
        // The value itself is not echoed: it may be a secret.
        throw new BurrowError(
          'BURROW_ERR_BAD_OPTION',
          `option auth.${field} must be a string, received ${value === null ? 'null' : typeof value}`,
        )
      }
    }
    client.auth = { username: auth.username as string, password: auth.password as string }
  }
  if (opts.credentials !== undefined) {
    const credentials = objectOption<NonNullable<EtcdPeersOptions['credentials']>>(
      'credentials',
      opts.credentials,
    )
    onlyKnownOptions('credentials', credentials, ['rootCertificate', 'privateKey', 'certChain'])
    for (const field of ['rootCertificate', 'privateKey', 'certChain'] as const) {
      const value = credentials[field]
      if ((value !== undefined || field === 'rootCertificate') && !Buffer.isBuffer(value)) {
        throw new BurrowError(
          'BURROW_ERR_BAD_OPTION',
          `option credentials.${field} must be a Buffer (PEM), received ${describe(value)}`,
        )
      }
    }
    client.credentials = credentials as NonNullable<EtcdPeersOptions['credentials']>
  }
  return client
}
