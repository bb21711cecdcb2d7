/**
 * The exact replies to what Redis clients send as they connect and look around: HELLO, CLIENT,
 * SELECT, ECHO, INFO, CONFIG and COMMAND, over a real server with no namespaces behind it.
 */
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RespError, type RespValue } from '../src/transport/resp/reader.ts'
import { NodeServer } from '../src/transport/server/node-server.ts'
import { VERSION } from '../src/version.ts'
import { command, type Talk, talk } from './support/resp-talk.ts'

let server: NodeServer
let port = 0
const talks: Talk[] = []

beforeEach(async () => {
  server = new NodeServer({
    node: { self: 'http://127.0.0.1:6380' },
    namespace: () => undefined,
    http: (_req, res) => res.end(),
    maxFrameBytes: 1 << 20,
    stats: () => ({}),
    ring: () => ({
      ring: 'groupcache',
      self: 'http://127.0.0.1:6380',
      peers: [],
      replicas: 50,
      hash: 'crc32',
    }),
    membership: { left: () => {}, leaving: () => false },
    secrets: undefined,
    maxConnections: 100,
    requestTimeoutMs: 10_000,
    maxReplyBufferBytes: 1 << 26,
  })
  port = (await server.listen('127.0.0.1', 0)).port
})

afterEach(async () => {
  for (const t of talks.splice(0)) t.socket.destroy()
  await server.close()
})

async function open(): Promise<Talk> {
  const t = await talk(`http://127.0.0.1:${port}`)
  talks.push(t)
  return t
}

/** The replies to `commands`, each a list of arguments, sent together on one new connection. */
async function ask(...commands: (string | Uint8Array)[][]): Promise<RespValue[]> {
  const t = await open()
  t.write(Buffer.concat(commands.map((args) => command(...args))))
  return t.replies(commands.length)
}

/** The reply to one command on a new connection. */
async function one(...args: (string | Uint8Array)[]): Promise<RespValue> {
  return (await ask(args))[0] as RespValue
}

const bulks = (...items: string[]) => items.map((item) => Buffer.from(item))
const err = (text: string) => new RespError(text)

function helloReply(id: number): RespValue[] {
  return [
    ...bulks('server', 'burrow', 'version', VERSION, 'proto'),
    2,
    Buffer.from('id'),
    id,
    ...bulks('mode', 'standalone', 'role', 'master', 'modules'),
    [],
  ]
}

describe('HELLO', () => {
  it('HELLO and HELLO 2 answer the connection as names and values in turn, with its CLIENT ID', async () => {
    const [id, bare, two] = await ask(['CLIENT', 'ID'], ['HELLO'], ['hello', '2'])
    expect(typeof id).toBe('number')
    expect(bare).toEqual(helloReply(id as number))
    expect(two).toEqual(helloReply(id as number))
  })

  it('HELLO 2 SETNAME names the connection', async () => {
    const [reply, name] = await ask(['HELLO', '2', 'SETNAME', 'worker-1'], ['CLIENT', 'GETNAME'])
    expect((reply as RespValue[]).slice(0, 6)).toEqual([
      ...bulks('server', 'burrow', 'version', VERSION, 'proto'),
      2,
    ])
    expect(name).toEqual(Buffer.from('worker-1'))
  })

  it('HELLO 1 (any version but 2 and 3) is refused with NOPROTO, and the connection goes on in RESP2', async () => {
    expect(await ask(['HELLO', '1'], ['HELLO', '4', 'SETNAME', 'x'], ['PING'])).toEqual([
      err('NOPROTO unsupported protocol version: burrow speaks RESP2 and RESP3'),
      err('NOPROTO unsupported protocol version: burrow speaks RESP2 and RESP3'),
      'PONG',
    ])
  })

  it('HELLO 3 answers a RESP3 map and switches the connection: nil is _, CONFIG GET a map; HELLO 2 switches back', async () => {
    const c = await open()
    c.socket.removeAllListeners('data') // read the raw bytes: the test parser speaks RESP2
    let bytes = ''
    c.socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1')
    })
    c.write(
      Buffer.concat([
        command('HELLO', '3'),
        command('CLIENT', 'GETNAME'),
        command('CONFIG', 'GET', 'save'),
        command('HELLO', '2'),
        command('CLIENT', 'GETNAME'),
      ]),
    )
    const helloMap = `%7\r\n$6\r\nserver\r\n$6\r\nburrow\r\n$7\r\nversion\r\n$${VERSION.length}\r\n${VERSION}\r\n$5\r\nproto\r\n:3\r\n`
    while (!bytes.includes('$-1\r\n')) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(bytes.startsWith(helloMap)).toBe(true)
    const afterHello = bytes.slice(bytes.indexOf('*0\r\n') + 4)
    expect(afterHello.startsWith('_\r\n%1\r\n$4\r\nsave\r\n$0\r\n\r\n*14\r\n')).toBe(true)
    expect(bytes.endsWith('$-1\r\n')).toBe(true)
  })

  it('refuses a version that is not a number, a malformed option, AUTH (no password here: as AUTH answers) and a bad name', async () => {
    const usage = err('ERR usage: HELLO [protover [AUTH username password] [SETNAME name]]')
    expect(
      await ask(
        ['HELLO', 'two'],
        ['HELLO', '2', 'SETNAME'],
        ['HELLO', '2', 'AUTH', 'default'],
        ['HELLO', '2', 'LATER'],
        ['HELLO', '2', 'AUTH', 'default', 'secret'],
        ['HELLO', '2', 'SETNAME', 'has space'],
        ['CLIENT', 'GETNAME'],
      ),
    ).toEqual([
      err('ERR the protocol version is not an integer'),
      usage,
      usage,
      usage,
      err(
        'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      ),
      err('ERR a client name is printable ASCII with no spaces'),
      null,
    ])
  })
})

