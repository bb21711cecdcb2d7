/**
 * Key checks of one namespace: a key is a non-empty, well-formed string of at most `maxKeyBytes`
 * bytes of UTF-8. Anything else is a `BURROW_ERR_BAD_KEY`, never a crash or another key.
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

  /** The error for a key that is not a non-empty string within `maxKeyBytes`, or `undefined`. */
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
    if (key.length <= this.fastChars) return undefined
    const bytes = Buffer.byteLength(key, 'utf8')
    if (bytes <= this.#maxKeyBytes) return undefined
    return new BurrowError(
      'BURROW_ERR_BAD_KEY',
      `a key may be at most ${this.#maxKeyBytes} bytes of UTF-8 (maxKeyBytes), received ${bytes} bytes`,
      { namespace: this.#namespace, key: key.slice(0, 64) },
    )
  }

  /**
   * Throws for any bad key, a lone surrogate included (it would reach the owner, or a data
   * source, as U+FFFD: another key). What keys given to the public API go through; keys from the
   * wire are decoded from UTF-8, so {@link bad} is enough for them.
   */
  check(key: unknown): void {
    const bad = this.bad(key)
    if (bad !== undefined) throw bad
    if (!(key as string).isWellFormed()) {
      throw new BurrowError(
        'BURROW_ERR_BAD_KEY',
        'a key must be well-formed UTF-16 (it has a lone surrogate)',
        {
          namespace: this.#namespace,
        },
      )
    }
  }
}
