/** Types of the test-only parser `parse-prometheus-text-format` (it ships none). */
declare module 'parse-prometheus-text-format' {
  interface ParsedSample {
    value: string
    labels?: Record<string, string>
  }
  interface ParsedFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED'
    metrics: ParsedSample[]
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[]
}
