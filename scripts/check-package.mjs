// `npm run check:package`: the package as it would be published. Packs it once (without running
// `prepare`: the caller built dist/), checks what the tarball holds, installs it into an empty
// project and runs it there, then runs publint and @arethetypeswrong/cli on that tarball.
// Exits 1 if anything is wrong.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
  const needed = ['package.json', 'README.md', 'LICENSE', 'docs/cli.md']
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
    installed(npm, tarball)
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

/**
 * Installs the tarball into an empty project, as a user would (it has no dependencies, so no
 * registry is needed), and runs it: the `burrow` bin, an ESM import, and a CommonJS require.
 */
function installed(npm, tarball) {
  const app = join(out, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n')
  const args = ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball]
  console.log(`== npm ${args.join(' ')} (in an empty project)`)
  try {
    npm
      ? execFileSync(process.execPath, [npm, ...args], { cwd: app, stdio: 'pipe' })
      : execFileSync('npm', args, { cwd: app, stdio: 'pipe' })
    const bin = join(app, 'node_modules', 'burrow', Object.values(pkg.bin)[0])
    const version = execFileSync(process.execPath, [bin, '--version'], { cwd: app }).toString().trim()
    if (version !== pkg.version) problems.push(`burrow --version printed ${version}, not ${pkg.version}`)
    const check = "typeof (await import('burrow')).Burrow === 'function' || process.exit(1)"
    execFileSync(process.execPath, ['--input-type=module', '-e', check], { cwd: app })
    execFileSync(
      process.execPath,
      ['-e', "typeof require('burrow').Burrow === 'function' || process.exit(1)"],
      {
        cwd: app,
      },
    )
  } catch (err) {
    problems.push(`the installed package does not run: ${err.message}`)
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check:package: ${problem}`)
  process.exit(1)
}
console.log('check:package: the package is complete, installs and runs, and its exports and types resolve')
