/**
 * One short RESP conversation with a running node, for `burrow get`, `stats` and `ring`: dial
 * (TCP, or TLS for an `https://` node), `AUTH` when a secret is given, one command, its reply,
 * done — all under one deadline. Every failure becomes a {@link CliError} that names the node and
 * says what to check.
 *
 * RESP rather than the HTTP route because `BURROW.STATS` and `BURROW.RING` exist only there, so
 * the three commands share one connection path, one auth path (`AUTH`) and one TLS path.
 *
 * @module
 */
import type { Buffer } from 'node:buffer'
import { isIP, connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { peerAddress } from '../membership/peer-id.ts'
import { RespError, RespParser, type RespValue } from '../transport/resp/reader.ts'
import { RespWriter } from '../transport/resp/writer.ts'
import { CliError, ExitCodes } from './cli-error.ts'

/** Where and how to ask. */
export interface NodeCall {
  /** The node's canonical URL (`http://host:port` or `https://host:port`). */
  node: string
  /** The deadline of the whole conversation, connecting included, in ms. */
  timeoutMs: number
  /** The secret to present (`AUTH`), if the node requires one. */
  secret?: string | undefined
  /** node:tls options for an `https://` node: the CA to verify it with, a certificate for mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }
  /** Where the secret came from, for messages (`$BURROW_SECRET`). */
  secretSource?: string
}

/** The largest reply taken: far above any node's frame limit, and memory grows only as bytes arrive. */
const MAX_REPLY_BYTES = 1024 * 1024 * 1024

/**
 * Sends `command` (its arguments as bulk strings) to the node and resolves its reply: a value, or
 * a {@link RespError} the node answered with (the caller decides what that means). Rejects with a
 * {@link CliError} (exit code 3) when no reply could be had.
 *
 * @example
 * const reply = await ask({ node: 'http://127.0.0.1:5001', timeoutMs: 5000 }, ['BURROW.RING'])
 */
export function ask(call: NodeCall, command: readonly string[]): Promise<RespValue> {
  const { host, port, tls: secure } = peerAddress(call.node)
  const signal = AbortSignal.timeout(call.timeoutMs)
  return new Promise((resolve, reject) => {
    let connected = false
    let settled = false
    const replies: RespValue[] = []
    const expected = call.secret === undefined ? 1 : 2
    const socket: Socket = secure
      ? tlsConnect({ ...call.tls, host, port, servername: isIP(host) === 0 ? host : undefined })
      : netConnect({ host, port })

    const finish = (err: CliError | undefined, value?: RespValue): void => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onTimeout)
      socket.destroy()
      if (err === undefined) resolve(value as RespValue)
      else reject(err)
    }
    const onTimeout = (): void =>
      finish(
        unreachable(
          call,
          connected
            ? `it did not answer within ${call.timeoutMs} ms (--timeout)`
            : `could not connect within ${call.timeoutMs} ms (--timeout)`,
        ),
      )
    signal.addEventListener('abort', onTimeout, { once: true })

    socket.once(secure ? 'secureConnect' : 'connect', () => {
      connected = true
      const writer = new RespWriter()
      if (call.secret !== undefined) writer.arrayHeader(2).bulk('AUTH').bulk(call.secret)
      writer.arrayHeader(command.length)
      for (const arg of command) writer.bulk(arg)
      socket.write(writer.take())
    })
    const parser = new RespParser({ maxFrameBytes: MAX_REPLY_BYTES })
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.feed(chunk, (value) => replies.push(value))
      } catch {
        return finish(unreachable(call, "what it answered is not RESP: is it a burrow node's port?"))
      }
      if (replies.length < expected) return
      // A node without auth answers AUTH with an error and runs the command all the same.
      if (expected === 2 && replies[0] instanceof RespError && !replies[0].message.startsWith('ERR AUTH')) {
        return finish(
          unreachable(call, `it refused the secret from ${call.secretSource ?? '$BURROW_SECRET'}`),
        )
      }
      const reply = replies[expected - 1] as RespValue
      if (reply instanceof RespError && reply.message.startsWith('NOAUTH')) {
        return finish(
          unreachable(
            call,
            'it requires a secret: put it in $BURROW_SECRET, or name the variable that holds it with --auth-secret-env',
          ),
        )
      }
      finish(undefined, reply)
    })
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(unreachable(call, socketProblem(err, secure, connected))),
    )
    // A plain node answers every command, so a close with no reply at all hints at TLS.
    socket.on('close', () =>
      finish(
        unreachable(
          call,
          secure || replies.length > 0
            ? 'it closed the connection before answering'
            : 'it closed the connection without answering (a TLS node? use https://)',
        ),
      ),
    )
  })
}

function unreachable(call: NodeCall, why: string): CliError {
  return new CliError(ExitCodes.UNREACHABLE, `cannot ask the node at ${call.node}: ${why}`)
}

/** A socket error in words: what failed and what to check. */
function socketProblem(err: NodeJS.ErrnoException, secure: boolean, connected: boolean): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is a node running there, on that port?)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `its host name does not resolve (${err.code})`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to its host (${err.code})`
    case 'ECONNRESET':
    case 'EPIPE':
      if (secure && !connected)
        return 'it reset the connection during the TLS handshake (a plain node? use http://)'
      return secure ? 'it reset the connection' : 'it reset the connection (a TLS node? use https://)'
  }
  if (secure && !connected) {
    // OpenSSL's errors carry their reason apart from a message full of source locations.
    const reason = (err as { reason?: string }).reason ?? err.message
    return /wrong version number|packet length too long|unknown protocol/i.test(reason)
      ? `the TLS handshake failed: ${reason} (a plain node? use http://)`
      : `the TLS handshake failed: ${reason} (--tls-ca names the CA that signed the node's certificate)`
  }
  return err.message
}
