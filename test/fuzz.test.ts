/**
 * Fuzzing the port: the short run of `npm run fuzz` (bench/lib/fuzz.mjs) on the sources, and
 * properties over the same ground. Seeds are fixed so a failure repeats; FUZZ_SEED picks others.
 */
import { Buffer } from 'node:buffer'
import { connect } from 'node:net'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { checkNodes, fuzzPort, fuzzReader } from '../bench/lib/fuzz.mjs'
import { mutate, resp } from '../bench/lib/fuzz-inputs.mjs'
import { seededRandom } from '../bench/lib/random.mjs'
import { BurrowError } from '../src/errors.ts'
import { CommandReader } from '../src/transport/resp/command-reader.ts'
import { RespParser, type RespValue } from '../src/transport/resp/reader.ts'
import { lookupCommand } from '../src/transport/server/command-table.ts'
import { closeAll } from './helpers.ts'
import { cluster } from './support/cluster.ts'

afterEach(() => closeAll())

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_122)

/** A cluster of two nodes, the second with a small maxFrameBytes so the limits are reached. */
function fuzzedCluster() {
  return cluster(2, { nodeOptions: (i) => (i === 1 ? { maxFrameBytes: 4096 } : {}) })
}

describe('fuzzing the RESP command reader', () => {
  it('3,000 mutated or random streams, cut anywhere: only coded refusals, and the same commands however cut', () => {
    const stats = fuzzReader(
      { CommandReader, BurrowError, lookup: lookupCommand },
      { cases: 3000, seconds: 120, seed: SEED },
    )
    expect(stats.failures).toEqual([])
    expect(stats.cases).toBe(3000)
    // The inputs reach both sides: commands read, and both kinds of refusal.
    expect(stats.commands).toBeGreaterThan(1000)
    expect(stats.refused['BURROW_ERR_PROTOCOL']).toBeGreaterThan(100)
    expect(stats.refused['BURROW_ERR_FRAME_TOO_LARGE']).toBeGreaterThan(10)
  })

  it('commands mixed with garbage and mutated, read whole or cut: the same outcome (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        resp('BURROW.GET', 'test', 'k'),
        resp('BURROW.STORE', '1', 'test', 'k', 'b', Buffer.from([0xff, 13, 10]), '-1'),
        Buffer.from('PING hi\r\n'),
        Buffer.from('*1\r\n$4\r\nPING\r\n'),
      ),
      fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
    )
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 8 }),
        fc.integer(),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom(64, 1024, 1 << 20),
        (pieces, mutationSeed, cuts, maxFrameBytes) => {
          const bytes = mutate(Buffer.concat(pieces), seededRandom(mutationSeed), 'Q0Q')
          const whole = outcome([bytes], maxFrameBytes)
          const cut = outcome(cutAt(bytes, cuts), maxFrameBytes)
          if (whole.code === undefined) expect(cut).toEqual(whole)
          else {
            expect(cut.code).toBeDefined()
            expect(cut.commands).toEqual(whole.commands.slice(0, cut.commands.length))
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('fuzzing the port: sniffing, then the RESP and HTTP servers', () => {
  it('200 connections of fuzzed input: each closed, answers parse, no cross-talk, and the nodes answer right afterwards', async () => {
    const { nodes, namespaces } = await fuzzedCluster()
    const stats = await fuzzPort(
      { RespParser },
      { targets: nodes.map((n) => n.self), connections: 200, seconds: 120, seed: SEED },
    )
    expect(stats.failures).toEqual([])
    expect(stats.connections).toBe(200)
    expect(stats.byProtocol.resp).toBeGreaterThan(50)
    expect(stats.byProtocol.http).toBeGreaterThan(5)
    expect(stats.respReplies).toBeGreaterThan(50)
    expect(await checkNodes({ RespParser }, { nodes, namespaces, fresh: 'after' })).toEqual([])
  })

  it('a first line is served as HTTP exactly when it is a request line, however it is cut (property)', async () => {
    const { nodes, namespaces } = await fuzzedCluster()
    const requestLine = fc
      .tuple(
        fc.constantFrom('GET', 'HEAD', 'POST', 'get', 'G3T', '', 'GET GET'),
        fc.constantFrom(' ', '  ', '\t'),
        fc.constantFrom('/burrow/test/k', '/', '*', '/a b', '/burrow/test/%FF', ''),
        fc.constantFrom(' HTTP/1.1', ' HTTP/1.0', ' HTTP/2.0', ' http/1.1', ' HTTP/1.1x', ''),
        fc.constantFrom('\r\n', '\n', '\r\r\n', ' \r\n'),
      )
      .map((parts) => parts.join(''))
    await fc.assert(
      fc.asyncProperty(requestLine, fc.array(fc.nat(), { maxLength: 4 }), async (line, cuts) => {
        const target = nodes[line.length % 2]!.self
        const bytes = Buffer.from(`${line}Host: x\r\n\r\n`)
        const answer = await firstAnswer(target, cutAt(bytes, cuts))
        const http = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/.test(line.slice(0, line.indexOf('\n')))
        if (http) expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 \d{3} /)
        else expect(parsesAsReplies(answer)).toBe(true)
      }),
      { numRuns: 60 },
    )
    expect(await checkNodes({ RespParser }, { nodes, namespaces, fresh: 'after-lines' })).toEqual([])
  })
})

/** The commands a fresh reader reads from `pieces`, and the code it refuses with, if any. */
function outcome(pieces: readonly Buffer[], maxFrameBytes: number): { commands: string[]; code?: string } {
  const commands: string[] = []
  const reader = new CommandReader({
    maxFrameBytes,
    lookup: lookupCommand,
    onCommand: (_, args) =>
      commands.push(
        // An id read as a number is the text it was sent as (no leading zero): the same outcome.
        args.map((a) => (typeof a === 'object' ? `b:${a.toString('hex')}` : `s:${a}`)).join(' '),
      ),
    onInvalid: () => commands.push('invalid'),
  })
  try {
    for (const piece of pieces) reader.feed(piece)
  } catch (err) {
    expect(err).toBeInstanceOf(BurrowError)
    return { commands, code: (err as BurrowError).code }
  }
  return { commands }
}

function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let from = 0
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, point))
    from = point
  }
  return pieces.filter((p) => p.length > 0)
}

/** Writes `pieces`, one per turn of the event loop, and resolves the first bytes answered. */
function firstAnswer(base: string, pieces: readonly Buffer[]): Promise<Buffer> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) })
    const chunks: Buffer[] = []
    let timer: NodeJS.Timeout | undefined
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      // Wait a moment for the rest of a reply that came in pieces, then let go.
      timer ??= setTimeout(() => socket.destroy(), 50)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      if (chunks.length === 0) reject(new Error('closed without an answer'))
      else resolve(Buffer.concat(chunks))
    })
    socket.once('connect', async () => {
      for (const piece of pieces) {
        socket.write(piece)
        await new Promise((r) => setImmediate(r))
      }
    })
    setTimeout(() => socket.destroy(), 5000).unref()
  })
}

function parsesAsReplies(bytes: Buffer): boolean {
  const values: RespValue[] = []
  try {
    new RespParser().feed(bytes, (v) => values.push(v))
  } catch {
    return false
  }
  return values.length > 0
}
