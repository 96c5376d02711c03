/**
 * The statistics of the server bench's audit comparison (bench/server.ts): percentiles of
 * raw request timings, and how far a difference of two p99s can be trusted. A p99 of a
 * few thousand requests is decided by a few dozen of them, so the bench reports every
 * difference over paired rounds with its spread and interval, and a target is met only
 * when the interval's upper end is under it.
 */

/** The q-quantile (0..1) of ascending `sorted`, nearest rank (autocannon's definition). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function median(values: readonly number[]): number {
  return quantile(ascending(values), 0.5);
}

/** Two-sided 95 % Student t quantiles by degrees of freedom (1–10; 10's beyond, conservative). */
const T95 = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23];

/**
 * Per-round differences (with − without, each pair measured side by side): their median
 * and range, and a 95 % t interval of their mean. The rounds, not the requests, are the
 * independent samples: requests of one round share its stalls (a checkpoint, a
 * neighbour's burst), which an interval over pooled requests does not see — an A/A run of
 * two identical instances gave pooled-request intervals that excluded zero.
 */
export function pairedRounds(pairs: ReadonlyArray<readonly [number, number]>): {
  median: number;
  min: number;
  max: number;
  mean: number;
  low: number;
  high: number;
} {
  const diffs = pairs.map(([a, b]) => a - b);
  const n = diffs.length;
  const mean = diffs.reduce((s, d) => s + d, 0) / n;
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / Math.max(1, n - 1));
  const half = n < 2 ? Infinity : (T95[Math.min(n - 1, T95.length) - 1]! * sd) / Math.sqrt(n);
  return {
    median: median(diffs),
    min: Math.min(...diffs),
    max: Math.max(...diffs),
    mean,
    low: mean - half,
    high: mean + half,
  };
}
