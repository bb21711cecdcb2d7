/**
 * A mutation fuzzer for a node's one port. Two targets: the RESP command reader in process (fast,
 * so most cases go there), and real connections to a running node, where the port first sniffs
 * HTTP from RESP. Inputs (bench/lib/fuzz-inputs.mjs) are seeds (RESP commands, inline commands,
 * HTTP requests) mutated and cut at random points, and plain random bytes; everything comes from
 * one seeded generator, so a run is repeated by its seed.
 *
 * What must hold: the reader throws nothing but a BurrowError with code BURROW_ERR_PROTOCOL or
 * BURROW_ERR_FRAME_TOO_LARGE and reads the same commands however the stream is cut; the node
 * closes every connection once the client has sent its last byte (no hang), answers only with
 * replies that parse (RESP) or with HTTP responses (HTTP), never sends one connection what another
 * sent (no cross-talk), and answers right afterwards ({@link checkNodes}).
 *
 * Used by `npm run fuzz` (bench/fuzz.mjs) and, in a short run, by test/fuzz.test.ts, which passes
 * the classes under test in so that it runs on the sources and the script on the build.
 *
 * @module
 */
import { Buffer } from 'node:buffer'
import { connect } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { cutStream, fuzzStream, pick, resp } from './fuzz-inputs.mjs'
import { seededRandom } from './random.mjs'

/** The limits the reader is fuzzed with: small ones reach the limit paths often. */
const FRAME_LIMITS = [64, 256, 4096, 1 << 20, 32 * 1024 * 1024]
const REFUSALS = new Set(['BURROW_ERR_PROTOCOL', 'BURROW_ERR_FRAME_TOO_LARGE'])
/** A case (in process) or a connection (to a node) slower than this counts as a hang. */
const HANG_MS = { reader: 2_000, connection: 10_000 }

/**
 * Fuzzes the RESP command reader: `cases` inputs, or fewer if `seconds` run out.
 *
 * @param {{ CommandReader: any, BurrowError: any, lookup: (name: string) => any }} impl
 * @param {{ cases: number, seconds: number, seed: number }} options
 */
export function fuzzReader(impl, { cases, seconds, seed }) {
  const random = seededRandom(seed)
  const stats = {
    cases: 0,
    commands: 0,
    /** @type {Record<string, number>} */
    refused: {},
    validStreams: 0,
    maxCaseMs: 0,
    /** @type {{ what: string, maxFrameBytes: number, bytes: string }[]} */
    failures: [],
  }
  const deadline = performance.now() + seconds * 1000
  const fail = (what, bytes, maxFrameBytes) => {
    if (stats.failures.length < 20)
      stats.failures.push({ what, maxFrameBytes, bytes: bytes.toString('base64') })
  }
  while (stats.cases < cases && performance.now() < deadline) {
    stats.cases++
    const { bytes, valid } = fuzzStream(random, `Q${stats.cases}Q`)
    const maxFrameBytes = valid ? FRAME_LIMITS.at(-1) : pick(random, FRAME_LIMITS)
    const pieces = cutStream(bytes, random)
    const started = performance.now()
    const whole = readAll(impl, [bytes], maxFrameBytes)
    const cut = readAll(impl, pieces, maxFrameBytes)
    const ms = performance.now() - started
    stats.maxCaseMs = Math.max(stats.maxCaseMs, ms)
    if (ms > HANG_MS.reader) fail(`took ${ms.toFixed(0)} ms`, bytes, maxFrameBytes)
    stats.commands += whole.commands.length
    if (valid) stats.validStreams++
    for (const outcome of [whole, cut]) {
      if (outcome.problem !== undefined) fail(outcome.problem, bytes, maxFrameBytes)
    }
    if (whole.code !== undefined) stats.refused[whole.code] = (stats.refused[whole.code] ?? 0) + 1
    if (valid && whole.code !== undefined)
      fail(`a stream of seeds was refused: ${whole.code}`, bytes, maxFrameBytes)
    if (whole.code === undefined) {
      if (cut.code !== undefined) fail(`refused only when cut: ${cut.code}`, bytes, maxFrameBytes)
      else if (cut.commands.join('\n') !== whole.commands.join('\n'))
        fail('other commands when cut', bytes, maxFrameBytes)
    } else {
      if (cut.code === undefined) fail(`refused only when whole: ${whole.code}`, bytes, maxFrameBytes)
      const prefix = whole.commands.slice(0, cut.commands.length)
      if (cut.commands.join('\n') !== prefix.join('\n'))
        fail('other commands before the refusal when cut', bytes, maxFrameBytes)
    }
  }
  return stats
}

