/**
 * The dashboard in a real headless Chromium (Debian's package, driven by puppeteer-core) against
 * a 3-node cluster on loopback: the ring, live traffic, membership changes, and auth.
 */
import type { Page } from 'puppeteer-core'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node, ringWhere } from './helpers.ts'
import { useChromium } from './support/chromium.ts'
import { cluster } from './support/cluster.ts'

const SLOW = 60_000
/** How long the page may take to show a change: generous, for a loaded 2-core machine. */
const WAIT = { timeout: 30_000, polling: 100 }

const chromium = useChromium()
/** Console errors and uncaught exceptions of the pages opened by the current test. */
const problems: string[] = []
afterEach(async () => {
  const seen = problems.splice(0)
  await closeAll()
  expect(seen).toEqual([])
})

/** A new page on `base`'s dashboard, every URL it requested, and the answers it got. */
async function openDashboard(
  base: string,
): Promise<{ page: Page; requested: string[]; answers: { url: string; status: number }[] }> {
  const page = await chromium().browser.newPage()
  const requested: string[] = []
  const answers: { url: string; status: number }[] = []
  // A Content-Security-Policy violation or a script error shows up here.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/401/.test(message.text())) problems.push(message.text())
  })
  page.on('pageerror', (error) => {
    problems.push(String(error))
  })
  page.on('request', (request) => {
    requested.push(request.url())
  })
  page.on('response', (response) => {
    answers.push({ url: response.url(), status: response.status() })
  })
  await page.goto(`${base}/_burrow/dashboard`, { waitUntil: 'domcontentloaded', timeout: 30_000 })
  return { page, requested, answers }
}

/** Resolves once the JavaScript expression `condition` holds in the page. */
async function until(page: Page, condition: string): Promise<void> {
  await page.waitForFunction(condition, WAIT)
}

/** The number of live peers the ring table lists. */
const ROWS = "document.querySelectorAll('#ring-table tbody tr[data-share]').length"

/** The ring table's rows of live peers: id and share. */
function ringRows(page: Page): Promise<{ peer: string; share: number; text: string; shown: string }[]> {
  return page.$$eval('#ring-table tbody tr[data-share]', (rows) =>
    rows.map((row) => ({
      peer: row.getAttribute('data-peer') ?? '',
      share: Number(row.getAttribute('data-share')),
      text: row.textContent ?? '',
      shown: row.querySelector('td.num')?.textContent ?? '',
    })),
  )
}

/** The number a namespace's figure holds (`data-value`), or NaN. */
function figureOf(page: Page, namespace: string, figure: string): Promise<number> {
  return page.$eval(`article[data-namespace="${namespace}"] dd[data-figure="${figure}"]`, (dd) =>
    Number(dd.getAttribute('data-value') || Number.NaN),
  )
}

