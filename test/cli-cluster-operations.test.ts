/**
 * Issue #11's end to end: a three-node cluster started with `burrow serve` serves an origin,
 * exports metrics that a Prometheus text parser and Prometheus' own promtool accept, and its
 * dashboard renders live figures (traffic, hot keys) in a real headless Chromium.
 */
import { spawnSync } from 'node:child_process'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll } from './helpers.ts'
import { useChromium } from './support/chromium.ts'
import { burrow, Origin, serveThree } from './support/cli.ts'

const chromium = useChromium()
afterEach(closeAll)

/** The value of metric `name` with label namespace=`namespace` in Prometheus text. */
function metric(text: string, name: string, namespace: string): number {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name)
  const sample = family?.metrics.find((m) => m.labels?.['namespace'] === namespace)
  return Number(sample?.value)
}

describe('a cluster started from the command line, operated', { timeout: 90_000 }, () => {
  it('serves the origin, exports metrics Prometheus parsers accept, and its dashboard shows live figures', async () => {
    const origin = await Origin.start()
    const nodes = await serveThree(origin)
    const first = nodes[0]!.self

    // The dashboard of one node, open before the traffic: it must follow it live.
    const page = await chromium().browser.newPage()
    await page.goto(`${first}/_burrow/dashboard`, { waitUntil: 'domcontentloaded', timeout: 30_000 })
    await page.waitForFunction("document.querySelectorAll('#ring-table tbody tr[data-share]').length === 3", {
      timeout: 30_000,
      polling: 100,
    })
    const gets = 'article[data-namespace="items"] dd[data-figure="gets-total"]'
    await page.waitForSelector(gets, { timeout: 30_000 })

    const keys = Array.from({ length: 12 }, (_, i) => `item-${i}`)
    for (const key of keys) {
      const run = await burrow(['get', '--node', first, 'items', key])
      expect(run).toMatchObject({ code: 0, stdout: `value of ${key}` })
    }
    for (const key of keys) expect(origin.count(key)).toBe(1)

    // Metrics: every node's text parses; the first node counted the 12 gets.
    const texts = await Promise.all(
      nodes.map(async (n) => {
        const res = await fetch(`${n.self}/_burrow/metrics`, { signal: AbortSignal.timeout(10_000) })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
        return res.text()
      }),
    )
    expect(metric(texts[0]!, 'burrow_gets_total', 'items')).toBe(keys.length)
    const loads = texts.map((t) => metric(t, 'burrow_loads_total', 'items'))
    expect(loads.reduce((a, b) => a + b, 0)).toBe(keys.length) // one origin request per key, cluster-wide
    const check = spawnSync('promtool', ['check', 'metrics'], {
      input: texts[0],
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(check.error).toBeUndefined()
    expect({ status: check.status, output: `${check.stdout}${check.stderr}`.trim() }).toEqual({
      status: 0,
      output: '',
    })

    // The dashboard picked the gets up on its own.
    await page.waitForFunction(
      `Number(document.querySelector('${gets}')?.getAttribute('data-value')) >= ${keys.length}`,
      { timeout: 30_000, polling: 100 },
    )

    // A key read again and again is a hot key of the node asked, in JSON and on the page.
    for (let i = 0; i < 3; i++)
      expect((await burrow(['get', '--node', first, 'items', 'item-0'])).code).toBe(0)
    const hot = await fetch(`${first}/_burrow/hot-keys`, { signal: AbortSignal.timeout(10_000) })
    expect(hot.status).toBe(200)
    const listed = ((await hot.json()) as Record<string, { key: string; asks: number }[]>)['items']!
    expect(listed[0]).toMatchObject({ key: 'item-0', asks: 3 })
    await page.waitForSelector('article[data-namespace="items"] ol.hot-keys li[data-key="item-0"]', {
      timeout: 30_000,
    })
    await page.close()
  })
})