/**
 * Feeds `pieces` to a new reader: the commands it read (as comparable text), the code it refused
 * with, and the first thing that broke a rule.
 */
function readAll(impl, pieces, maxFrameBytes) {
  const commands = []
  let problem
  const reader = new impl.CommandReader({
    maxFrameBytes,
    lookup: impl.lookup,
    onCommand: (command, args) => {
      const binaryFrom = command?.binaryFrom ?? Number.POSITIVE_INFINITY
      args.forEach((arg, i) => {
        // A tagged command's id may come as the number its digits write (no leading zero).
        const id = i === 1 && command?.tagged === true && typeof arg === 'number'
        if (id && !(Number.isSafeInteger(arg) && arg >= 0))
          problem ??= `argument 1 of ${args[0]} is not an id`
        const text = typeof arg === 'string' || id
        if (text !== i < binaryFrom || (!text && !Buffer.isBuffer(arg)))
          problem ??= `argument ${i} of ${args[0]} has the wrong type`
      })
      commands.push(
        args
          .map((arg) =>
            typeof arg === 'object' ? `b:${arg.toString('hex')}` : `s:${JSON.stringify(String(arg))}`,
          )
          .join(' '),
      )
    },
    onInvalid: () => commands.push('invalid'),
  })
  let code
  let thrown
  for (const piece of pieces) {
    try {
      reader.feed(piece)
    } catch (err) {
      thrown = err
      break
    }
  }
  if (thrown !== undefined) {
    if (!(thrown instanceof impl.BurrowError) || !REFUSALS.has(thrown.code)) {
      problem ??= `threw ${thrown?.name}: ${thrown?.message}`
    } else {
      code = thrown.code
      // A failed reader stays failed, with the same error.
      let again
      try {
        reader.feed(Buffer.from('PING\r\n'))
      } catch (err) {
        again = err
      }
      if (again !== thrown) problem ??= 'a failed reader did not throw the same error again'
    }
  }
  return { commands, code, problem }
}

/** What the port decides from the first bytes (bench-side copy of the node's rule, as the oracle). */
const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/
const SNIFF_BYTES = 8192

function sniffed(bytes) {
  if (bytes.length === 0) return 'none'
  if (bytes[0] === 0x2a) return 'resp'
  const eol = bytes.indexOf(0x0a)
  if (eol === -1 || eol > SNIFF_BYTES) return 'none'
  return HTTP_REQUEST_LINE.test(bytes.toString('latin1', 0, eol)) ? 'http' : 'resp'
}

/**
 * Fuzzes a node's port over real connections: `connections` of them, `concurrency` at a time,
 * each sending one fuzz input in pieces (one per turn of the event loop), then ending its side.
 *
 * @param {{ RespParser: any }} impl
 * @param {{ targets: string[], connections: number, seconds: number, seed: number, concurrency?: number }} options
 */
export async function fuzzPort(impl, { targets, connections, seconds, seed, concurrency = 16 }) {
  const random = seededRandom(seed)
  const stats = {
    connections: 0,
    byProtocol: { resp: 0, http: 0, none: 0 },
    respReplies: 0,
    httpResponses: 0,
    bytesSent: 0,
    bytesReceived: 0,
    maxConnectionMs: 0,
    failures: [],
  }
  const deadline = performance.now() + seconds * 1000
  const fail = (what, bytes) => {
    if (stats.failures.length < 20) stats.failures.push({ what, bytes: bytes.toString('base64') })
  }
  let next = 0
  const worker = async () => {
    while (next < connections && performance.now() < deadline) {
      const id = next++
      const token = `Q${id}Q`
      const { bytes } = fuzzStream(random, token)
      const pieces = cutStream(bytes, random)
      const target = targets[id % targets.length]
      const started = performance.now()
      const { received, hung } = await converse(target, pieces)
      stats.maxConnectionMs = Math.max(stats.maxConnectionMs, performance.now() - started)
      stats.connections++
      stats.bytesSent += bytes.length
      stats.bytesReceived += received.length
      const protocol = sniffed(bytes)
      stats.byProtocol[protocol]++
      if (hung)
        fail(`the node did not close the connection within ${HANG_MS.connection} ms of its end`, bytes)
      const problem = checkReplies(impl, protocol, received, bytes, stats)
      if (problem !== undefined) fail(problem, bytes)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return stats
}

/**
 * Sends `pieces`, then ends this side (unless `end` is false: then the node must close, after a
 * QUIT), and collects what comes back until the node closes (or a deadline).
 */
function converse(target, pieces, end = true) {
  const { hostname, port } = new URL(target)
  return new Promise((resolve) => {
    const chunks = []
    const socket = connect({ host: hostname, port: Number(port) })
    socket.setNoDelay(true)
    let hung = false
    const timer = setTimeout(() => {
      hung = true
      socket.destroy()
    }, HANG_MS.connection)
    socket.on('data', (chunk) => chunks.push(chunk))
    // A reset (the node closed while bytes were still coming) is an ordinary end here.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ received: Buffer.concat(chunks), hung })
    })
    socket.once('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return
        socket.write(piece)
        await nextTurn()
      }
      if (end) socket.end()
    })
  })
}

