/**
 * The bytes of RESP2's syntax and the limits shared by its reader and writer.
 *
 * @module
 */

/** Line feed, the end of every RESP line (after {@link CR}). */
export const LF = 0x0a
/** Carriage return, the first byte of every RESP line ending. */
export const CR = 0x0d
/** Separates the words of an inline command, as a space does. */
export const TAB = 0x09
/** Separates the words of an inline command. */
export const SPACE = 0x20
/** `$`: a bulk string. */
export const DOLLAR = 0x24
/** `*`: an array. */
export const STAR = 0x2a
/** `+`: a simple string. */
export const PLUS = 0x2b
/** `-`: an error reply, or the sign of a negative integer. */
export const MINUS = 0x2d
/** `:`: an integer. */
export const COLON = 0x3a
/** The digit `0`. */
export const ZERO = 0x30
/** The digit `9`. */
export const NINE = 0x39
/** The digit `1`, as in the nil bulk string `$-1`. */
export const ONE = 0x31
/** `%`: a map (RESP3, written only to a connection that asked for it with `HELLO 3`). */
export const PERCENT = 0x25
/** `_`: null (RESP3's nil). */
export const UNDERSCORE = 0x5f

/** The longest header (or inline) line, without its line ending, as Redis bounds inline commands. */
export const MAX_LINE_BYTES = 64 * 1024

/** The default largest frame: one top-level value, headers included. */
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024
