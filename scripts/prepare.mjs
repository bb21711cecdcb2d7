// npm's `prepare` step: builds dist/ with TypeScript, so a checkout used as a dependency (git URL or
// `file:` path) ships the compiled package. npm runs it after `npm install` / `npm ci` here, and
// for a git dependency after installing its devDependencies (TypeScript among them) in the clone.
// A `file:` dependency is linked, not installed: npm runs `prepare` in the checkout as it is, so
// without its devDependencies there is nothing to build with — say so and how to fix it.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))

let tsc
try {
  tsc = require.resolve('typescript/bin/tsc')
} catch {
  if (existsSync(join(root, 'dist', 'index.js'))) {
    console.error('burrow prepare: TypeScript is not installed here; keeping the dist/ already built')
    process.exit(0)
  }
  console.error(
    `burrow prepare: cannot build dist/: TypeScript (a devDependency) is not installed in ${root}.\n` +
      `Run \`npm install\` there (with devDependencies; it builds dist/ too), then install again whatever depends on it.`,
  )
  process.exit(1)
}

const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
process.exit(built.status ?? 1)