describe('SELECT and ECHO', () => {
  it('SELECT 0 is OK; any other database is out of range', async () => {
    expect(
      await ask(
        ['SELECT', '0'],
        ['select', '+0'],
        ['SELECT', '1'],
        ['SELECT', '-1'],
        ['SELECT', 'x'],
        ['SELECT'],
      ),
    ).toEqual([
      'OK',
      'OK',
      err('ERR DB index is out of range: burrow has database 0 only'),
      err('ERR DB index is out of range: burrow has database 0 only'),
      err('ERR the database index is not an integer'),
      err('ERR usage: SELECT 0'),
    ])
  })

  it('ECHO answers its message with the same bytes, UTF-8 or not', async () => {
    const raw = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0xfe])
    expect(await ask(['ECHO', raw], ['echo', 'hé 🦫'], ['ECHO'], ['ECHO', 'a', 'b'])).toEqual([
      raw,
      Buffer.from('hé 🦫'),
      err('ERR usage: ECHO message'),
      err('ERR usage: ECHO message'),
    ])
  })
})

describe('CLIENT', () => {
  it('ID is the same on one connection and different on another', async () => {
    const [a1, a2] = await ask(['CLIENT', 'ID'], ['client', 'id'])
    const b = await one('CLIENT', 'ID')
    expect(a1).toBe(a2)
    expect(b).not.toBe(a1)
    expect(Number.isSafeInteger(b) && (b as number) > 0).toBe(true)
  })

  it('SETNAME sets what GETNAME and INFO answer (nil with no name; an empty name clears it)', async () => {
    const [id, before, set, after, info, cleared, gone] = await ask(
      ['CLIENT', 'ID'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'app-1'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'INFO'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
    )
    expect([before, set, after, cleared, gone]).toEqual([null, 'OK', Buffer.from('app-1'), 'OK', null])
    expect(info).toEqual(Buffer.from(`id=${id} name=app-1 db=0 resp=2 lib-name= lib-ver=\n`))
  })

  it('SETINFO records the library that CLIENT INFO shows', async () => {
    const [id, name, version, info] = await ask(
      ['CLIENT', 'ID'],
      ['CLIENT', 'SETINFO', 'LIB-NAME', 'ioredis'],
      ['CLIENT', 'setinfo', 'lib-ver', '5.11.1'],
      ['CLIENT', 'INFO'],
    )
    expect([name, version]).toEqual(['OK', 'OK'])
    expect(info).toEqual(Buffer.from(`id=${id} name= db=0 resp=2 lib-name=ioredis lib-ver=5.11.1\n`))
  })

  it('refuses names with spaces or newlines, unknown attributes, unknown subcommands and wrong arities', async () => {
    expect(
      await ask(
        ['CLIENT', 'SETNAME', 'a b'],
        ['CLIENT', 'SETNAME', 'a\nb'],
        ['CLIENT', 'SETINFO', 'LIB-NAME', 'x y'],
        ['CLIENT', 'SETINFO', 'LIB-COLOR', 'red'],
        ['CLIENT', 'KILL', 'ID', '1'],
        ['CLIENT'],
        ['CLIENT', 'SETNAME'],
        ['CLIENT', 'ID', 'extra'],
      ),
    ).toEqual([
      err('ERR a client name is printable ASCII with no spaces'),
      err('ERR a client name is printable ASCII with no spaces'),
      err('ERR LIB-NAME is printable ASCII with no spaces'),
      err("ERR unknown attribute 'LIB-COLOR' (LIB-NAME or LIB-VER)"),
      err("ERR unknown subcommand 'KILL' of CLIENT (CLIENT HELP lists them)"),
      err('ERR usage: CLIENT subcommand [argument ...] (CLIENT HELP lists them)'),
      err('ERR usage: CLIENT SETNAME name'),
      err('ERR usage: CLIENT ID'),
    ])
  })

  it('HELP lists the subcommands', async () => {
    expect(await one('CLIENT', 'help')).toEqual([
      'CLIENT ID',
      'CLIENT GETNAME',
      'CLIENT SETNAME name',
      'CLIENT SETINFO LIB-NAME|LIB-VER value',
      'CLIENT INFO',
      'CLIENT HELP',
    ])
  })
})

describe('INFO', () => {
  /** A reply of INFO as its sections, title → lines; uptime left out (it may tick between two replies). */
  function sections(reply: RespValue): Map<string, string[]> {
    expect(reply).toBeInstanceOf(Buffer)
    const text = (reply as Buffer).toString()
    expect(text.endsWith('\r\n')).toBe(true)
    const found = new Map<string, string[]>()
    for (const block of text.slice(0, -2).split('\r\n\r\n')) {
      const [title, ...lines] = block.split('\r\n')
      found.set(
        title as string,
        lines.filter((line) => !line.startsWith('uptime_in_seconds:')),
      )
    }
    return found
  }

  it('answers every section by default: Server, Persistence, Replication, Keyspace', async () => {
    const all = sections(await one('INFO'))
    expect([...all.keys()]).toEqual(['# Server', '# Persistence', '# Replication', '# Keyspace'])
    expect(all.get('# Persistence')).toEqual(['loading:0', 'async_loading:0', 'aof_enabled:0'])
    expect(all.get('# Replication')).toEqual(['role:master', 'connected_slaves:0'])
    expect(all.get('# Keyspace')).toEqual([])
    for (const word of ['all', 'everything', 'default'])
      expect(sections(await one('INFO', word))).toEqual(all)
  })

  it('the server section says what the node is, with the Redis version whose handshake it answers', async () => {
    const reply = String(await one('info', 'SERVER'))
    expect(reply).toMatch(/^# Server\r\n(\w+:[^\r\n]*\r\n)+$/)
    const server = reply.split('\r\n').slice(1, -1)
    expect(server.map((line) => line.split(':')[0])).toEqual([
      'redis_version',
      'server_name',
      'burrow_version',
      'nodejs_version',
      'redis_mode',
      'process_id',
      'tcp_port',
      'uptime_in_seconds',
    ])
    expect(server).toEqual(
      expect.arrayContaining([
        'redis_version:7.2.0',
        'server_name:burrow',
        `burrow_version:${VERSION}`,
        `nodejs_version:${process.versions.node}`,
        'redis_mode:standalone',
        `process_id:${process.pid}`,
        'tcp_port:6380',
      ]),
    )
    expect(server.at(-1)).toMatch(/^uptime_in_seconds:\d+$/)
  })

  it('answers the sections named, in its own order, and nothing for unknown ones', async () => {
    expect(await one('INFO', 'keyspace', 'replication', 'nosuch')).toEqual(
      Buffer.from('# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n# Keyspace\r\n'),
    )
    expect(await one('INFO', 'persistence')).toEqual(
      Buffer.from('# Persistence\r\nloading:0\r\nasync_loading:0\r\naof_enabled:0\r\n'),
    )
    expect(await one('INFO', 'nosuch')).toEqual(Buffer.from(''))
  })
})

describe('CONFIG', () => {
  const pairs = { appendonly: ['appendonly', 'no'], databases: ['databases', '1'], save: ['save', ''] }

  it('GET answers the settings matching any of its glob patterns, as names and values in turn', async () => {
    const cases: [string[], string[]][] = [
      [['*'], [...pairs.appendonly, ...pairs.databases, ...pairs.save]],
      [['save'], pairs.save],
      [['SAVE'], pairs.save],
      [['s?ve'], pairs.save],
      [['sav\\e'], pairs.save],
      [['[ad]*'], [...pairs.appendonly, ...pairs.databases]],
      [['[a-c]*'], pairs.appendonly],
      [['[^s]*'], [...pairs.appendonly, ...pairs.databases]],
      [['*only'], pairs.appendonly],
      [['*a*a*'], pairs.databases],
      [
        ['save', 'appendonly', 's*'],
        [...pairs.appendonly, ...pairs.save],
      ],
      [['maxmemory'], []],
      [['sav'], []],
      [['save?'], []],
      [['['], []],
    ]
    const replies = await ask(...cases.map(([patterns]) => ['CONFIG', 'GET', ...patterns]))
    expect(replies).toEqual(cases.map(([, expected]) => bulks(...expected)))
  })

  it('SET is refused: a node is configured in code; other subcommands are unknown', async () => {
    expect(
      await ask(
        ['CONFIG', 'SET', 'save', ''],
        ['CONFIG', 'GET'],
        ['CONFIG', 'RESETSTAT'],
        ['CONFIG'],
        ['config', 'help'],
      ),
    ).toEqual([
      err('ERR CONFIG SET is not supported: a node takes its options from the code that starts it'),
      err('ERR usage: CONFIG GET pattern [pattern ...]'),
      err("ERR unknown subcommand 'RESETSTAT' of CONFIG (CONFIG HELP lists them)"),
      err('ERR usage: CONFIG subcommand [argument ...] (CONFIG HELP lists them)'),
      ['CONFIG GET pattern [pattern ...]', 'CONFIG SET parameter value [parameter value ...]', 'CONFIG HELP'],
    ])
  })
})

describe('COMMAND', () => {
  const entry = (name: string) => [Buffer.from(name), -1, [], 0, 0, 0, [], [], [], []]

  it('COUNT, LIST and COMMAND agree on the table; INFO describes each command asked for, nil for others', async () => {
    const [count, list, all, info, docs] = await ask(
      ['COMMAND', 'COUNT'],
      ['COMMAND', 'LIST'],
      ['COMMAND'],
      ['command', 'info', 'BURROW.GET', 'nosuch', 'hello'],
      ['COMMAND', 'DOCS', 'burrow.get'],
    )
    const names = (list as Buffer[]).map(String)
    expect(names).toHaveLength(count as number)
    expect(names).toEqual([...names].sort())
    for (const name of [
      'burrow.get',
      'burrow.fetch',
      'hello',
      'client',
      'info',
      'config',
      'command',
      'quit',
      'echo',
    ])
      expect(names).toContain(name)
    expect(all).toEqual(names.map(entry))
    expect(info).toEqual([entry('burrow.get'), null, entry('hello')])
    expect(docs).toEqual([])
  })

  it('refuses unknown subcommands and extra arguments', async () => {
    expect(await ask(['COMMAND', 'GETKEYS', 'GET', 'k'], ['COMMAND', 'COUNT', 'x'])).toEqual([
      err("ERR unknown subcommand 'GETKEYS' of COMMAND (COMMAND HELP lists them)"),
      err('ERR usage: COMMAND COUNT'),
    ])
  })
})

describe('as people type them', () => {
  it('names and subcommands are case-insensitive, inline commands (telnet) included', async () => {
    const t = await open()
    t.write('select 0\r\nEcHo hi\r\nClient SetName inline\r\nclient getname\r\ncommand count\r\n')
    const replies = await t.replies(5)
    expect(replies.slice(0, 4)).toEqual(['OK', Buffer.from('hi'), 'OK', Buffer.from('inline')])
    expect(replies[4]).toBe(await one('COMMAND', 'COUNT'))
  })
})

describe('the version reported', () => {
  it('is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    expect(VERSION).toBe(pkg.version)
  })
})
