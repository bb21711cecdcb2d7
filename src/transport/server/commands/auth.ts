/**
 * Authentication: `AUTH` for people and Redis clients (`redis-cli -a`, ioredis' `password`), and
 * `BURROW.AUTH` for peers. On a node with `auth`, a connection runs nothing else (but `QUIT`)
 * until one of them succeeds.
 *
 * @module
 */
import type { CommandArgs } from '../../resp/command-reader.ts'
import type { Command, Session, WriteTagged } from '../command.ts'
import { parseId, writeError, writeSimple, writeTaggedError } from '../replies.ts'

/** What Redis answers to `AUTH` when it has no password, word for word: clients recognise it. */
export const NO_PASSWORD =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'
/** What Redis answers to a wrong password, word for word. */
export const WRONG_PASSWORD = 'WRONGPASS invalid username-password pair or user is disabled.'

/** `AUTH [username] secret` → `+OK`, or `-WRONGPASS …`. The username, when given, must be `default`. */
function auth(session: Session, args: CommandArgs): void {
  if (args.length !== 2 && args.length !== 3) {
    return session.reply(writeError, "ERR wrong number of arguments for 'auth' command")
  }
  const secret = args[args.length - 1] as Uint8Array
  // burrow has one user, Redis' `default`; a user name is no secret, so it is checked first.
  const user = args.length === 3 ? Buffer.from(args[1] as Uint8Array).toString('utf8') : 'default'
  const ok = user === 'default' ? session.authenticate(secret) : false
  if (ok === undefined) return session.reply(writeError, NO_PASSWORD)
  session.reply(ok ? writeSimple : writeError, ok ? 'OK' : WRONG_PASSWORD)
}

/** `BURROW.AUTH id secret` → `[id, +k, $-1]`, or `[id, +e, -BURROW_ERR_AUTH …]`. */
function peerAuth(session: Session, args: CommandArgs): void {
  const id = args.length === 3 ? parseId(Buffer.from(args[1] as Uint8Array).toString('latin1')) : undefined
  if (id === undefined) return session.reply(writeError, 'ERR usage: BURROW.AUTH id secret')
  const ok = session.authenticate(args[2] as Uint8Array)
  if (ok === false) return session.tagged(id, writeTaggedError, 'BURROW_ERR_AUTH the secret was refused')
  session.tagged(id, writeDone, undefined)
}

const writeDone: WriteTagged<undefined> = (writer, id) => {
  writer.arrayHeader(3).integer(id).simple('k').nil()
}

/** The authentication commands of the table. Their arguments stay bytes: a secret is compared as sent. */
export const authCommands: readonly Command[] = [
  { name: 'AUTH', binaryFrom: 1, run: auth, beforeAuth: true },
  { name: 'BURROW.AUTH', binaryFrom: 1, run: peerAuth, beforeAuth: true, tagged: true },
]