describe('the dashboard in Chromium', () => {
  it(
    'shows the ring of all 3 peers with shares adding up to 100 %, and the gets the node serves',
    async () => {
      const { nodes, namespaces } = await cluster(3)
      const [a] = nodes
      const { page, requested } = await openDashboard(a!.self)
      await until(page, `${ROWS} === 3`)
      const rows = await ringRows(page)
      expect(rows.map((r) => r.peer).sort()).toEqual(nodes.map((n) => n.self).sort())
      expect(rows.reduce((sum, r) => sum + r.share, 0)).toBeCloseTo(1, 9)
      // The figures a reader sees add up too (each rounded to 0.1 %).
      const shown = rows.map((r) => Number(/^([\d.]+) %$/.exec(r.shown)?.[1]))
      expect(Math.abs(shown.reduce((sum, s) => sum + s, 0) - 100)).toBeLessThanOrEqual(0.2)
      expect(rows.find((r) => r.peer === a!.self)?.text).toContain('(this node)')
      // The donut has a slice per peer, each with a text alternative.
      expect(await page.$$eval('#ring-chart path title', (titles) => titles.length)).toBe(3)
      expect(await page.$eval('#ring-desc', (d) => d.textContent)).toContain('Ring of 3 peers')

      await page.waitForSelector('article[data-namespace="test"] dd[data-figure="gets-total"]', WAIT)
      const before = await figureOf(page, 'test', 'gets-total')
      for (let i = 0; i < 300; i++) await namespaces[0]!.get(`key-${i}`)
      const total = `document.querySelector('article[data-namespace="test"] dd[data-figure="gets-total"]')`
      await until(page, `Number(${total}.getAttribute('data-value')) >= ${before + 300}`)
      // A rate was drawn from two samples around those gets, and the cache filled.
      await until(
        page,
        `document.querySelectorAll('article[data-namespace="test"] figure[data-chart="gets"] polyline').length > 0`,
      )
      expect(
        await page.$eval('article[data-namespace="test"] p[data-used]', (p) =>
          Number(p.getAttribute('data-used')),
        ),
      ).toBeGreaterThan(0)
      expect(await page.$eval('#status', (s) => s.getAttribute('data-state'))).toBe('live')
      // Everything the page asked for came from the node that served it.
      const origin = new URL(a!.self).origin
      expect(requested.length).toBeGreaterThan(2)
      for (const url of requested)
        expect(url.startsWith(`${origin}/_burrow/`) || url.startsWith('data:')).toBe(true)
      await page.close()
    },
    SLOW,
  )

  it(
    'lists a node that leaves as a membership event and takes it off the ring',
    async () => {
      const { nodes } = await cluster(3)
      const [a, , c] = nodes
      const { page } = await openDashboard(a!.self)
      await until(page, `${ROWS} === 3`)
      const gone = c!.self
      await c!.close()
      await ringWhere(a!, (peers) => !peers.includes(gone))
      await until(
        page,
        `document.querySelector('#event-list li[data-type="peer.down"][data-peer="${gone}"]') !== null`,
      )
      const event = await page.$eval(`#event-list li[data-type="peer.down"][data-peer="${gone}"]`, (li) => ({
        text: li.textContent ?? '',
        time: li.querySelector('time')?.getAttribute('datetime') ?? '',
      }))
      expect(event.text).toContain('peer down')
      expect(event.text).toContain('left')
      expect(Number.isNaN(Date.parse(event.time))).toBe(false)
      await until(page, `${ROWS} === 2`)
      expect((await ringRows(page)).map((r) => r.peer)).not.toContain(gone)
      await page.close()
    },
    SLOW,
  )

  it(
    'with auth, says the data requests were refused (401) until the secret is entered, and keeps it out of URLs',
    async () => {
      const secret = 'dashboard-secret-41'
      const n = node({ auth: { secret } })
      n.namespace('test', { load: (key) => `value of ${key}` })
      await n.listen({ host: '127.0.0.1', port: 0 })
      const { page, requested, answers } = await openDashboard(n.self)
      const statsAnswers = () => answers.filter((a) => a.url.endsWith('/_burrow/stats')).map((a) => a.status)
      await until(page, `document.querySelector('#status').getAttribute('data-state') === 'unauthorized'`)
      expect(await page.$eval('#status', (s) => s.textContent)).toMatch(/Unauthorized \(401\)/)
      expect(await page.$eval('#auth', (f) => f.hasAttribute('hidden'))).toBe(false)
      expect(await page.$$eval('#ring-table tbody tr', (rows) => rows.length)).toBe(0)
      expect(statsAnswers()).toContain(401)
      expect(statsAnswers()).not.toContain(200)

      await page.type('#secret', secret)
      await page.click('#auth button[type="submit"]')
      await until(page, `${ROWS} === 1`)
      expect(await page.$eval('#status', (s) => s.getAttribute('data-state'))).toBe('live')
      expect(await page.$eval('#auth', (f) => f.hasAttribute('hidden'))).toBe(true)
      expect(statsAnswers()).toContain(200)
      for (const url of [...requested, page.url()]) expect(url).not.toContain(secret)
      await page.close()
    },
    SLOW,
  )
})
