/**
 * The path of golang/groupcache's route, `/_groupcache/{group}/{key}`, as burrow writes it (a
 * client) and reads it (a server). Facts about Go's side: its client escapes each segment with
 * `url.QueryEscape` (a space becomes `+`, every byte but `A-Z a-z 0-9 - _ . ~` becomes `%XX`); its
 * server decodes the path as a path, so it leaves `+` as `+`.
 *
 * - Read (server): `+` is a space, then `%XX` are decoded, once, as UTF-8. A Go client never sends
 *   a literal `+` (it writes `%2B`), so `+` can only be its space; a Go server would load `a+b`
 *   for a Go client's `a b` (an upstream bug), burrow loads `a b`.
 * - Write (client): QueryEscape's bytes, except a space as `%20`: both Go's server and burrow's
 *   read `%20` as a space, while a Go owner would read QueryEscape's `+` as a `+` and answer with
 *   the value of another key.
 *
 * @module
 */

/** The route's prefix: golang/groupcache's default base path. */
export const GROUPCACHE_PREFIX = '/_groupcache/'

/** Characters `encodeURIComponent` keeps that QueryEscape writes as `%XX`. */
const KEPT_BY_JS = /[!'()*]/g

/**
 * The path that asks for `key` of `group`. Throws `URIError` for a string with a lone surrogate
 * (no UTF-8 spelling).
 *
 * @example
 * groupcachePath('test', 'a b/ü') // '/_groupcache/test/a%20b%2F%C3%BC'
 */
export function groupcachePath(group: string, key: string): string {
  return `${GROUPCACHE_PREFIX}${escapeSegment(group)}/${escapeSegment(key)}`
}

/**
 * The group and key a request's path (`req.url`, starting with the prefix) asks for; a query is
 * ignored, as Go ignores it. `undefined` when the path has no `/` after the group, or a segment
 * is not valid percent-encoded UTF-8.
 */
export function parseGroupcachePath(url: string): { group: string; key: string } | undefined {
  const query = url.indexOf('?')
  const path = url.slice(GROUPCACHE_PREFIX.length, query === -1 ? undefined : query)
  const slash = path.indexOf('/')
  if (slash === -1) return undefined
  try {
    return { group: unescapeSegment(path.slice(0, slash)), key: unescapeSegment(path.slice(slash + 1)) }
  } catch {
    return undefined
  }
}

function escapeSegment(text: string): string {
  return encodeURIComponent(text).replace(KEPT_BY_JS, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** QueryUnescape: `+` is a space, `%XX` a byte; the bytes must be UTF-8 (else URIError). */
function unescapeSegment(segment: string): string {
  return decodeURIComponent(segment.replaceAll('+', ' '))
}
