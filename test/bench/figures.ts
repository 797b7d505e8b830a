/** What the benchmarks print: percentiles and units, one way for all of them. */

/** The p-th percentile (nearest rank) of `values`, which need not be sorted; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const ms = (x: number) => `${x.toFixed(2)} ms`;
export const mb = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MB`;
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** p50, p95 and p99 of durations in milliseconds. */
export const spread = (values: readonly number[]) =>
  values.length === 0 ? 'no samples' : `p50 ${ms(percentile(values, 50))}, p95 ${ms(percentile(values, 95))}, p99 ${ms(percentile(values, 99))}`;

/** The JS heap in use after a full collection (run node with --expose-gc; without it, whatever is in use). */
export function heapAfterGc(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed;
}
