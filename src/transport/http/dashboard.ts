/**
 * `GET /_burrow/dashboard`: one self-contained page (markup, style and script inline; nothing is
 * fetched from elsewhere, so it works on a node with no way out) that polls `stats` and `ring`
 * beside it and draws them. Its Content-Security-Policy allows exactly its own inline style and
 * script (by hash) and requests to the node that served it.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { DASHBOARD_MARKUP, DASHBOARD_STYLE } from './dashboard-page.ts'
import { DASHBOARD_SCRIPT } from './dashboard-script.ts'

/** The dashboard's path. */
export const DASHBOARD_PATH = '/_burrow/dashboard'

/** The page and the Content-Security-Policy to serve it with. */
export interface DashboardPage {
  html: string
  csp: string
}

let page: DashboardPage | undefined

/** The page, built on first use and the same from then on. */
export function dashboardPage(): DashboardPage {
  page ??= {
    // Functions, not strings, as replacements: `$` in the script must stay as written.
    html: DASHBOARD_MARKUP.replace('<!--style-->', () => `<style>${DASHBOARD_STYLE}</style>`).replace(
      '<!--script-->',
      () => `<script>${DASHBOARD_SCRIPT}</script>`,
    ),
    csp: [
      "default-src 'none'",
      `script-src '${sha256(DASHBOARD_SCRIPT)}'`,
      `style-src '${sha256(DASHBOARD_STYLE)}'`,
      "connect-src 'self'",
      'img-src data:',
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  }
  return page
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`
}
