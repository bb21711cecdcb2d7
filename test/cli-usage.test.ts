/**
 * The `burrow` command's surface: help, version, usage errors and exit codes, the output of
 * `get`, `stats` and `ring`, errors that name the node, and auth and TLS from the command line.
 */
import { readFileSync } from 'node:fs'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, freePort, onCleanup } from './helpers.ts'
import { burrow, Origin, serve } from './support/cli.ts'

afterEach(closeAll)

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const tlsFile = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url))

describe('burrow: help and version', () => {
  it('prints its version', async () => {
    expect(await burrow(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` })
  })

  it('lists its commands with --help, and each command its flags', async () => {
    const top = await burrow(['--help'])
    expect(top.code).toBe(0)
    for (const name of ['serve', 'get', 'stats', 'ring'])
      expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'))
    const serveHelp = await burrow(['serve', '--help'])
    expect(serveHelp.code).toBe(0)
    for (const flag of [
      '--self',
      '--peers',
      '--namespace',
      '--origin',
      '--max-bytes',
      '--ttl',
      '--not-found-ttl',
    ]) {
      expect(serveHelp.stdout).toContain(flag)
    }
    expect((await burrow(['help', 'get'])).stdout).toContain('Usage: burrow get --node URL')
    expect((await burrow(['ring', '-h'])).stdout).toContain('--key KEY')
  })
})

describe('burrow: usage errors exit 2 and say what is wrong', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'an unknown command',
      ['serv'],
      /^burrow: unknown command "serv"; the commands are serve, get, stats, ring/,
    ],
    [
      'an unknown flag, with the nearest',
      ['serve', '--peer', 'x'],
      /^burrow serve: unknown flag --peer; did you mean --peers\?/,
    ],
    [
      'a flag without its value',
      ['get', 'items', 'k', '--node'],
      /^burrow get: Option '--node <value>' argument missing/,
    ],
    ['a missing --node', ['stats'], /^burrow stats: --node URL is required/],
    [
      'a --node that is no node URL',
      ['get', '--node', 'localhost:5001', 'items', 'k'],
      /^burrow get: --node must be a peer id like 'http:\/\/10\.0\.0\.2:5001' .*received "localhost:5001"/,
    ],
    [
      'a --node without a port',
      ['ring', '--node', 'http://127.0.0.1'],
      /^burrow ring: --node must be .*\(an explicit port\)/,
    ],
    [
      'a get without its key',
      ['get', '--node', 'http://127.0.0.1:1', 'items'],
      /^burrow get: expected 2 arguments, received 1/,
    ],
    [
      'a stray argument',
      ['stats', '--node', 'http://127.0.0.1:1', 'extra'],
      /^burrow stats: unexpected argument "extra"/,
    ],
    [
      'a bad duration',
      ['stats', '--node', 'http://127.0.0.1:1', '--timeout', 'soon'],
      /--timeout must be a duration like 500ms, 5s, 10m or 1h, from 1 to \d+ ms, received "soon"/,
    ],
    [
      'serve without --namespace',
      ['serve', '--origin', 'http://o/{key}'],
      /^burrow serve: --namespace NAME is required/,
    ],
    [
      'serve without --origin',
      ['serve', '--namespace', 'items'],
      /^burrow serve: --origin URL-TEMPLATE is required/,
    ],
    [
      'an origin without {key}',
      ['serve', '--namespace', 'items', '--origin', 'http://127.0.0.1:1/items'],
      /--origin "http:\/\/127\.0\.0\.1:1\/items": it must contain \{key\}/,
    ],
    [
      'an origin that is not http',
      ['serve', '--namespace', 'items', '--origin', 'ftp://host/{key}'],
      /it must be an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'two origins for three namespaces',
      [
        'serve',
        '--namespace',
        'a',
        '--namespace',
        'b',
        '--namespace',
        'c',
        '--origin',
        'http://o/{key}',
        '--origin',
        'http://p/{key}',
      ],
      /give one --origin for every namespace, or one per --namespace: 3 namespaces, 2 origins/,
    ],
    [
      'a bad size',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--max-bytes', '12 parsecs'],
      /--max-bytes must be a size like 512KiB, 64MiB or 1GB, received "12 parsecs"/,
    ],
    [
      'a bad policy',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--policy', 'lfu'],
      /--policy must be tinylfu or lru, received "lfu"/,
    ],
    [
      'a bad storage',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--storage', 'disk'],
      /--storage must be heap or offheap, received "disk"/,
    ],
    [
      'a bad kind',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--kind', 'json'],
      /--kind must be string or bytes, received "json"/,
    ],
    [
      'a bad namespace name',
      ['serve', '--namespace', 'no spaces', '--origin', 'http://o/{key}'],
      /^burrow serve: .*namespace.*"no spaces"/,
    ],
    [
      'a bad peer',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--peers', 'http://127.0.0.1:1,nope'],
      /--peers must be a peer id .*received "nope"/,
    ],
    [
      'a busy-poll budget that is not a whole number of microseconds',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--busy-poll-micros', '0.5ms'],
      /--busy-poll-micros must be a whole number of microseconds from 0 to 10000, received "0.5ms"/,
    ],
    [
      'a busy-poll budget over the bound',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--busy-poll-micros', '20000'],
      /--busy-poll-micros must be a whole number .*received "20000"/,
    ],
    [
      'a secret variable that is not set',
      ['serve', '--namespace', 'a', '--origin', 'http://o/{key}', '--auth-secret-env', 'NO_SUCH_VAR_X'],
      /the environment variable NO_SUCH_VAR_X is not set or empty/,
    ],
    [
      'a certificate that cannot be read',
      [
        'serve',
        '--self',
        'https://127.0.0.1:0',
        '--namespace',
        'a',
        '--origin',
        'http://o/{key}',
        '--tls-cert',
        '/nonexistent.pem',
        '--tls-key',
        '/nonexistent.key',
      ],
      /--tls-cert: cannot read \/nonexistent\.pem: ENOENT/,
    ],
    [
      'TLS flags for an http:// node',
      ['stats', '--node', 'http://127.0.0.1:1', '--tls-ca', 'ca.pem'],
      /--tls-ca is for an https:\/\/ node/,
    ],
  ]
  for (const [what, args, message] of cases) {
    it(`for ${what}`, async () => {
      const run = await burrow(args)
      expect(run.stderr).toMatch(message)
      expect(run.code).toBe(2)
      expect(run.stdout).toBe('')
    })
  }
})

describe('burrow get, stats and ring against a node', () => {
  it('prints counters as a report, or the JSON with --json', async () => {
    const origin = await Origin.start()
    const node = await serve(['--namespace', 'items', '--origin', origin.template])
    await burrow(['get', '--node', node.self, 'items', 'a'])
    await burrow(['get', '--node', node.self, 'items', 'a'])
    const json = await burrow(['stats', '--node', node.self, '--json'])
    expect(json.code).toBe(0)
    const stats = JSON.parse(json.stdout)
    expect(stats).toMatchObject({ self: node.self, listening: true, peers: [node.self] })
    expect(stats.namespaces.items).toMatchObject({ gets: 2, hits: 1, localLoads: 1 })
    const report = await burrow(['stats', '--node', node.self])
    expect(report.code).toBe(0)
    expect(report.stdout).toContain(`node         ${node.self}`)
    expect(report.stdout).toContain('namespace items (budget 64.0 MiB)')
    expect(report.stdout).toMatch(/gets {5}2: 1 hits \(50\.0 %\)/)
    expect(report.stdout).toContain('main 1 items')
  })

  it('says which node it could not reach, and exits 3', async () => {
    const port = await freePort()
    for (const command of [['get', 'items', 'k'], ['stats'], ['ring']]) {
      const run = await burrow([command[0]!, '--node', `http://127.0.0.1:${port}`, ...command.slice(1)])
      expect(run.code).toBe(3)
      expect(run.stderr).toBe(
        `burrow ${command[0]}: cannot ask the node at http://127.0.0.1:${port}: connection refused (is a node running there, on that port?)\n`,
      )
    }
  })

  it('says so when the port is not a burrow node', async () => {
    const origin = await Origin.start()
    const run = await burrow(['stats', '--node', origin.url])
    expect(run.code).toBe(3)
    expect(run.stderr).toContain("what it answered is not RESP: is it a burrow node's port?")
  })

  it('gives up after --timeout when the node does not answer', async () => {
    // A port that accepts and never answers: what a frozen node looks like.
    const sockets: Socket[] = []
    const silent = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    onCleanup(() => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => silent.close(resolve))
    })
    const { port } = silent.address() as AddressInfo
    const run = await burrow([
      'get',
      '--node',
      `http://127.0.0.1:${port}`,
      '--timeout',
      '300ms',
      'items',
      'k',
    ])
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('it did not answer within 300 ms (--timeout)')
  })
})

