#!/usr/bin/env node
/**
 * Memory under churn: `npm run bench:memory` (builds first), or `node bench/memory-churn.mjs`.
 *
 * Each configuration runs in a fresh child process (bench/children/memory-churn.mjs), so no two
 * share a heap or an RSS: first the empty-process baseline (the same imports, a node and a
 * namespace created, nothing loaded), then per value kind the busy baseline (the same gets calling
 * the loader directly, no cache: what the load itself costs) and the empty-cache baseline (the same
 * gets through a namespace of `maxBytes` 1 byte, which keeps nothing), then sustained gets of uniformly random keys out of 10^6,
 * each a fresh 1 KB value made by the loader on a miss (string values, then Uint8Array values),
 * against `maxBytes` 32 MiB and 256 MiB, for up to a minute or a bounded count of gets. Memory is
 * sampled every 250 ms. Prints, per configuration, min / median / p95 / max / final of RSS,
 * heapUsed and arrayBuffers, and the peak RSS against the goal, 1.5 × maxBytes + a baseline's RSS (the idle
 * process's, and the empty-cache process's).
 *
 * Options:
 *   --quick              5 s per configuration instead of 60 s
 *   --values string,bytes  which value kinds to run (default both); `slices`: 1 KB Buffers that
 *                        view 64 KB chunks, as some drivers hand out
 *   --sizes 32,256       maxBytes values in MiB (default 32,256)
 *   --storage heap,offheap  the namespace's storage option(s) to run (default both)
 *   --flags='...'        extra node flags for the children (e.g. '--max-semi-space-size=2');
 *                        BENCH_CHILD_FLAGS adds flags too, as for bench/run.mjs
 *   --seconds N          N s per configuration (overrides --quick's 5 s and the default 60 s)
 *   --rate N             paced at N gets/s (default 0: as fast as the process goes)
 *   --dist PATH          measure another build's index.js (e.g. a copy of an older dist/)
 *   --json FILE          also write every sample to FILE
 *
 * @module
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { killAllChildren, killAllChildrenSync, withChild } from './lib/child.mjs'

const MiB = 1024 * 1024
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    values: { type: 'string', default: 'string,bytes' },
    sizes: { type: 'string', default: '32,256' },
    storage: { type: 'string', default: 'heap,offheap' },
    flags: { type: 'string', default: '' },
    json: { type: 'string' },
    seconds: { type: 'string' },
    dist: { type: 'string' },
    rate: { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
})
if (opts.help) {
  console.log(
    'node bench/memory-churn.mjs [--quick] [--values string,bytes] [--sizes 32,256] [--flags="..."] ' +
      '[--storage heap,offheap] [--seconds N] [--rate N] [--dist PATH] [--json FILE]   (each is described at the top of this file)',
  )
  process.exit(0)
}

if (!(Number(opts.rate) >= 0)) throw new Error(`--rate: bad rate ${opts.rate}`)
const kinds = opts.values.split(',').filter(Boolean)
for (const kind of kinds) {
  if (!['string', 'bytes', 'slices'].includes(kind)) throw new Error(`--values: unknown kind ${kind}`)
}
const storages = opts.storage.split(',').filter(Boolean)
for (const storage of storages) {
  if (!['heap', 'offheap'].includes(storage)) throw new Error(`--storage: unknown storage ${storage}`)
}
const sizes = opts.sizes.split(',').map((s) => Number(s))
for (const size of sizes) if (!(size > 0 && size <= 4096)) throw new Error(`--sizes: bad size ${size}`)
const execArgv = opts.flags.split(/\s+/).filter(Boolean)
if (opts.dist !== undefined) process.env.BURROW_CHURN_DIST = pathToFileURL(resolve(opts.dist)).href

const workload = {
  keys: 1_000_000,
  valueBytes: 1024,
  batch: 100,
  rate: Number(opts.rate),
  maxMs: opts.seconds !== undefined ? Number(opts.seconds) * 1000 : opts.quick ? 5_000 : 60_000,
  maxGets: opts.quick ? 5_000_000 : 100_000_000,
  sampleMs: 250,
  seed: 42,
}
/** The whole run's cap: every configuration's time, plus room to start and stop children. */
const RUN_CAP_MS = (1 + kinds.length * (2 + sizes.length * storages.length)) * (workload.maxMs + 30_000)

process.on('exit', killAllChildrenSync)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await killAllChildren()
    process.exit(130)
  })
}
const cap = setTimeout(async () => {
  console.error(`the run passed its cap of ${RUN_CAP_MS / 1000} s`)
  await killAllChildren()
  process.exit(2)
}, RUN_CAP_MS)
cap.unref()

/** Runs one configuration in a fresh child (`storage: undefined`: without a cache). */
function runChild(mode, maxBytes, storage) {
  const name =
    mode === 'empty'
      ? 'baseline'
      : storage
        ? `${mode}-${maxBytes < MiB ? `${maxBytes}B` : `${maxBytes / MiB}MiB`}-${storage}`
        : `${mode}-no-cache`
  const args = {
    mode,
    maxBytes,
    ...workload,
    storage: storage ?? 'heap',
    cache: storage !== undefined,
    maxMs: mode === 'empty' ? Math.min(5_000, workload.maxMs) : workload.maxMs,
  }
  return withChild('memory-churn.mjs', { name, execArgv }, (child) =>
    child.call('run', args, args.maxMs + 60_000),
  )
}

