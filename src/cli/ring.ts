/**
 * `burrow ring --node URL`: the ring as a node sees it (`BURROW.RING`), with each peer's share of
 * the keys and, for `--key`, each key's owner — both computed here from the node's answer, as any
 * client may (docs/protocol.md).
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { MaglevRing } from '../maglev-ring.ts'
import { Ring, type RingLike } from '../ring.ts'
import { RespError, type RespValue } from '../transport/resp/reader.ts'
import { CliError, ExitCodes } from './cli-error.ts'
import { CLIENT_HELP, parseClientArgs } from './client-flags.ts'
import type { CliCommand } from './command.ts'
import { ask } from './node-client.ts'
import { nodeAnswered } from './replies.ts'

const HELP = `Usage: burrow ring --node URL [options]

Prints the ring as the node sees it: the algorithm, this node's id, and the peers on
the ring (live ones) with the share of keys each owns. --key prints which peer owns a key.
Shares and owners are computed here from the node's answer (BURROW.RING), as any client
can; not when the node hashes with a function of its own.

${CLIENT_HELP}
Output:
  --key KEY                print the owner of KEY (repeatable)
  --json                   { ring, hash, replicas | table, self, peers, shares, owners } as JSON
  -h, --help               this text

Exit codes: 0 printed; 2 usage error; 3 the node could not be asked; 4 the node answered
an error, or its ring cannot be computed here (a custom hash) and --key was given.

Example:
  burrow ring --node http://127.0.0.1:5001 --key 42`

/** The ring a node described, as read from its `BURROW.RING` reply. */
interface RingReply {
  ring: string
  hash: string
  replicas?: number
  table?: number
  self: string
  peers: string[]
}

/** The `ring` subcommand. */
export const ringCommand: CliCommand = {
  name: 'ring',
  summary: 'print the ring a node sees: peers, shares, owners of keys',
  help: HELP,
  run: async (argv) => {
    const { call, values } = parseClientArgs(
      'ring',
      argv,
      { json: { type: 'boolean' }, key: { type: 'string', multiple: true } },
      0,
    )
    if (call === undefined) {
      process.stdout.write(`${HELP}\n`)
      return ExitCodes.OK
    }
    const reply = await ask(call, ['BURROW.RING'])
    if (reply instanceof RespError) throw nodeAnswered(call.node, reply)
    const view = readRing(call.node, reply)
    const ring = computable(view)
    const keys = (values.key as string[] | undefined) ?? []
    if (ring === undefined && keys.length > 0) {
      throw new CliError(
        ExitCodes.NODE_ERROR,
        `the node at ${call.node} hashes keys with a function of its own (hash: ${view.hash}): owners cannot be computed here`,
      )
    }
    const shares = ring?.shares()
    const owners = Object.fromEntries(keys.map((key) => [key, (ring as RingLike).owner(key)]))
    if (values.json === true) {
      const json = {
        ...view,
        ...(shares && { shares: Object.fromEntries(shares) }),
        ...(keys.length > 0 && { owners }),
      }
      process.stdout.write(`${JSON.stringify(json)}\n`)
      return ExitCodes.OK
    }
    const params = view.ring === 'maglev' ? `${view.table} slots` : `${view.replicas} virtual nodes per peer`
    const width = Math.max(...view.peers.map((peer) => peer.length))
    const lines = [
      `ring   ${view.ring}, hash ${view.hash}, ${params}`,
      `self   ${view.self}`,
      `peers  ${view.peers.length}${shares === undefined ? '' : ' (share of keys)'}`,
      ...view.peers.map((peer) => {
        const share = shares?.get(peer)
        const mark = peer === view.self ? ' (self)' : ''
        return `  ${peer.padEnd(width)}${share === undefined ? '' : `  ${(share * 100).toFixed(1).padStart(5)} %`}${mark}`
      }),
      ...keys.map((key) => `owner of ${JSON.stringify(key)}: ${owners[key]}`),
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
    return ExitCodes.OK
  },
}

/** The fields of a `BURROW.RING` reply (names and values in turn); fields not known are skipped. */
function readRing(node: string, reply: RespValue): RingReply {
  const bad = () =>
    new CliError(ExitCodes.UNREACHABLE, `the node at ${node} answered BURROW.RING with no ring`)
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw bad()
  const fields = new Map<string, RespValue>()
  for (let i = 0; i < reply.length; i += 2) fields.set(text(reply[i] as RespValue), reply[i + 1] as RespValue)
  const peers = fields.get('peers')
  if (!Array.isArray(peers) || !fields.has('self')) throw bad()
  const replicas = fields.get('replicas')
  const table = fields.get('table')
  return {
    // A reply without `ring` comes from burrow 0.1, whose ring is groupcache's.
    ring: fields.has('ring') ? text(fields.get('ring') as RespValue) : 'groupcache',
    hash: text(fields.get('hash') ?? 'crc32'),
    ...(typeof replicas === 'number' && { replicas }),
    ...(typeof table === 'number' && { table }),
    self: text(fields.get('self') as RespValue),
    peers: peers.map((peer) => text(peer)),
  }
}

function text(value: RespValue): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
}

/** The ring itself, rebuilt from the reply, when this side can compute it (crc32, a known algorithm). */
function computable(view: RingReply): RingLike | undefined {
  if (view.hash !== 'crc32' || view.peers.length === 0) return undefined
  if (view.ring === 'groupcache' && view.replicas !== undefined)
    return new Ring(view.peers, { replicas: view.replicas })
  if (view.ring === 'maglev' && view.table === 65537) return new MaglevRing(view.peers)
  return undefined
}