describe('burrow with auth and TLS', () => {
  it('serves only clients with the secret from the environment, never from a flag', async () => {
    const origin = await Origin.start()
    const node = await serve(['--namespace', 'items', '--origin', origin.template], {
      env: { BURROW_SECRET: 's3cret' },
    })
    expect(node.stdout).toContain('; auth on)')
    const without = await burrow(['get', '--node', node.self, 'items', 'k'])
    expect(without.code).toBe(3)
    expect(without.stderr).toContain('it requires a secret: put it in $BURROW_SECRET')
    const withIt = await burrow(['get', '--node', node.self, 'items', 'k'], {
      env: { BURROW_SECRET: 's3cret' },
    })
    expect(withIt).toMatchObject({ code: 0, stdout: 'value of k' })
    const wrong = await burrow(['stats', '--node', node.self, '--auth-secret-env', 'OTHER'], {
      env: { OTHER: 'nope' },
    })
    expect(wrong.code).toBe(3)
    expect(wrong.stderr).toContain('it refused the secret from $OTHER')
    expect(origin.count('k')).toBe(1)
  })

  it('serves TLS with --tls-cert and --tls-key, and clients verify it with --tls-ca', async () => {
    const origin = await Origin.start()
    const node = await serve([
      '--self',
      'https://127.0.0.1:0',
      '--namespace',
      'items',
      '--origin',
      origin.template,
      '--tls-cert',
      tlsFile('node.pem'),
      '--tls-key',
      tlsFile('node.key'),
      '--tls-ca',
      tlsFile('ca.pem'),
    ])
    expect(node.self).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const ok = await burrow(['get', '--node', node.self, '--tls-ca', tlsFile('ca.pem'), 'items', 'k'])
    expect(ok).toMatchObject({ code: 0, stdout: 'value of k' })
    const unverified = await burrow(['get', '--node', node.self, 'items', 'k'])
    expect(unverified.code).toBe(3)
    expect(unverified.stderr).toContain('the TLS handshake failed')
    const plain = await burrow(['get', '--node', node.self.replace('https:', 'http:'), 'items', 'k'])
    expect(plain.code).toBe(3)
    expect(plain.stderr).toContain('a TLS node? use https://')
  })
})
