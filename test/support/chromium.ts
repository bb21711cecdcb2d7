/**
 * A headless Chromium (Debian's `chromium` package, installed by scripts/install-test-deps.sh)
 * driven by puppeteer-core, for the dashboard's tests. It talks to loopback only, keeps its
 * profile in a temporary directory, and is closed by {@link Chromium.close}, which kills its
 * process by PID if a graceful close does not finish.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser } from 'puppeteer-core'
import { afterAll, beforeAll } from 'vitest'

/** Where Debian's package puts the browser. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser']

function executable(): string {
  for (const path of CANDIDATES) {
    try {
      execFileSync(path, ['--version'], { stdio: 'ignore', timeout: 30_000 })
      return path
    } catch {}
  }
  throw new Error(
    `no Chromium at ${CANDIDATES.join(' or ')}: run scripts/install-test-deps.sh (Debian: apt-get install -y chromium)`,
  )
}

/** A running headless Chromium. */
export interface Chromium {
  browser: Browser
  /** Closes the browser (killing its PID after 10 s) and removes its profile. */
  close(): Promise<void>
}

/**
 * One headless Chromium for the test file that calls this at its top level: started before its
 * tests, closed after them. Returns a getter of the running browser.
 */
export function useChromium(): () => Chromium {
  let chromium: Chromium | undefined
  beforeAll(async () => {
    chromium = await startChromium()
  }, 90_000)
  afterAll(async () => {
    await chromium?.close()
  }, 30_000)
  return () => {
    if (chromium === undefined)
      throw new Error('Chromium is not running (useChromium() must be called at the top level)')
    return chromium
  }
}

/** Starts a headless Chromium that may reach loopback only. */
export async function startChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'burrow-chromium-'))
  const browser = await puppeteer.launch({
    executablePath: executable(),
    headless: true,
    userDataDir: profile,
    timeout: 60_000,
    protocolTimeout: 60_000,
    args: [
      '--headless=new',
      // Tests run as root in a container, where Chromium's sandbox cannot start.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      // Anything but loopback fails at once: the dashboard must need nothing from elsewhere.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  })
  const pid = browser.process()?.pid
  return {
    browser,
    async close() {
      const closed = browser.close().then(
        () => true,
        () => false,
      )
      const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref())
      if (!(await Promise.race([closed, timer])) && pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {}
      }
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 })
    },
  }
}
