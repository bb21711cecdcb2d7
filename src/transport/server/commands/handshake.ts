/**
 * What Redis clients send as they connect, answered so that they get through their handshake with
 * their default options: `HELLO`, `CLIENT`, `SELECT` and `ECHO`. A connection speaks RESP2 until it
 * asks `HELLO 3`; then nils and maps go out as RESP3 writes them (the other types are the same).
 *
 * @module
 */

import type { Buffer } from 'node:buffer'
import { VERSION } from '../../../version.ts'
import type { CommandArgs } from '../../resp/command-reader.ts'
import type { Command, Session, Write } from '../command.ts'
import { writeError, writeSimple, writeValue } from '../replies.ts'
import { withSubcommands } from '../subcommands.ts'
import { NO_PASSWORD, WRONG_PASSWORD } from './auth.ts'

/** What a connection said about itself (`CLIENT SETNAME`, `CLIENT SETINFO`, `HELLO … SETNAME`). */
interface ClientState {
  readonly id: number
  name: string
  libName: string
  libVer: string
}

/** Each connection's state, kept beside the connection and dropped with it. */
const clients = new WeakMap<Session, ClientState>()
/** The last connection id handed out (ids are unique in the process, from 1). */
let lastId = 0

function clientOf(session: Session): ClientState {
  let state = clients.get(session)
  if (state === undefined) {
    state = { id: ++lastId, name: '', libName: '', libVer: '' }
    clients.set(session, state)
  }
  return state
}

/** Client names and library names: printable ASCII with no space, so `CLIENT INFO` stays one line. */
const PRINTABLE = /^[!-~]*$/
const INTEGER = /^[+-]?\d+$/
/** The one protocol version burrow speaks. */
const HELLO_USAGE = 'ERR usage: HELLO [protover [AUTH username password] [SETNAME name]]'
/** Redis' words for a HELLO before authentication. */
const HELLO_NOAUTH =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'

/**
 * `HELLO [protover [AUTH username password] [SETNAME name]]` → the connection's properties as
 * names and values in turn: `server burrow version … proto 2 id … mode standalone role master
 * modules []`. A protover other than 2 → `-NOPROTO`. `AUTH` authenticates as the `AUTH` command
 * does; on a node with `auth`, a `HELLO` without it on a connection not yet authenticated → `-NOAUTH`.
 */
function hello(session: Session, args: CommandArgs): void {
  let name: string | undefined
  let version: number = session.protocol
  if (args.length > 1) {
    const protover = args[1] as string
    if (!INTEGER.test(protover))
      return session.reply(writeError, 'ERR the protocol version is not an integer')
    let auth: { user: string; secret: string } | undefined
    for (let i = 2; i < args.length; i++) {
      const option = (args[i] as string).toUpperCase()
      if (option === 'AUTH' && i + 2 < args.length) {
        auth = { user: args[i + 1] as string, secret: args[i + 2] as string }
        i += 2
      } else if (option === 'SETNAME' && i + 1 < args.length) {
        name = args[++i] as string
      } else {
        return session.reply(writeError, HELLO_USAGE)
      }
    }
    version = Number(protover)
    if (version !== 2 && version !== 3) {
      return session.reply(writeError, 'NOPROTO unsupported protocol version: burrow speaks RESP2 and RESP3')
    }
    if (auth !== undefined) {
      const ok = auth.user === 'default' ? session.authenticate(auth.secret) : false
      if (ok === undefined) return session.reply(writeError, NO_PASSWORD)
      if (!ok) return session.reply(writeError, WRONG_PASSWORD)
    }
    if (name !== undefined && !PRINTABLE.test(name)) return session.reply(writeError, BAD_NAME)
  }
  if (!session.authenticated) return session.reply(writeError, HELLO_NOAUTH)
  const state = clientOf(session)
  if (name !== undefined) state.name = name
  session.reply(writeHello, { id: state.id, version: version as 2 | 3 })
}

/**
 * The reply to `HELLO`, in the protocol it asked for: the switch is made as this reply is
 * written, so replies owed to earlier commands keep the protocol they were asked in.
 */
