/**
 * What clients and tools ask a server about itself: `INFO`, `CONFIG` and `COMMAND`. The answers
 * are small and fixed, enough for ioredis' ready check (`loading:0`), redis-cli and
 * redis-benchmark (`CONFIG GET save`, `appendonly`).
 *
 * @module
 */
import { VERSION } from '../../../version.ts'
import type { CommandArgs } from '../../resp/command-reader.ts'
import type { Command, Session, Write } from '../command.ts'
import { writeBulks, writeError, writeValue } from '../replies.ts'
import { withSubcommands } from '../subcommands.ts'

/**
 * The Redis version `INFO` reports as `redis_version`: the release whose handshake burrow
 * answers (`HELLO`, `CLIENT SETINFO`). burrow runs none of Redis' data commands.
 */
const REDIS_VERSION = '7.2.0'

/** The sections of `INFO`, in the order they are written, each as its `field:value` lines. */
const SECTIONS: readonly { name: string; title: string; lines: (session: Session) => string[] }[] = [
  {
    name: 'server',
    title: 'Server',
    lines: (session) => [
      `redis_version:${REDIS_VERSION}`,
      'server_name:burrow',
      `burrow_version:${VERSION}`,
      `nodejs_version:${process.versions.node}`,
      'redis_mode:standalone',
      `process_id:${process.pid}`,
      `tcp_port:${new URL(session.ring().self).port}`,
      `uptime_in_seconds:${Math.floor(process.uptime())}`,
    ],
  },
  // Nothing is read from disk: the cache is never loading, which is what ioredis waits for.
  {
    name: 'persistence',
    title: 'Persistence',
    lines: () => ['loading:0', 'async_loading:0', 'aof_enabled:0'],
  },
  { name: 'replication', title: 'Replication', lines: () => ['role:master', 'connected_slaves:0'] },
  // Keys live in namespaces, reached through BURROW.GET, not in a database that SCAN could list.
  { name: 'keyspace', title: 'Keyspace', lines: () => [] },
]
/** The section names that stand for every section. */
const EVERY_SECTION = new Set(['all', 'everything', 'default'])

/**
 * `INFO [section ...]` → the sections asked for (every one when none is named, or for `all`,
 * `everything`, `default`) as `# Title` followed by `field:value` lines, in a bulk string.
 * Unknown sections are left out.
 */
function info(session: Session, args: CommandArgs): void {
  const asked = new Set(args.slice(1).map((arg) => (arg as string).toLowerCase()))
  const every = asked.size === 0 || [...asked].some((name) => EVERY_SECTION.has(name))
  const text = SECTIONS.filter((section) => every || asked.has(section.name))
    .map(
      (section) =>
        `# ${section.title}\r\n${section
          .lines(session)
          .map((line) => `${line}\r\n`)
          .join('')}`,
    )
    .join('\r\n')
  session.reply(writeValue, text)
}

/**
 * The settings `CONFIG GET` reports, as name and value: none can be changed, and these are the
 * ones tools read (redis-benchmark warns without `save` and `appendonly`). Nothing is persisted.
 */
const SETTINGS: readonly (readonly [string, string])[] = [
  ['appendonly', 'no'],
  ['databases', '1'],
  ['save', ''],
]

/** Names and values: a map in RESP3, names and values in turn in RESP2. */
const writePairs: Write<readonly (readonly [string, string])[]> = (writer, pairs) => {
  writer.mapHeader(pairs.length)
  for (const [name, value] of pairs) writer.bulk(name).bulk(value)
}

/** `CONFIG GET pattern [pattern ...]` → names and values in turn; `CONFIG SET` → an error. */
const config = withSubcommands('CONFIG', {
  GET: {
    usage: 'GET pattern [pattern ...]',
    args: [1, Number.POSITIVE_INFINITY],
    run: (session, args) => {
      const patterns = args.slice(2) as string[]
      const found = SETTINGS.filter(([name]) => patterns.some((pattern) => globMatch(pattern, name)))
      session.reply(writePairs, found)
    },
  },
  SET: {
    usage: 'SET parameter value [parameter value ...]',
    args: [0, Number.POSITIVE_INFINITY],
    run: (session) =>
      session.reply(
        writeError,
        'ERR CONFIG SET is not supported: a node takes its options from the code that starts it',
      ),
  },
})

/**
 * Whether `text` matches the glob `pattern`, ignoring case: `*` any run, `?` one character,
 * `[abc]`, `[a-z]`, `[^abc]` one of a set, `\x` the character x. Backtracks only to the last `*`,
 * so it takes time proportional to the product of the lengths at worst.
 */
