import { afterEach, describe, expect, it } from 'vitest'
import { canonicalPeerId, peerAddress } from '../src/membership/peer-id.ts'
import { closeAll, node, thrownBy } from './helpers.ts'

afterEach(closeAll)

describe('peer ids', () => {
  it('every spelling of one node has one canonical form', () => {
    const spellings: [string, string][] = [
      ['http://127.0.0.1:5001', 'http://127.0.0.1:5001'],
      ['http://127.0.0.1:5001/', 'http://127.0.0.1:5001'],
      ['HTTP://127.0.0.1:5001', 'http://127.0.0.1:5001'],
      ['http://127.0.0.1:05001', 'http://127.0.0.1:5001'],
      ['http://Cache-1.Internal:5001/', 'http://cache-1.internal:5001'],
      ['http://example.com:80', 'http://example.com:80'],
      ['http://[::1]:5001', 'http://[::1]:5001'],
      ['http://[0:0:0:0:0:0:0:1]:5001/', 'http://[::1]:5001'],
      ['http://[FE80::1]:5001', 'http://[fe80::1]:5001'],
      ['http://127.0.0.1:0', 'http://127.0.0.1:0'],
    ]
    for (const [spelling, canonical] of spellings) expect(canonicalPeerId('p', spelling)).toBe(canonical)
  })

  it('gives the address to dial, IPv6 without brackets, and whether to speak TLS', () => {
    expect(peerAddress('http://cache-1.internal:5001')).toEqual({
      host: 'cache-1.internal',
      port: 5001,
      tls: false,
    })
    expect(peerAddress('http://[::1]:5001')).toEqual({ host: '::1', port: 5001, tls: false })
    expect(peerAddress('https://[::1]:5001')).toEqual({ host: '::1', port: 5001, tls: true })
  })

  it('keeps the scheme: https:// ids are canonical too, and distinct from http:// ones', () => {
    expect(canonicalPeerId('peer', 'HTTPS://Cache-1:05001/')).toBe('https://cache-1:5001')
    expect(canonicalPeerId('peer', 'https://cache-1:5001')).not.toBe(
      canonicalPeerId('peer', 'http://cache-1:5001'),
    )
  })

  it('refuses anything but http(s)://host:port, naming the option and what is wrong', () => {
    const refused: [unknown, string][] = [
      ['http://127.0.0.1', 'an explicit port'],
      ['http://10.0.0.2', 'an explicit port'],
      ['http://[::1]', 'an explicit port'],
      ['http://127.0.0.1:5001/burrow', 'no path'],
      ['http://127.0.0.1:5001?x=1', 'no path, query'],
      ['http://127.0.0.1:5001#top', 'fragment'],
      ['http://user:pw@127.0.0.1:5001', 'no user name'],
      ['ftp://127.0.0.1:5001', 'the scheme http, or https with TLS'],
      ['127.0.0.1:5001', 'a base URL'],
      ['http://127.0.0.1:65536', 'a port from 0 to 65535'],
      ['http://:5001', 'host'],
      ['http://exa mple.com:5001', 'a valid host'],
      [5001, 'a string'],
    ]
    for (const [value, why] of refused) {
      const err = thrownBy(() => canonicalPeerId('peers[3]', value))
      expect(err.code).toBe('BURROW_ERR_BAD_OPTION')
      expect(err.message).toContain('peers[3]')
      expect(err.message).toContain(why)
    }
  })

  it('a node listed under another spelling of its own id is on the ring once and loads its keys itself', async () => {
    const n = node({ self: 'http://127.0.0.1:0' })
    const ns = n.namespace('test', { load: (key) => `value of ${key}` })
    await n.listen()
    const port = n.self.slice(n.self.lastIndexOf(':') + 1)
    n.setPeers([`http://127.0.0.1:${port}/`, `HTTP://127.0.0.1:0${port}`])
    expect(n.peers).toEqual([n.self])
    for (let i = 0; i < 50; i++) expect(await ns.get(`k${i}`)).toBe(`value of k${i}`)
    expect(n.stats().peerClient.requests).toBe(0)
    expect(n.stats().namespaces['test']!.localLoads).toBe(50)
  })

  it('two spellings of another peer are one peer', () => {
    const n = node({
      self: 'http://127.0.0.1:7001',
      peers: ['http://127.0.0.1:7002', 'http://127.0.0.1:7002/'],
    })
    expect(n.peers).toEqual(['http://127.0.0.1:7001', 'http://127.0.0.1:7002'])
  })
})
