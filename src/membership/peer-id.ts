/**
 * Peer ids: a node's base URL, the string hashed onto the ring. Every id is parsed here and
 * turned into one canonical spelling, so two spellings of one node are one node: a trailing
 * slash, an upper-case host, an explicit default port or a zero-padded port do not put a node on
 * the ring twice (which made a node fetch its own keys from itself over TCP).
 *
 * Canonical form: `http://{host}:{port}` (or `https://` for a node that serves TLS) — the scheme
 * in lower case, the host as the WHATWG URL parser writes it
 * (lower case, IPv6 in brackets and compressed, IPv4 in dotted decimal), and the port in decimal,
 * always written. Nothing else: no user info, path, query or fragment.
 *
 * @module
 */
import { BurrowError, describe } from '../errors.ts'

/** `scheme://authority` then at most a lone `/`; the port is required, hence checked on the raw text. */
const SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)\/?$/
/** The port at the end of an authority (after a bracketed IPv6 host or any other host). */
const PORT = /:([0-9]+)$/

/**
 * The canonical spelling of the peer id `value`, given as option `name`; throws
 * `BURROW_ERR_BAD_OPTION` naming the option for anything that is not `http://host:port` or
 * `https://host:port`.
 *
 * @example
 * canonicalPeerId('self', 'HTTP://Cache-1.Internal:05001/') // 'http://cache-1.internal:5001'
 */
export function canonicalPeerId(name: string, value: unknown): string {
  const bad = (why: string): BurrowError =>
    new BurrowError(
      'BURROW_ERR_BAD_OPTION',
      `option ${name} must be a peer id like 'http://10.0.0.2:5001' (${why}), received ${describe(value)}`,
    )
  if (typeof value !== 'string') throw bad('a string')
  const shape = SHAPE.exec(value)
  if (shape === null) throw bad('a base URL: no path, query or fragment')
  const [, scheme, authority] = shape as unknown as [string, string, string]
  const lower = scheme.toLowerCase()
  if (lower !== 'http' && lower !== 'https') throw bad('the scheme http, or https with TLS')
  if (authority.includes('@')) throw bad('no user name or password')
  const port = PORT.exec(authority)
  if (port === null) throw bad('an explicit port')
  const portNumber = Number(port[1])
  if (portNumber > 65535) throw bad('a port from 0 to 65535')
  let host: string
  try {
    host = new URL(`http://${authority.slice(0, authority.length - port[0].length)}`).hostname
  } catch {
    throw bad('a valid host')
  }
  if (host === '') throw bad('a host')
  return `${lower}://${host}:${portNumber}`
}

/**
 * The host to connect to (IPv6 without its brackets), the port, and whether to speak TLS
 * (`https://`) of a canonical peer id.
 */
export function peerAddress(id: string): { host: string; port: number; tls: boolean } {
  const colon = id.lastIndexOf(':')
  const tls = id.startsWith('https://')
  const host = id.slice(tls ? 'https://'.length : 'http://'.length, colon)
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(id.slice(colon + 1)), tls }
}

/** The canonical peer id `id` with its port replaced by `port`. */
export function withPort(id: string, port: number): string {
  return `${id.slice(0, id.lastIndexOf(':'))}:${port}`
}
