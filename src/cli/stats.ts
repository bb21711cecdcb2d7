/**
 * `burrow stats --node URL`: a node's counters (`BURROW.STATS`), as a short report or as the
 * node's JSON (`--json`).
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { RespError } from '../transport/resp/reader.ts'
import { CliError, ExitCodes } from './cli-error.ts'
import { CLIENT_HELP, parseClientArgs } from './client-flags.ts'
import type { CliCommand } from './command.ts'
import { ask } from './node-client.ts'
import { nodeAnswered } from './replies.ts'

const HELP = `Usage: burrow stats --node URL [options]

Prints the node's counters (node.stats()): its ring, loads, connections, peer client,
and per namespace gets, hit ratio, loads, peer errors, cache sizes. --json prints the
node's JSON as it sent it, every field included.

${CLIENT_HELP}
Output:
  --json                   the node's stats as JSON, on one line
  -h, --help               this text

Exit codes: 0 printed; 2 usage error; 3 the node could not be asked; 4 the node answered
an error.

Example:
  burrow stats --node http://127.0.0.1:5001 --json | jq .namespaces`

/** The `stats` subcommand. */
export const statsCommand: CliCommand = {
  name: 'stats',
  summary: "print a node's counters (--json for its JSON)",
  help: HELP,
  run: async (argv) => {
    const { call, values } = parseClientArgs('stats', argv, { json: { type: 'boolean' } }, 0)
    if (call === undefined) {
      process.stdout.write(`${HELP}\n`)
      return ExitCodes.OK
    }
    const reply = await ask(call, ['BURROW.STATS'])
    if (reply instanceof RespError) throw nodeAnswered(call.node, reply)
    let stats: unknown
    try {
      stats = JSON.parse(Buffer.isBuffer(reply) ? reply.toString('utf8') : '')
    } catch {
      throw new CliError(ExitCodes.UNREACHABLE, `the node at ${call.node} answered BURROW.STATS with no JSON`)
    }
    process.stdout.write(values.json === true ? `${JSON.stringify(stats)}\n` : report(stats as Stats))
    return ExitCodes.OK
  },
}

/** What the report reads of `node.stats()`; every field may be missing (an older or newer node). */
interface Stats {
  self?: string
  listening?: boolean
  peers?: string[]
  down?: string[]
  owedPurges?: number
  loads?: { running?: number; queued?: number; overloaded?: number }
  server?: { connections?: number; refused?: number; timedOut?: number; overflowed?: number }
  peerClient?: {
    requests?: number
    timeouts?: number
    failures?: number
    connectionsOpen?: number
    connectionsOpened?: number
  }
  namespaces?: Record<string, NamespaceStats>
}

interface CacheStats {
  items?: number
  bytes?: number
  evictions?: number
}

interface NamespaceStats {
  maxBytes?: number
  gets?: number
  hits?: number
  staleHits?: number
  loads?: number
  loadsDeduped?: number
  localLoads?: number
  localLoadErrors?: number
  peerLoads?: number
  peerErrors?: number
  fallbackLoads?: number
  serverRequests?: number
  sets?: number
  deletes?: number
  stores?: number
  purges?: number
  expired?: number
  main?: CacheStats
  hot?: CacheStats
}

/** The human report of a node's stats. */
function report(s: Stats): string {
  const lines = [
    `node         ${s.self ?? '?'}${s.listening === false ? ' (not listening)' : ''}`,
    `ring         ${list(s.peers)}`,
    `down         ${s.down === undefined || s.down.length === 0 ? 'none' : s.down.join(' ')}`,
    `loads        ${n(s.loads?.running)} running, ${n(s.loads?.queued)} queued, ${n(s.loads?.overloaded)} refused (overloaded)`,
    `server       connections ${n(s.server?.connections)} open; ${n(s.server?.refused)} refused, ${n(s.server?.timedOut)} timed out, ${n(s.server?.overflowed)} overflowed`,
    `peer client  ${n(s.peerClient?.requests)} requests, ${n(s.peerClient?.timeouts)} timeouts, ${n(s.peerClient?.failures)} failures; connections ${n(s.peerClient?.connectionsOpen)} open, ${n(s.peerClient?.connectionsOpened)} opened`,
    `owed purges  ${n(s.owedPurges)}`,
  ]
  for (const [name, ns] of Object.entries(s.namespaces ?? {})) {
    const gets = ns.gets ?? 0
    const ratio = gets === 0 ? '-' : `${(((ns.hits ?? 0) / gets) * 100).toFixed(1)} %`
    lines.push(
      '',
      `namespace ${name}${ns.maxBytes === undefined ? '' : ` (budget ${bytes(ns.maxBytes)})`}`,
      `  gets     ${n(ns.gets)}: ${n(ns.hits)} hits (${ratio}), ${n(ns.staleHits)} stale; ${n(ns.serverRequests)} requests from peers and clients`,
      `  loads    ${n(ns.loads)} misses: ${n(ns.loadsDeduped)} joined a flight, ${n(ns.localLoads)} loader calls (${n(ns.localLoadErrors)} failed), ${n(ns.peerLoads)} from owners (${n(ns.peerErrors)} peer errors, ${n(ns.fallbackLoads)} loaded here instead)`,
      `  caches   main ${cache(ns.main)}; hot ${cache(ns.hot)}; ${n(ns.expired)} expired`,
      `  writes   ${n(ns.sets)} sets, ${n(ns.deletes)} deletes; ${n(ns.stores)} stored here, ${n(ns.purges)} purged here`,
    )
  }
  return `${lines.join('\n')}\n`
}

function n(value: number | undefined): string {
  return value === undefined ? '?' : String(value)
}

function list(peers: string[] | undefined): string {
  if (peers === undefined) return '?'
  return `${peers.length} peer${peers.length === 1 ? '' : 's'}: ${peers.join(' ')}`
}

function cache(c: CacheStats | undefined): string {
  return `${n(c?.items)} items, ${c?.bytes === undefined ? '?' : bytes(c.bytes)}, ${n(c?.evictions)} evicted`
}

/** Bytes in B, KiB, MiB or GiB, one decimal. */
export function bytes(b: number): string {
  if (b < 1024) return `${b} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = b / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}