const writeHello: Write<{ id: number; version: 2 | 3 }> = (writer, { id, version }) => {
  writer.resp3 = version === 3
  writer.mapHeader(7).bulk('server').bulk('burrow').bulk('version').bulk(VERSION)
  writer.bulk('proto').integer(version).bulk('id').integer(id)
  writer.bulk('mode').bulk('standalone').bulk('role').bulk('master').bulk('modules').arrayHeader(0)
}

/** `SELECT 0` → `+OK`: burrow has one database, 0. Any other index → an error. */
function select(session: Session, args: CommandArgs): void {
  if (args.length !== 2) return session.reply(writeError, 'ERR usage: SELECT 0')
  const index = args[1] as string
  if (!INTEGER.test(index)) return session.reply(writeError, 'ERR the database index is not an integer')
  if (Number(index) !== 0)
    return session.reply(writeError, 'ERR DB index is out of range: burrow has database 0 only')
  session.reply(writeSimple, 'OK')
}

/** `ECHO message` → the message's bytes, as they came. */
function echo(session: Session, args: CommandArgs): void {
  if (args.length !== 2) return session.reply(writeError, 'ERR usage: ECHO message')
  session.reply(writeValue, args[1] as Buffer)
}

const BAD_NAME = 'ERR a client name is printable ASCII with no spaces'
const writeInteger: Write<number> = (writer, n) => {
  writer.integer(n)
}

/** `CLIENT ID|GETNAME|SETNAME|SETINFO|INFO|HELP`: what a connection says and learns about itself. */
const client = withSubcommands('CLIENT', {
  ID: { usage: 'ID', args: [0, 0], run: (session) => session.reply(writeInteger, clientOf(session).id) },
  GETNAME: {
    usage: 'GETNAME',
    args: [0, 0],
    run: (session) => session.reply(writeValue, clientOf(session).name || undefined),
  },
  SETNAME: {
    usage: 'SETNAME name',
    args: [1, 1],
    run: (session, args) => {
      const name = args[2] as string
      if (!PRINTABLE.test(name)) return session.reply(writeError, BAD_NAME)
      clientOf(session).name = name
      session.reply(writeSimple, 'OK')
    },
  },
  SETINFO: {
    usage: 'SETINFO LIB-NAME|LIB-VER value',
    args: [2, 2],
    run: (session, args) => {
      const attribute = (args[2] as string).toUpperCase()
      const value = args[3] as string
      if (attribute !== 'LIB-NAME' && attribute !== 'LIB-VER') {
        return session.reply(
          writeError,
          `ERR unknown attribute '${(args[2] as string).slice(0, 64)}' (LIB-NAME or LIB-VER)`,
        )
      }
      if (!PRINTABLE.test(value))
        return session.reply(writeError, `ERR ${attribute} is printable ASCII with no spaces`)
      const state = clientOf(session)
      if (attribute === 'LIB-NAME') state.libName = value
      else state.libVer = value
      session.reply(writeSimple, 'OK')
    },
  },
  INFO: {
    usage: 'INFO',
    args: [0, 0],
    run: (session) => session.reply(writeValue, describe(clientOf(session), session.protocol)),
  },
})

/** The connection as one line of `field=value` pairs, as `CLIENT INFO` gives it. */
function describe(state: ClientState, protocol: 2 | 3): string {
  return `id=${state.id} name=${state.name} db=0 resp=${protocol} lib-name=${state.libName} lib-ver=${state.libVer}\n`
}

/** The handshake commands of the table. */
export const handshakeCommands: readonly Command[] = [
  { name: 'HELLO', binaryFrom: Number.POSITIVE_INFINITY, run: hello, beforeAuth: true },
  { name: 'CLIENT', binaryFrom: Number.POSITIVE_INFINITY, run: client },
  { name: 'SELECT', binaryFrom: Number.POSITIVE_INFINITY, run: select },
  { name: 'ECHO', binaryFrom: 1, run: echo },
]
