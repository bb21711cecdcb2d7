/**
 * The server's command table: every command by its upper-case name.
 *
 * @module
 */
import type { Command } from './command.ts'
import { adminCommands } from './commands/admin.ts'
import { authCommands } from './commands/auth.ts'
import { clientCommands } from './commands/client.ts'
import { handshakeCommands } from './commands/handshake.ts'
import { commandCommand, introspectionCommands } from './commands/introspection.ts'
import { peerCommands } from './commands/peer.ts'

const table = new Map<string, Command>()
for (const command of [
  ...peerCommands,
  ...clientCommands,
  ...adminCommands,
  ...handshakeCommands,
  ...introspectionCommands,
  ...authCommands,
]) {
  table.set(command.name, command)
}
table.set('COMMAND', commandCommand([...table.keys(), 'COMMAND']))

/**
 * The command named `name`, in any case, or `undefined`. Names sent in upper case, as burrow's
 * peers send them, are found without `toUpperCase` (which costs more than the lookup itself).
 */
export function lookupCommand(name: string): Command | undefined {
  return table.get(name) ?? table.get(name.toUpperCase())
}
