/**
 * Key checks of one namespace: a key is a non-empty, well-formed string of at most `maxKeyBytes`
 * bytes of UTF-8. Anything else is a `BURROW_ERR_BAD_KEY`, never a crash or another key. Keys
 * from the wire whose bytes are not UTF-8 arrive with lone surrogates in their place (the RESP
 * reader's `textOf`), so they are refused here too, never read as U+FFFD.
 *
 * @module
 */
import { BurrowError, describe } from '../errors.ts'

/** Checks the keys of namespace `namespace`. */
export class Keys {
  /**
   * Keys of at most this many UTF-16 code units are short enough without counting their bytes:
   * a code unit is at most 3 bytes of UTF-8. Read on the hit path, so kept as a plain field.
   */
  readonly fastChars: number
  #namespace: string
  #maxKeyBytes: number

  constructor(namespace: string, maxKeyBytes: number) {
    this.#namespace = namespace
    this.#maxKeyBytes = maxKeyBytes
    this.fastChars = Math.floor(maxKeyBytes / 3)
  }

  /**
   * The error for a key that is not a non-empty, well-formed string within `maxKeyBytes`, or
   * `undefined`.
   */
  bad(key: unknown): BurrowError | undefined {
    if (typeof key !== 'string' || key.length === 0) {
      return new BurrowError(
        'BURROW_ERR_BAD_KEY',
        `a key must be a non-empty string, received ${describe(key)}`,
        {
          namespace: this.#namespace,
        },
      )
    }
    // Free for keys of Latin-1 text, which V8 knows to be well-formed without looking.
    if (!key.isWellFormed()) {
      return new BurrowError('BURROW_ERR_BAD_KEY', NOT_TEXT, { namespace: this.#namespace })
    }
    if (key.length <= this.fastChars) return undefined
    const bytes = Buffer.byteLength(key, 'utf8')
    if (bytes <= this.#maxKeyBytes) return undefined
    return new BurrowError(
      'BURROW_ERR_BAD_KEY',
      `a key may be at most ${this.#maxKeyBytes} bytes of UTF-8 (maxKeyBytes), received ${bytes} bytes`,
      { namespace: this.#namespace, key: key.slice(0, 64) },
    )
  }

  /** Throws {@link bad}'s error, if any. */
  check(key: unknown): void {
    const bad = this.bad(key)
    if (bad !== undefined) throw bad
  }
}

/**
 * A key with a lone surrogate would reach the owner (or a data source) as U+FFFD: another key.
 * Over RESP, that is a key whose bytes are not UTF-8.
 */
const NOT_TEXT =
  'a key must be valid UTF-8 text: its bytes are not UTF-8 (over RESP), or it has a lone surrogate (in JavaScript)'
