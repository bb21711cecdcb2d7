/**
 * The coded errors a peer request fails with, each naming the peer, namespace and key.
 *
 * @module
 */
import { BurrowError, type ErrorCode, isErrorCode } from '../../errors.ts'

/** What an error says about the request it fails. */
export interface RequestContext {
  peer: string
  namespace: string
  key: string
}

/** `BURROW_ERR_PEER_UNAVAILABLE`: the peer could not be reached, or its connection closed. */
export function unavailable(
  peer: string,
  namespace: string,
  key: string,
  why: string,
  cause?: unknown,
): BurrowError {
  return new BurrowError('BURROW_ERR_PEER_UNAVAILABLE', `peer ${peer} is unavailable: ${why}`, {
    peer,
    namespace,
    key,
    cause,
  })
}

/** `BURROW_ERR_PEER_TIMEOUT`: the request ran past its deadline. */
export function timedOut(request: RequestContext): BurrowError {
  return new BurrowError(
    'BURROW_ERR_PEER_TIMEOUT',
    `peer ${request.peer} did not answer within the deadline`,
    request,
  )
}

/** `BURROW_ERR_CLOSED`: the node closed. */
export function closed(peer: string, namespace: string, key: string): BurrowError {
  return new BurrowError('BURROW_ERR_CLOSED', 'the node is closed', { peer, namespace, key })
}

/** `BURROW_ERR_PROTOCOL`: the peer sent `what`. */
export function protocol(request: RequestContext, what: string): BurrowError {
  return new BurrowError('BURROW_ERR_PROTOCOL', `peer ${request.peer} sent ${what}`, request)
}

/** An error reply, `CODE message`, as a BurrowError with the owner's code (`BURROW_ERR_PROTOCOL` for a code unknown here). */
export function remoteError(request: RequestContext, text: string): BurrowError {
  const space = text.indexOf(' ')
  const word = space === -1 ? text : text.slice(0, space)
  const code: ErrorCode = isErrorCode(word) ? word : 'BURROW_ERR_PROTOCOL'
  const message = `peer ${request.peer} answered: ${space === -1 ? text : text.slice(space + 1)}`
  return new BurrowError(code, message, request)
}
