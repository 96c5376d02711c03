/**
 * The statistics of the server bench's audit comparison (bench/server.ts): percentiles of
 * raw request timings, and how far a difference of two p99s can be trusted. A p99 of a
 * few thousand requests is decided by a few dozen of them, so the bench reports every
 * difference with its spread (paired rounds) or a bootstrap interval (pooled timings),
 * and a target is met only when the interval's upper end is under it.
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

/** Median and range of per-round differences (with − without), measured side by side. */
export function pairedSpread(pairs: ReadonlyArray<readonly [number, number]>): {
  median: number;
  min: number;
  max: number;
} {
  const diffs = pairs.map(([a, b]) => a - b);
  return { median: median(diffs), min: Math.min(...diffs), max: Math.max(...diffs) };
}

/** A small deterministic PRNG (mulberry32): the same timings give the same interval. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resample(values: readonly number[], next: () => number): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[Math.floor(next() * values.length)]!;
  return out.sort((x, y) => x - y);
}

/**
 * The difference of the q-quantiles of `a` and `b` (a − b) with a 95 % percentile
 * bootstrap interval: both samples resampled `iterations` times.
 */
export function quantileDiff(
  a: readonly number[],
  b: readonly number[],
  q: number,
  iterations = 400,
): { diff: number; low: number; high: number } {
  const next = random(0x5eed);
  const diffs: number[] = [];
  for (let i = 0; i < iterations; i++)
    diffs.push(quantile(resample(a, next), q) - quantile(resample(b, next), q));
  diffs.sort((x, y) => x - y);
  return {
    diff: quantile(ascending(a), q) - quantile(ascending(b), q),
    low: quantile(diffs, 0.025),
    high: quantile(diffs, 0.975),
  };
}
