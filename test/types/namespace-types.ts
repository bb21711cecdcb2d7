/**
 * Type tests: this file is compiled by `npm run typecheck` and never run. Each `@ts-expect-error`
 * must be an error, or the compile fails; the other lines must compile.
 */
import { Burrow, type Codec } from '../../src/index.ts'

interface User {
  id: string
  name: string
}

const node = new Burrow()

// Strings and bytes need no codec; their kind is kept.
const text = node.namespace('text', { load: async (key) => `value of ${key}` })
export const s: Promise<string | undefined> = text.get('a')
const bytes = node.namespace('bytes', { load: () => new Uint8Array(1) })
export const b: Promise<Uint8Array | undefined> = bytes.get('a')
node.namespace('stub', { load: () => undefined })

// Any other value type needs a codec ...
// @ts-expect-error a namespace of objects without a codec does not compile
node.namespace<User>('users', { load: async (id) => ({ id, name: 'Ada' }) })
// @ts-expect-error nor when the type is inferred from the loader
node.namespace('inferred', { load: async (id: string) => ({ id, name: 'Ada' }) })

// ... and compiles with one.
const users = node.namespace<User>('users-json', { codec: 'json', load: async (id) => ({ id, name: 'Ada' }) })
export const u: Promise<User | undefined> = users.get('1')
export const w = users.set('1', { id: '1', name: 'Grace' }, { ttl: 1000 })
// @ts-expect-error set takes the namespace's value type
users.set('1', 'not a user')

const dates: Codec<Date> = {
  encode: (d) => d.toISOString(),
  decode: (s) => new Date(typeof s === 'string' ? s : new TextDecoder().decode(s)),
}
node.namespace<Date>('dates', { codec: dates, load: () => new Date(0), ttl: 60_000, staleTtl: 5_000 })

// The loader's context carries the TTL of what it returns.
node.namespace('ctx', {
  load: (key, ctx) => {
    ctx.ttl = 5_000
    return ctx.signal.aborted ? undefined : key
  },
})

// protocol: 'groupcache': what a Go peer's value becomes must match the loader's kind.
const gc = new Burrow({ protocol: 'groupcache' })
export const gs: Promise<string | undefined> = gc
  .namespace('go-text', { groupcacheValues: 'string', load: () => 'x' })
  .get('a')
gc.namespace('go-bytes', { groupcacheValues: 'bytes', load: async () => new Uint8Array(1) })
// @ts-expect-error a namespace of strings cannot take Go values as bytes
gc.namespace('go-wrong', { groupcacheValues: 'bytes', load: () => 'x' })
// @ts-expect-error nor one of bytes as strings
gc.namespace('go-wrong-bytes', { groupcacheValues: 'string', load: () => new Uint8Array(1) })
gc.namespace<User>('go-json', {
  codec: 'json',
  groupcacheValues: 'string',
  load: async (id) => ({ id, name: 'Ada' }),
})
// @ts-expect-error protocol is 'resp' or 'groupcache'
new Burrow({ protocol: 'http' })
