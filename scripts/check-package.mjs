// `npm run check:package`: the package as it would be published. Packs it once (without running
// `prepare`: the caller built dist/), checks what the tarball holds, then runs publint and
// @arethetypeswrong/cli on that tarball. Exits 1 on the first problem.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const out = mkdtempSync(join(tmpdir(), 'burrow-pack-'))
const problems = []

try {
  const npm = process.env.npm_execpath
  const packArgs = ['pack', '--ignore-scripts', '--json', '--pack-destination', out]
  const packed = JSON.parse(
    npm
      ? execFileSync(process.execPath, [npm, ...packArgs], { cwd: root })
      : execFileSync('npm', packArgs, { cwd: root }),
  )[0]
  const files = new Set(packed.files.map((f) => f.path))
  console.log(`== ${packed.filename}: ${files.size} files, ${packed.size} bytes packed`)

  // What a user needs: every export's JS and types, the bin, the docs.
  const needed = ['package.json', 'README.md', 'docs/cli.md']
  for (const target of Object.values(pkg.exports)) {
    if (typeof target === 'string') needed.push(target.replace(/^\.\//, ''))
    else for (const path of Object.values(target)) needed.push(path.replace(/^\.\//, ''))
  }
  for (const path of Object.values(pkg.bin ?? {})) needed.push(path.replace(/^\.\//, ''))
  for (const path of needed) if (!files.has(path)) problems.push(`missing from the package: ${path}`)

  // What it must not carry: sources, tests, benchmarks, scripts, CI, local state.
  const unwanted = /^(src|test|bench|scripts|examples|\.ci|node_modules|coverage|\.tmp)\//
  for (const path of files) if (unwanted.test(path)) problems.push(`should not be in the package: ${path}`)

  for (const path of Object.values(pkg.bin ?? {})) {
    const text = readFileSync(join(root, path), 'utf8')
    if (!text.startsWith('#!/usr/bin/env node\n'))
      problems.push(`bin ${path} does not start with #!/usr/bin/env node`)
  }

  if (problems.length === 0) {
    const tarball = join(out, packed.filename)
    // Each tool's own command, found through its package.json (neither exports its bin).
    const run = (name, bin, args) => {
      const manifest = join(root, 'node_modules', name, 'package.json')
      const script = join(dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin[bin])
      console.log(`== ${[bin, ...args].join(' ')}`)
      try {
        execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' })
      } catch {
        problems.push(`${bin} found problems (above)`)
      }
    }
    run('publint', 'publint', ['run', tarball, '--strict'])
    // ESM only by design: a CommonJS `require` of it works from Node 20.19 on (require(esm)),
    // which attw still reports as cjs-resolves-to-esm.
    run('@arethetypeswrong/cli', 'attw', [
      tarball,
      '--ignore-rules',
      'cjs-resolves-to-esm',
      '--format',
      'table-flipped',
    ])
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check:package: ${problem}`)
  process.exit(1)
}
console.log('check:package: the package is complete, and its exports and types resolve')
