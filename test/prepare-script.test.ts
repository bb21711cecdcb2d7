/**
 * scripts/prepare.mjs, npm's `prepare` step: it builds dist/ where TypeScript is installed (every
 * `npm install` and `npm ci` here shows that), and where it is not — a `file:` dependency on a
 * checkout nobody ran `npm install` in — it says what to do instead of leaving a package without
 * dist/.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/prepare.mjs', import.meta.url))
const dirs: string[] = []

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A checkout without node_modules: package.json and the script, in a temporary folder. */
function bareCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-prepare-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(script, join(dir, 'scripts', 'prepare.mjs'))
  writeFileSync(join(dir, 'package.json'), '{ "name": "burrow", "type": "module" }\n')
  return dir
}

function prepare(dir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(dir, 'scripts', 'prepare.mjs')], {
      cwd: dir,
      timeout: 30_000,
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.once('close', (code) => resolve({ code, stderr }))
  })
}

describe('the prepare script, where TypeScript is not installed', () => {
  it('fails and says to run npm install in the checkout, when there is no dist/', async () => {
    const dir = bareCheckout()
    const run = await prepare(dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      `cannot build dist/: TypeScript (a devDependency) is not installed in ${dir}`,
    )
    expect(run.stderr).toContain('Run `npm install` there')
  })

  it('keeps a dist/ that was built before', async () => {
    const dir = bareCheckout()
    mkdirSync(join(dir, 'dist'))
    writeFileSync(join(dir, 'dist', 'index.js'), 'export {}\n')
    const run = await prepare(dir)
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('keeping the dist/ already built')
  })
})
