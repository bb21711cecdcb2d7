/**
 * What a cache slot holds: a stored value, or the mark of a cached "not found" answer
 * (`notFoundTtl`). A leaf module, so the store and the namespace can share it.
 *
 * @module
 */
import type { StoredValue } from '../codec.ts'

/**
 * The mark of a cached "not found" (the loader, here or on the owner, returned `undefined`) where
 * the store takes or gives one (`set`, `stale`). Inside, it is an entry without a value, so that
 * the hit path never has to test for it (see `Store.get`).
 */
export const NOT_FOUND: unique symbol = Symbol('burrow.notFound')

/** A cached value, or {@link NOT_FOUND}. */
export type Cached = StoredValue | typeof NOT_FOUND

/** "Never expires", as a deadline. */
export const NEVER = 0
