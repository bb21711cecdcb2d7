#!/usr/bin/env node
/**
 * Fuzzes a node's port: `node bench/fuzz.mjs [--quick] [--seed N] [--reader-cases N]
 * [--connections N] [--seconds N]` (or `npm run fuzz`), on the build.
 *
 * The RESP command reader gets most cases, in process; then two nodes (one with the default
 * maxFrameBytes, one with 4 KiB) get real connections that send the same kind of inputs, cut into
 * pieces, so the sniffing of HTTP from RESP, both servers and the replies are fuzzed too; then the
 * nodes must still answer right, through RESP, HTTP and each other (bench/lib/fuzz.mjs says what
 * is checked). Full run: 200,000 reader cases and 10,000 connections, at most 8 minutes; --quick:
 * 5,000 and 300. Bounded in count and time; the nodes are in this process and closed at the end.
 *
 * Exit code: 0 no failure, 1 some failure (printed, and the inputs written to
 * bench/results/fuzz.json with the figures), 2 the harness itself failed.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Burrow, BurrowError } from 'burrow'
import { CommandReader } from '../dist/transport/resp/command-reader.js'
import { RespParser } from '../dist/transport/resp/reader.js'
import { lookupCommand } from '../dist/transport/server/command-table.js'
import { checkNodes, fuzzPort, fuzzReader } from './lib/fuzz.mjs'

const MODES = {
  full: { readerCases: 200_000, connections: 10_000, seconds: 8 * 60 },
  quick: { readerCases: 5_000, connections: 300, seconds: 60 },
}
const RESULTS = fileURLToPath(new URL('./results/fuzz.json', import.meta.url))

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const log = (line) => console.log(line)
  const started = performance.now()
  const left = () => Math.max(1, options.seconds - (performance.now() - started) / 1000)
  log(`burrow fuzz (${options.quick ? 'quick' : 'full'}) on node ${process.version}, seed ${options.seed}`)

  // Most of the time goes to the reader; the connections get what is left, and at least a third.
  const reader = fuzzReader(
    { CommandReader, BurrowError, lookup: lookupCommand },
    { cases: options.readerCases, seconds: (options.seconds * 2) / 3, seed: options.seed },
  )
  const readerSeconds = (performance.now() - started) / 1000
  log(
    `reader: ${reader.cases} cases in ${readerSeconds.toFixed(1)} s (${(reader.cases / readerSeconds).toFixed(0)}/s), ` +
      `${reader.commands} commands read, ${reader.validStreams} streams of unmutated seeds, refused ${JSON.stringify(reader.refused)}, ` +
      `slowest case ${reader.maxCaseMs.toFixed(1)} ms, failures ${reader.failures.length}`,
  )

  const nodes = [
    new Burrow({ peerTimeoutMs: 1000 }),
    new Burrow({ peerTimeoutMs: 1000, maxFrameBytes: 4096 }),
  ]
  let port
  let health
  try {
    const namespaces = nodes.map((n) => n.namespace('test', { load: async (key) => `value of ${key}` }))
    await Promise.all(nodes.map((n) => n.listen()))
    for (const n of nodes) n.setPeers(nodes.map((m) => m.self))
    const portStarted = performance.now()
    port = await fuzzPort(
      { RespParser },
      {
        targets: nodes.map((n) => n.self),
        connections: options.connections,
        seconds: left(),
        seed: options.seed + 1,
      },
    )
    const portSeconds = (performance.now() - portStarted) / 1000
    log(
      `port: ${port.connections} connections in ${portSeconds.toFixed(1)} s (${(port.connections / portSeconds).toFixed(0)}/s), ` +
        `sniffed as ${JSON.stringify(port.byProtocol)}, ${port.respReplies} RESP replies and ${port.httpResponses} HTTP responses, ` +
        `${port.bytesSent} bytes sent, ${port.bytesReceived} received, slowest ${port.maxConnectionMs.toFixed(0)} ms, failures ${port.failures.length}`,
    )
    health = await checkNodes({ RespParser }, { nodes, namespaces, fresh: `after-fuzz-${options.seed}` })
    log(
      health.length === 0
        ? 'afterwards: both nodes answer right (RESP, HTTP, and through each other)'
        : `afterwards: ${health.join('; ')}`,
    )
  } finally {
    await Promise.all(nodes.map((n) => n.close({ timeoutMs: 1000 })))
  }

  const failures = [
    ...reader.failures.map((f) => ({ target: 'reader', ...f })),
    ...port.failures.map((f) => ({ target: 'port', ...f })),
  ]
  const total = reader.cases + port.connections
  log(
    `\n${total} cases in ${((performance.now() - started) / 1000).toFixed(1)} s: ${failures.length + health.length} failures`,
  )
  for (const failure of failures.slice(0, 10))
    log(`  ${failure.target}: ${failure.what} (input, base64: ${failure.bytes.slice(0, 200)})`)
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true })
  const command = ['node', 'bench/fuzz.mjs', ...process.argv.slice(2)].join(' ')
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ command, seed: options.seed, date: new Date().toISOString(), node: process.version, reader, port, health }, null, 2)}\n`,
  )
  log('figures and failing inputs written to bench/results/fuzz.json')
  return failures.length + health.length === 0 ? 0 : 1
}

/** A bad command line: printed without a stack trace. */
class UsageError extends Error {}

function parseArgs(argv) {
  const quick = argv.includes('--quick')
  const options = { quick, seed: Date.now() % 1_000_000, ...MODES[quick ? 'quick' : 'full'] }
  const numbers = {
    '--seed': 'seed',
    '--reader-cases': 'readerCases',
    '--connections': 'connections',
    '--seconds': 'seconds',
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') continue
    if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: node bench/fuzz.mjs [--quick] [--seed N] [--reader-cases N] [--connections N] [--seconds N]',
      )
      process.exit(0)
    }
    const name = numbers[arg]
    const value = Number(argv[i + 1])
    if (name === undefined) throw new UsageError(`unknown argument ${arg}; try --help`)
    if (!Number.isSafeInteger(value) || value < 0)
      throw new UsageError(`${arg} needs a whole number, received ${argv[i + 1]}`)
    options[name] = value
    i++
  }
  return options
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof UsageError ? err.message : err)
    process.exit(2)
  },
)
