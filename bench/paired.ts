/**
 * The statistics of the server bench's audit comparison (bench/server.ts): percentiles of
 * raw request timings, and how far a difference of two p99s can be trusted. A p99 of a
 * few thousand requests is decided by a few dozen of them, so the bench reports every
 * difference over paired rounds with its spread and intervals, and a target is met only
 * when an interval's upper end is under it (since 2026-12-01, the trimmed mean's).
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
  /** The 20 % trimmed mean and its bootstrap interval (trimmedInterval). */
  trimmed: { value: number; low: number; high: number };
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
    trimmed: trimmedInterval(diffs),
  };
}

/** The share of values cut from each end by the trimmed mean. */
export const TRIM = 0.2;

/** The mean of what is left once `fraction` of the values is cut from each end. */
export function trimmedMean(values: readonly number[], fraction = TRIM): number {
  const sorted = ascending(values);
  const cut = Math.floor(sorted.length * fraction);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((s, v) => s + v, 0) / kept.length;
}

/**
 * The trimmed mean of per-round differences with a 95 % percentile-bootstrap interval.
 * Why: one round whose stall hits one side (41 ms against 2 on this machine) moves a mean
 * and its t interval by several ms, and the t interval assumes differences that are
 * roughly normal, which such rounds are not. A 20 % trimmed mean ignores the most extreme
 * rounds at either end; the bootstrap needs no assumption on their distribution. The
 * resampling is seeded, so a report can be recomputed exactly from its rounds.
 */
export function trimmedInterval(
  diffs: readonly number[],
  resamples = 10_000,
): { value: number; low: number; high: number } {
  if (diffs.length < 2) return { value: diffs[0] ?? NaN, low: -Infinity, high: Infinity };
  const random = mulberry32(1);
  const estimates: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const sample = diffs.map(() => diffs[Math.floor(random() * diffs.length)]!);
    estimates.push(trimmedMean(sample));
  }
  const sorted = ascending(estimates);
  return {
    value: trimmedMean(diffs),
    low: quantile(sorted, 0.025),
    high: quantile(sorted, 0.975),
  };
}

/** A small seeded generator (Mulberry32): the bootstrap's draws, reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
