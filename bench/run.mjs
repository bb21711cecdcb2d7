#!/usr/bin/env node
/**
 * burrow's benchmark harness: `node bench/run.mjs [--quick] [--only name,name]` (or `npm run bench`).
 *
 * Starts its own anchors (lru-cache in child processes, a redis-server on a free loopback port),
 * runs each scenario against burrow and its anchor in the same run, prints a ratio table, and
 * writes bench/results/latest.json. Nothing is left running: children and redis-server are killed
 * by the PIDs recorded when they were started.
 *
 * Exit code: 0 all bars met (or --quick, which enforces no bar), 1 some bar not met (full run),
 * 2 the harness itself failed (a scenario threw, timed out, or the whole run overran).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { killAllChildren, killAllChildrenSync } from './lib/child.mjs'
import { ensureRedis, killRedisSync } from './lib/redis.mjs'
import { errorRow, formatTable } from './lib/report.mjs'
import * as hitRatio from './scenarios/hit-ratio.mjs'
import * as localHit from './scenarios/local-hit.mjs'
import * as memory from './scenarios/memory.mjs'
import * as redisBenchmark from './scenarios/redis-benchmark.mjs'
import * as remoteGet from './scenarios/remote-get.mjs'
import * as stampede from './scenarios/stampede.mjs'

/** In the order they run. Each module exports `group`, `names`, `run(ctx)` and maybe `needsRedis`. */
const MODULES = [localHit, remoteGet, redisBenchmark, stampede, hitRatio, memory]

/** The whole run is killed past this (the target is ~5 min full, ~30 s quick). */
const RUN_CAP_MS = { full: 9 * 60_000, quick: 3 * 60_000 }
/** One scenario module is abandoned past this. */
const MODULE_CAP_MS = { full: 4 * 60_000, quick: 60_000 }

const RESULTS = fileURLToPath(new URL('./results/latest.json', import.meta.url))

/** A bad command line: printed without a stack trace. */
class UsageError extends Error {}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const mode = options.quick ? 'quick' : 'full'
  installExitHandlers(RUN_CAP_MS[mode])
  const log = (line) => console.log(line)
  const selected = (name) => options.only === undefined || options.only.has(name)
  const allNames = MODULES.flatMap((m) => m.names)
  const unknown = [...(options.only ?? [])].filter((n) => !allNames.includes(n))
  if (unknown.length > 0)
    throw new UsageError(`unknown scenario(s) ${unknown.join(', ')}; known: ${allNames.join(', ')}`)

  const modules = MODULES.filter((m) => m.names.some(selected))
  const redis = modules.some((m) => m.needsRedis) ? ensureRedis(log) : {}
  const ctx = { quick: options.quick, log, selected, redis }
  log(`burrow bench (${mode}) on node ${process.version}, ${cpus().length} cpus`)

  const scenarios = {}
  let harnessFailed = false
  for (const module of modules) {
    log(`\n== ${module.group}`)
    const started = Date.now()
    try {
      const rows = await withCap(module.run(ctx), MODULE_CAP_MS[mode], module.group)
      Object.assign(scenarios, rows)
    } catch (err) {
      harnessFailed = true
      const message = err instanceof Error ? err.message : String(err)
      log(`  FAILED: ${message}`)
      await killAllChildren() // a timed-out module may have left children behind
      for (const name of module.names.filter(selected)) scenarios[name] = errorRow(message.slice(0, 2000))
    }
    log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  }

  const result = {
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      date: new Date().toISOString(),
      quick: options.quick,
    },
    command: ['node', 'bench/run.mjs', ...process.argv.slice(2)].join(' '),
    scenarios,
  }
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true })
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`)

  log(`\n${formatTable(scenarios)}\n`)
  for (const [name, row] of Object.entries(scenarios)) {
    if (row.note) log(`${name}: ${row.note}`)
    if (row.error) log(`${name}: ERROR ${row.error.split('\n')[0]}`)
  }
  log(`\n${result.machine.date}; results written to bench/results/latest.json`)
  log('Ratios are the figure to read: absolute numbers on these machines move ~30% from run to run.')

  const unmet = Object.entries(scenarios).filter(([, row]) => row.met === false && row.error === undefined)
  if (harnessFailed) return 2
  if (unmet.length > 0) {
    const names = unmet.map(([n]) => n).join(', ')
    if (options.strict && !options.quick) {
      log(`bars not met: ${names}`)
      return 1
    }
    log(
      `bars not met in this run: ${names}${options.quick ? ' (quick mode: smaller data, no bar enforced)' : ''}`,
    )
  }
  return 0
}

/** @param {string[]} argv */
function parseArgs(argv) {
  const options = { quick: false, strict: false, only: undefined }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') options.quick = true
    else if (arg === '--strict') options.strict = true
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const list = arg === '--only' ? argv[++i] : arg.slice('--only='.length)
      if (!list) throw new UsageError('--only needs a comma-separated list of scenario names')
      options.only = new Set(
        list
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    } else if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/run.mjs [--quick] [--strict] [--only name,name]')
      console.log(`scenarios: ${MODULES.flatMap((m) => m.names).join(', ')}`)
      process.exit(0)
    } else
      throw new UsageError(`unknown argument ${arg}; usage: node bench/run.mjs [--quick] [--only name,name]`)
  }
  return options
}

/** Rejects if `promise` has not settled within `ms`. */
function withCap(promise, ms, what) {
  let timer
  const cap = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} ran past its cap of ${ms / 1000} s`)), ms)
  })
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer))
}

/** Whatever happens, kill our children and redis-server (by PID) before this process goes. */
function installExitHandlers(capMs) {
  process.on('exit', () => {
    killAllChildrenSync()
    killRedisSync()
  })
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping children`)
      process.exit(130)
    })
  }
  setTimeout(() => {
    console.error(`the bench ran past its cap of ${capMs / 1000} s; killing everything it started`)
    process.exit(2)
  }, capMs).unref()
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof UsageError ? err.message : err)
    process.exit(2)
  },
)
