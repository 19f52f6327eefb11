// What benchmarks report about a set of latencies, computed one way for all of them.

/** The nearest-rank percentile (`fraction` 0-1) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN
}

/** p50, p99, max and count of `values` (in any order). */
export function summarize(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    n: sorted.length,
  }
}