/** min, median, p95, max and last of `values`. */
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return {
    min: sorted[0],
    median: at(0.5),
    p95: at(0.95),
    max: sorted[sorted.length - 1],
    final: values[values.length - 1],
  }
}

const mib = (bytes) => (bytes / MiB).toFixed(1)
const row = (label, s) =>
  `  ${label.padEnd(13)} ${[s.min, s.median, s.p95, s.max, s.final].map((v) => mib(v).padStart(7)).join(' ')}`

const t0 = Date.now()
console.log(
  `memory under churn: node ${process.version}, ${workload.keys.toLocaleString('en')} keys, ${workload.valueBytes} B values, ` +
    `${workload.maxMs / 1000} s per configuration${execArgv.length ? `, child flags ${execArgv.join(' ')}` : ''}` +
    `${opts.dist ? `, build ${opts.dist}` : ''}${workload.rate > 0 ? `, paced at ${workload.rate} gets/s` : ''}`,
)
const baseline = await runChild('empty', 32 * MiB)
const baseRss = summary(baseline.samples.map((s) => s.rss))
console.log(
  `\nbaseline (node + namespace, nothing loaded): RSS median ${mib(baseRss.median)} MiB, max ${mib(baseRss.max)} MiB`,
)

const results = []
for (const kind of kinds) {
  const busy = await runChild(kind, 32 * MiB, undefined)
  const busyRss = summary(busy.samples.map((s) => s.rss))
  console.log(
    `\n${kind} values without a cache (the busy baseline): ${Math.round(busy.gets / busy.seconds / 1000)} k gets/s; ` +
      `RSS median ${mib(busyRss.median)} MiB, max ${mib(busyRss.max)} MiB; young gen max ` +
      `${mib(summary(busy.samples.map((s) => s.newSpace)).max)} MiB`,
  )
  // The process whose cache holds nothing: the same node, namespace and gets with `maxBytes` of one
  // byte, so every get misses, runs the read path and the loader, and its value is let go.
  const empty = await runChild(kind, 1, 'heap')
  const emptyRss = summary(empty.samples.map((s) => s.rss))
  console.log(
    `${kind} values through a cache that holds nothing (maxBytes 1 B, the empty-cache baseline): ` +
      `${Math.round(empty.gets / empty.seconds / 1000)} k gets/s; RSS median ${mib(emptyRss.median)} MiB, max ${mib(emptyRss.max)} MiB`,
  )
  for (const size of sizes) {
    for (const storage of storages) {
      const maxBytes = size * MiB
      const r = await runChild(kind, maxBytes, storage)
      const rss = summary(r.samples.map((s) => s.rss))
      const goal = 1.5 * maxBytes + baseRss.median
      const gcs = Object.entries(r.gc)
        .map(([k, v]) => `${k} ${v.count} (${Math.round(v.ms)} ms)`)
        .join(', ')
      console.log(
        `\n${kind} values, maxBytes ${size} MiB, storage ${storage}: ${(r.gets / 1e6).toFixed(1)} M gets in ${r.seconds.toFixed(0)} s ` +
          `(${Math.round(r.gets / r.seconds / 1000)} k/s, ${((100 * r.misses) / r.gets).toFixed(1)} % misses); ` +
          `cache holds ${mib(r.cacheBytes)} MiB in ${r.cacheItems.toLocaleString('en')} entries`,
      )
      console.log(`  MiB            min  median     p95     max   final`)
      console.log(row('rss', rss))
      console.log(row('heapUsed', summary(r.samples.map((s) => s.heapUsed))))
      console.log(row('heapTotal', summary(r.samples.map((s) => s.heapTotal))))
      console.log(row('arrayBuffers', summary(r.samples.map((s) => s.arrayBuffers))))
      console.log(row('young gen', summary(r.samples.map((s) => s.newSpace))))
      console.log(`  gc: ${gcs}`)
      console.log(
        `  goal: RSS <= 1.5 × ${size} MiB + ${mib(baseRss.median)} MiB = ${mib(goal)} MiB; ` +
          `max RSS / goal = ${(rss.max / goal).toFixed(2)} (${rss.max <= goal ? 'met' : 'NOT met'}); ` +
          `p95 / goal = ${(rss.p95 / goal).toFixed(2)}; (max RSS - baseline) / maxBytes = ${((rss.max - baseRss.median) / maxBytes).toFixed(2)}`,
      )
      console.log(
        `  against the busy baseline: (max RSS - ${mib(busyRss.max)} MiB) / maxBytes = ` +
          `${((rss.max - busyRss.max) / maxBytes).toFixed(2)}; off-heap segments ${mib(r.offHeapBytes)} MiB`,
      )
      const emptyGoal = 1.5 * maxBytes + emptyRss.median
      console.log(
        `  against the empty-cache baseline: goal 1.5 × ${size} MiB + ${mib(emptyRss.median)} MiB = ${mib(emptyGoal)} MiB; ` +
          `max RSS / goal = ${(rss.max / emptyGoal).toFixed(2)} (${rss.max <= emptyGoal ? 'met' : 'NOT met'}); ` +
          `(max RSS - ${mib(emptyRss.max)} MiB, its max) / maxBytes = ${((rss.max - emptyRss.max) / maxBytes).toFixed(2)}`,
      )
      results.push({ kind, maxBytes, storage, rss, goal, busyRss, emptyRss, emptyGoal, ...r })
    }
  }
}
console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)} s`)
if (opts.json) {
  writeFileSync(
    opts.json,
    JSON.stringify({ node: process.version, workload, execArgv, baseline, results }, null, 1),
  )
}
