/**
 * Result rows and their presentation: the printed ratio table and the JSON written to
 * bench/results/latest.json.
 *
 * @module
 */

/**
 * @typedef {object} Bar
 * @property {string} text  what is required, as printed (e.g. 'ratio >= 3.0')
 * @property {(row: Row) => boolean} check
 */

/**
 * @typedef {object} Row
 * @property {number | null} burrow
 * @property {number | null} anchor
 * @property {number | null} ratio  how many times better burrow is than the anchor (>1: burrow better)
 * @property {string} unit
 * @property {Record<string, unknown>} params
 * @property {string | null} bar
 * @property {boolean | null | 'skipped'} met  null when there is no bar
 * @property {string} [anchorName]
 * @property {string} [note]
 * @property {string} [error]
 */

/** Bar: ratio at least `min`. @param {number} min @returns {Bar} */
export function ratioAtLeast(min) {
  return { text: `ratio >= ${min.toFixed(2)}`, check: (row) => row.ratio !== null && row.ratio >= min }
}

/** Bar: burrow's figure exactly `value`. @param {number} value @param {string} what @returns {Bar} */
export function burrowExactly(value, what) {
  return { text: `burrow ${what} == ${value}`, check: (row) => row.burrow === value }
}

/**
 * A result row. `ratio` is computed by the caller because its direction depends on the unit
 * (higher ops/s is better, lower latency or bytes is better).
 *
 * @param {{ burrow: number | null, anchor: number | null, ratio: number | null, unit: string,
 *   params?: Record<string, unknown>, bar?: Bar, anchorName: string, note?: string }} fields
 * @returns {Row}
 */
export function makeRow({ burrow, anchor, ratio, unit, params = {}, bar, anchorName, note }) {
  const row = { burrow, anchor, ratio, unit, params, bar: bar?.text ?? null, met: null, anchorName }
  if (note !== undefined) row.note = note
  if (bar !== undefined) row.met = bar.check(row)
  return row
}

/**
 * A row that could not run because a dependency (redis-server) is missing.
 *
 * @param {string} unit
 * @param {Bar | undefined} bar
 * @param {string} reason
 * @param {string} anchorName
 * @param {number | null} [burrow] burrow's own figure when it could still be measured
 * @returns {Row}
 */
export function skippedRow(unit, bar, reason, anchorName, burrow = null) {
  return {
    burrow,
    anchor: null,
    ratio: null,
    unit,
    params: {},
    bar: bar?.text ?? null,
    met: 'skipped',
    anchorName,
    note: reason,
  }
}

/**
 * A row for a scenario whose harness failed.
 *
 * @param {string} message
 * @returns {Row}
 */
export function errorRow(message) {
  return {
    burrow: null,
    anchor: null,
    ratio: null,
    unit: '',
    params: {},
    bar: null,
    met: false,
    error: message,
  }
}

/** @param {number | null} value @param {string} unit */
export function formatValue(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-'
  switch (unit) {
    case 'ops/s':
      return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M/s` : `${(value / 1e3).toFixed(1)} k/s`
    case 'ms':
      return `${value.toFixed(2)} ms`
    case 'hit ratio':
      return value.toFixed(4)
    case 'bytes':
      return `${Math.round(value)} B`
    default:
      return String(value)
  }
}

/** @param {Row} row */
function metText(row) {
  if (row.error !== undefined) return 'ERROR'
  if (row.met === 'skipped') return 'skipped'
  if (row.met === null) return '(no bar)'
  return row.met ? 'yes' : 'NO'
}

/**
 * The printed table: one line per scenario, the ratio next to its bar.
 *
 * @param {Record<string, Row>} scenarios
 * @returns {string}
 */
export function formatTable(scenarios) {
  const header = ['scenario', 'burrow', 'anchor', 'ratio', 'bar', 'met', 'anchor is']
  const lines = Object.entries(scenarios).map(([name, row]) => [
    name,
    formatValue(row.burrow, row.unit),
    formatValue(row.anchor, row.unit),
    row.ratio === null || row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x`,
    row.bar ?? '-',
    metText(row),
    row.anchorName ?? '',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const render = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n')
}
