/**
 * The commands that keep a session going: `PING`, `BURROW.STATS`, `BURROW.RING` and `QUIT`.
 *
 * @module
 */
import type { CommandArgs } from '../../resp/command-reader.ts'
import type { RingView } from '../../served.ts'
import type { Command, Session, Write } from '../command.ts'
import { writeSimple, writeValue } from '../replies.ts'

/** `PING [message]` → `+PONG`, or the message as a bulk string. */
function ping(session: Session, args: CommandArgs): void {
  if (args.length > 1) session.reply(writeValue, args[1] as string)
  else session.reply(writeSimple, 'PONG')
}

/** `BURROW.STATS` → `node.stats()` as a JSON bulk string. */
function stats(session: Session): void {
  session.reply(writeValue, JSON.stringify(session.stats()))
}

/**
 * `BURROW.RING` → field names and values in turn (RESP2's way to send a map), so a client can
 * route each key to its owner: `[hash, crc32|custom, replicas, n, self, id, peers, [id, …], ring,
 * groupcache]`, or for a maglev ring `[hash, …, table, m, self, …, peers, […], ring, maglev]`.
 * The first eight elements of a groupcache ring's reply are those of burrow 0.1.
 */
function ring(session: Session): void {
  session.reply(writeRing, session.ring())
}

const writeRing: Write<RingView> = (writer, view) => {
  writer.arrayHeader(10).bulk('hash').bulk(view.hash)
  if (view.ring === 'groupcache') writer.bulk('replicas').integer(view.replicas)
  else writer.bulk('table').integer(view.table)
  writer.bulk('self').bulk(view.self).bulk('peers').arrayHeader(view.peers.length)
  for (const peer of view.peers) writer.bulk(peer)
  writer.bulk('ring').bulk(view.ring)
}

/** The admin commands of the table. */
export const adminCommands: readonly Command[] = [
  { name: 'PING', binaryFrom: Number.POSITIVE_INFINITY, run: ping },
  { name: 'BURROW.STATS', binaryFrom: Number.POSITIVE_INFINITY, run: stats },
  { name: 'BURROW.RING', binaryFrom: Number.POSITIVE_INFINITY, run: ring },
  { name: 'QUIT', binaryFrom: Number.POSITIVE_INFINITY, run: (session) => session.quit(), beforeAuth: true },
]
