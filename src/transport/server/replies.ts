/**
 * The reply writers that several command families share, and how an error travels as text.
 *
 * @module
 */
import type { StoredValue } from '../../codec.ts'
import { BurrowError } from '../../errors.ts'
import type { CommandArgs } from '../resp/command-reader.ts'
import type { Write, WriteTagged } from './command.ts'

/** `+text`. */
export const writeSimple: Write<string> = (writer, text) => {
  writer.simple(text)
}

/** `-text`, e.g. `-ERR usage: …` or `-BURROW_ERR_LOADER …`. */
export const writeError: Write<string> = (writer, text) => {
  writer.error(text)
}

/** A value as a bulk string (a string as its UTF-8 bytes), or nil for not found. */
export const writeValue: Write<StoredValue | undefined> = (writer, value) => {
  if (value === undefined) writer.nil()
  else writer.bulk(value)
}

/** `[id, +e, -text]`. */
export const writeTaggedError: WriteTagged<string> = (writer, id, text) => {
  writer.arrayHeader(3).integer(id).simple('e').error(text)
}

/** The error text of a failed command: `CODE message` for a BurrowError, nothing internal otherwise. */
export function errorText(err: unknown): string {
  return err instanceof BurrowError ? `${err.code} ${err.message}` : 'ERR internal error'
}

/** The error text of a command naming a namespace this node does not have. */
export const UNKNOWN_NAMESPACE = 'BURROW_ERR_UNKNOWN_NAMESPACE no such namespace'

/** A request id: decimal digits only (Number() alone would take ' 7', '0x7' or '1e3'). */
export function parseId(arg: CommandArgs[number] | undefined): number | undefined {
  if (typeof arg === 'number') return arg // read as digits already (CommandReader)
  if (typeof arg !== 'string') return undefined
  const length = arg.length
  if (length === 0 || length > 15) return undefined
  let id = 0
  for (let i = 0; i < length; i++) {
    const digit = arg.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return undefined
    id = id * 10 + digit
  }
  return id
}

/** An array of bulk strings, e.g. `COMMAND LIST`'s names. */
export const writeBulks: Write<readonly string[]> = (writer, items) => {
  writer.arrayHeader(items.length)
  for (const item of items) writer.bulk(item)
}
