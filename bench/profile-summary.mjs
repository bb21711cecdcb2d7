#!/usr/bin/env node
/**
 * What a CPU profile (`--cpu-prof`, e.g. through `BENCH_CHILD_FLAGS`) spends its busy time on:
 * per function, the share of busy samples spent in it (self) and under it (inclusive, each
 * function counted once per sample however deep it recurs), and the source lines of our own code
 * (`dist/`) that took most samples in the function itself (the profile's `positionTicks`: with
 * inlining, a line can stand for the calls inlined there). Idle samples are left out.
 *
 *   BENCH_CHILD_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node bench/run.mjs --only server-get-p16
 *   node bench/profile-summary.mjs /tmp/prof/CPU.….cpuprofile [ROWS]
 *
 * @module
 */
import { readFileSync } from 'node:fs'

const [file, rows = '25'] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [ROWS]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const name = (n) => {
  const f = n.callFrame
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
}

// Time per node, from the samples and the time between them.
const time = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}

const self = new Map()
const inclusive = new Map()
let busy = 0
for (const [id, t] of time) {
  const here = name(byId.get(id))
  if (here.startsWith('(idle)')) continue
  busy += t
  self.set(here, (self.get(here) ?? 0) + t)
  const seen = new Set()
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const k = name(byId.get(at))
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + t)
  }
}

const pct = (t) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(rows))
console.log(`${file}: ${(busy / 1e6).toFixed(2)} s busy`)
console.log('\nself')
for (const [k, t] of top(self)) console.log(`${pct(t)}  ${k}`)
console.log('\ninclusive')
for (const [k, t] of top(inclusive)) console.log(`${pct(t)}  ${k}`)

// Lines: share of all busy samples, from each function's own samples.
const samples = profile.samples.filter((id) => !name(byId.get(id)).startsWith('(idle)')).length
const lines = new Map()
for (const n of profile.nodes) {
  if (!n.callFrame.url.includes('/dist/')) continue
  for (const { line, ticks } of n.positionTicks ?? []) {
    const k = `${n.callFrame.url.split('/dist/')[1]}:${line} (${n.callFrame.functionName || '(anonymous)'})`
    lines.set(k, (lines.get(k) ?? 0) + ticks)
  }
}
console.log('\nlines of dist/ (self samples)')
for (const [k, ticks] of top(lines))
  console.log(`${((100 * ticks) / samples).toFixed(1).padStart(5)} %  ${k}`)
