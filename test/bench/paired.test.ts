import { describe, expect, it } from 'vitest';
import { pairedSpread, quantile, quantileDiff } from '../../bench/paired.js';

/** n timings: a body around `base` ms and a tail of `tail` requests at `tailMs`. */
function timings(n: number, base: number, tail: number, tailMs: number, seed = 1): number[] {
  let s = seed;
  const next = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2;
  return Array.from({ length: n }, (_, i) => (i < tail ? tailMs + next() : base + next()));
}

describe('the server bench statistics', () => {
  it('takes the nearest-rank quantile, as autocannon does', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.99)).toBeNaN();
  });

  it('reports paired differences with their median and range', () => {
    expect(
      pairedSpread([
        [10, 9],
        [12, 13],
        [20, 14],
      ]),
    ).toEqual({ median: 1, min: -1, max: 6 });
  });

  it('gives an interval that contains a real p99 difference and excludes zero', () => {
    // 3,000 requests each; the tail (2 %) is 5 ms slower on one side.
    const slower = timings(3000, 5, 60, 25, 1);
    const faster = timings(3000, 5, 60, 20, 2);
    const d = quantileDiff(slower, faster, 0.99);
    expect(d.diff).toBeGreaterThan(4);
    expect(d.low).toBeGreaterThan(2);
    expect(d.high).toBeLessThan(7);
  });

  it('gives an interval around zero for two samples of the same distribution', () => {
    const a = timings(3000, 5, 60, 20, 3);
    const b = timings(3000, 5, 60, 20, 4);
    const d = quantileDiff(a, b, 0.99);
    expect(d.low).toBeLessThanOrEqual(0);
    expect(d.high).toBeGreaterThanOrEqual(0);
    expect(d.high - d.low).toBeLessThan(2);
  });

  it('is deterministic for the same timings', () => {
    const a = timings(500, 5, 20, 20, 5);
    const b = timings(500, 5, 20, 18, 6);
    expect(quantileDiff(a, b, 0.99)).toEqual(quantileDiff(a, b, 0.99));
  });
});
