/**
 * Shared secrets: what a node accepts from clients and peers (`auth: { secret }`), and what it
 * presents to its peers. Compared in constant time, through their SHA-256 digests so that a
 * secret's length does not show either. Never logged, never in stats or error messages.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { createHash, timingSafeEqual } from 'node:crypto'
import { BurrowError, describe } from '../errors.ts'

/** Options of authentication (`new Burrow({ auth })`). */
export interface AuthOptions {
  /**
   * The shared secret, or several during a rotation: every one is accepted, and the first is the
   * one this node presents to its peers. To rotate without downtime, give every node
   * `[old, new]`, then `[new, old]`, then `[new]`.
   */
  secret: string | readonly string[]
}

/** The secrets a node accepts; the first is the one it presents. */
export class Secrets {
  readonly #digests: Buffer[]
  readonly #current: string

  constructor(secrets: readonly string[]) {
    this.#current = secrets[0]!
    this.#digests = secrets.map(digest)
  }

  /** The secret this node presents to its peers. */
  get current(): string {
    return this.#current
  }

  /** Whether `candidate` is one of the secrets; takes the same time whichever it matches, if any. */
  matches(candidate: string | Uint8Array): boolean {
    const given = digest(candidate)
    let found = false
    for (const known of this.#digests) found = timingSafeEqual(known, given) || found
    return found
  }

  /** Keeps the secrets out of `console.log(node)` and JSON. */
  toJSON(): string {
    return '[secrets]'
  }
}

function digest(secret: string | Uint8Array): Buffer {
  return createHash('sha256').update(secret).digest()
}

/**
 * The secrets `auth` asks for, checked; `undefined` without `auth`. A message names what is wrong
 * with a secret, never the secret itself.
 */
export function secretsOption(value: unknown): Secrets | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const received = typeof value === 'string' ? 'a string (not shown: it may be a secret)' : describe(value)
    throw bad(`option auth must be an object { secret }, received ${received}`)
  }
  for (const name of Object.keys(value)) {
    if (name !== 'secret') throw bad(`unknown option auth.${name} (known: secret)`)
  }
  const secret: unknown = (value as AuthOptions).secret
  const list: unknown[] = typeof secret === 'string' ? [secret] : Array.isArray(secret) ? secret : []
  if (list.length === 0) {
    throw bad('option auth.secret must be a non-empty string or a non-empty array of them')
  }
  list.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0 || Buffer.byteLength(s) > MAX_SECRET_BYTES) {
      const where = typeof secret === 'string' ? 'auth.secret' : `auth.secret[${i}]`
      throw bad(`option ${where} must be a string of 1 to ${MAX_SECRET_BYTES} bytes (its value is not shown)`)
    }
    if (/[\r\n\0]/.test(s)) {
      throw bad('option auth.secret must not contain CR, LF or NUL (its value is not shown)')
    }
  })
  return new Secrets(list as string[])
}

/** The longest secret accepted: it travels in one command and one header. */
const MAX_SECRET_BYTES = 1024

function bad(message: string): BurrowError {
  return new BurrowError('BURROW_ERR_BAD_OPTION', message)
}