function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase()
  const t = text.toLowerCase()
  let i = 0
  let j = 0
  let starAt = -1
  let starText = 0
  while (j < t.length) {
    const step = i < p.length && p[i] !== '*' ? matchOne(p, i, t[j] as string) : 0
    if (step > 0) {
      i += step
      j++
    } else if (i < p.length && p[i] === '*') {
      starAt = i++
      starText = j
    } else if (starAt >= 0) {
      i = starAt + 1
      j = ++starText
    } else {
      return false
    }
  }
  while (p[i] === '*') i++
  return i === p.length
}

/** How many pattern characters at `i` matched `ch` (0: no match; `i` is not at a `*`). */
function matchOne(p: string, i: number, ch: string): number {
  const c = p[i]
  if (c === '?') return 1
  if (c === '\\' && i + 1 < p.length) return p[i + 1] === ch ? 2 : 0
  if (c === '[') {
    const end = p.indexOf(']', i + 2)
    if (end > 0) return matchSet(p.slice(i + 1, end), ch) ? end - i + 1 : 0
  }
  return c === ch ? 1 : 0
}

/** Whether `ch` is in the set `body` (what lies between `[` and `]`). */
function matchSet(body: string, ch: string): boolean {
  const negate = body[0] === '^' && body.length > 1
  let k = negate ? 1 : 0
  let found = false
  while (k < body.length) {
    if (body[k + 1] === '-' && k + 2 < body.length) {
      const a = body[k] as string
      const b = body[k + 2] as string
      if ((ch >= a && ch <= b) || (ch >= b && ch <= a)) found = true
      k += 3
    } else {
      if (body[k] === ch) found = true
      k++
    }
  }
  return found !== negate
}

/**
 * `COMMAND` and its subcommands, for a table of `names`: each command described minimally (any
 * number of arguments, no flags, no keys), and no docs. Made by the command table, which knows
 * the names.
 */
export function commandCommand(names: readonly string[]): Command {
  const lower = names.map((name) => name.toLowerCase()).sort()
  const known = new Set(lower)
  const describe = (asked: readonly string[]) =>
    asked.map((name) => name.toLowerCase()).map((name) => (known.has(name) ? name : undefined))
  const subcommands = withSubcommands('COMMAND', {
    COUNT: { usage: 'COUNT', args: [0, 0], run: (session) => session.reply(writeCount, lower.length) },
    LIST: { usage: 'LIST', args: [0, 0], run: (session) => session.reply(writeBulks, lower) },
    INFO: {
      usage: 'INFO [command ...]',
      args: [0, Number.POSITIVE_INFINITY],
      run: (session, args) =>
        session.reply(writeEntries, args.length > 2 ? describe(args.slice(2) as string[]) : lower),
    },
    // No docs: redis-cli then uses the hints it was built with.
    DOCS: {
      usage: 'DOCS [command ...]',
      args: [0, Number.POSITIVE_INFINITY],
      run: (session) => session.reply(writeBulks, []),
    },
  })
  return {
    name: 'COMMAND',
    binaryFrom: Number.POSITIVE_INFINITY,
    run: (session, args) =>
      args.length === 1 ? session.reply(writeEntries, lower) : subcommands(session, args),
  }
}

const writeCount: Write<number> = (writer, n) => {
  writer.integer(n)
}

/**
 * Each command as Redis 7 describes one: `[name, arity, flags, first key, last key, key step,
 * ACL categories, tips, key specs, subcommands]`, with arity -1 (any number of arguments) and no
 * keys; nil for a name that is not a command.
 */
const writeEntries: Write<readonly (string | undefined)[]> = (writer, names) => {
  writer.arrayHeader(names.length)
  for (const name of names) {
    if (name === undefined) {
      writer.nil()
      continue
    }
    writer.arrayHeader(10).bulk(name).integer(-1).arrayHeader(0).integer(0).integer(0).integer(0)
    writer.arrayHeader(0).arrayHeader(0).arrayHeader(0).arrayHeader(0)
  }
}

/** The introspection commands of the table (`COMMAND` is made by the table: see {@link commandCommand}). */
export const introspectionCommands: readonly Command[] = [
  { name: 'INFO', binaryFrom: Number.POSITIVE_INFINITY, run: info },
  { name: 'CONFIG', binaryFrom: Number.POSITIVE_INFINITY, run: config },
]
