/**
 * Real golang/groupcache nodes for the tests (bench/lib/go-node.mjs, shared with the groupcache
 * benchmark), and how Go's client escapes a key.
 */
export { GoNode, goNodeBinary, httpGet } from '../../bench/lib/go-node.mjs'

/**
 * `key` escaped as Go's client escapes it (`url.QueryEscape`): a space as `+`, every byte but
 * `A-Z a-z 0-9 - _ . ~` as `%XX`.
 */
export function queryEscape(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')
}