/** The first rule the node's answer broke, or `undefined`. */
function checkReplies(impl, protocol, received, sent, stats) {
  // Cross-talk: every token in the answer must be one this connection sent.
  const text = received.toString('latin1')
  const sentText = sent.toString('latin1')
  for (const [token] of text.matchAll(/Q\d+Q/g)) {
    if (!sentText.includes(token))
      return `cross-talk: the answer holds ${token}, which this connection never sent`
  }
  if (received.length === 0) return undefined
  if (protocol === 'none') return 'an answer before the port could tell the protocol'
  if (protocol === 'http') {
    if (!text.startsWith('HTTP/1.1 ')) return 'an HTTP connection got something other than an HTTP response'
    stats.httpResponses += text.split('HTTP/1.1 ').length - 1
    return undefined
  }
  const parser = new impl.RespParser()
  try {
    parser.feed(received, () => stats.respReplies++)
  } catch (err) {
    return `an unparseable reply: ${err.message}`
  }
  return parser.idle ? undefined : 'the connection closed in the middle of a reply'
}

/**
 * Checks that the nodes still answer right, through every path: RESP `PING` and `BURROW.GET`, the
 * HTTP route, and a get through each node's namespace (which asks the owner, another node, when
 * it is not the owner itself). Keys are new to the nodes (`fresh`), so nothing the fuzz stored
 * is read back. Resolves the failures, none when all is well.
 *
 * @param {{ RespParser: any }} impl
 * @param {{ nodes: { self: string }[], namespaces: { get(key: string): Promise<unknown> }[], fresh: string }} options
 */
export async function checkNodes(impl, { nodes, namespaces, fresh }) {
  const failures = []
  for (const [i, node] of nodes.entries()) {
    const keys = Array.from({ length: 8 }, (_, k) => `${fresh}-${i}-${k}`)
    const stream = Buffer.concat([resp('PING'), ...keys.map((key) => resp('BURROW.GET', 'test', key))])
    // Not ended by this side: a node drops the replies it owes to a client that ends its side.
    const { received } = await converse(node.self, [stream, resp('QUIT')], false)
    const replies = []
    const parser = new impl.RespParser()
    parser.feed(received, (value) => replies.push(value))
    const expected = ['PONG', ...keys.map((key) => `value of ${key}`), 'OK']
    const got = replies.map((r) => (Buffer.isBuffer(r) ? r.toString() : r))
    if (JSON.stringify(got) !== JSON.stringify(expected))
      failures.push(`RESP on ${node.self}: ${JSON.stringify(got)}`)
    const httpKey = `${fresh}-http-${i}`
    const response = await fetch(`${node.self}/burrow/test/${encodeURIComponent(httpKey)}`)
    const body = await response.text()
    if (response.status !== 200 || body !== `value of ${httpKey}`)
      failures.push(`HTTP on ${node.self}: ${response.status} ${body}`)
    for (let k = 0; k < 8; k++) {
      const key = `${fresh}-ns-${i}-${k}`
      const value = await namespaces[i].get(key)
      if (value !== `value of ${key}`) failures.push(`get through ${node.self}: ${key} gave ${value}`)
    }
  }
  return failures
}
