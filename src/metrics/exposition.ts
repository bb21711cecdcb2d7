/**
 * Metrics as Prometheus text (exposition format 0.0.4): for each metric a `# HELP` and a `# TYPE`
 * line, then one line per sample, label values escaped.
 *
 * @module
 */
import type { BurrowStats } from '../stats.ts'
import { DEFAULT_PREFIX, METRICS } from './families.ts'

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Every metric of `stats` as Prometheus text; metrics without samples (no namespace yet) are left out. */
export function prometheusText(stats: BurrowStats, prefix = DEFAULT_PREFIX): string {
  let text = ''
  for (const metric of METRICS) {
    const samples = metric.samples(stats)
    if (samples.length === 0) continue
    const name = prefix + metric.name
    text += `# HELP ${name} ${escapeHelp(metric.help)}\n# TYPE ${name} ${metric.type}\n`
    for (const { labels, value } of samples) text += `${name}${labelSet(labels)} ${formatValue(value)}\n`
  }
  return text
}

/** `{a="1",b="2"}`, or nothing without labels. */
function labelSet(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels)
  if (pairs.length === 0) return ''
  return `{${pairs.map(([label, value]) => `${label}="${escapeLabelValue(value)}"`).join(',')}}`
}

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

/** Help text: backslash and line feed escaped. */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}
