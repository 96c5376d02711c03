import { describe, expect, it } from 'vitest';
import { pairedRounds, quantile, trimmedInterval, trimmedMean } from '../../bench/paired.js';

describe('the server bench statistics', () => {
  it('takes the nearest-rank quantile, as autocannon does', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.99)).toBeNaN();
  });

  it('reports paired differences with their median, range and a t interval of the mean', () => {
    const r = pairedRounds([
      [10, 9],
      [12, 13],
      [20, 14],
    ]);
    expect({ median: r.median, min: r.min, max: r.max, mean: r.mean }).toEqual({
      median: 1,
      min: -1,
      max: 6,
      mean: 2,
    });
    // sd of (1, -1, 6) = 3.606; t(2) = 4.30; half width 4.30 × 3.606 / √3 = 8.95
    expect(r.low).toBeCloseTo(2 - 8.95, 1);
    expect(r.high).toBeCloseTo(2 + 8.95, 1);
  });

  it('puts a steady difference inside a narrow interval that excludes zero', () => {
    const r = pairedRounds([
      [13, 10],
      [23.2, 20],
      [8.8, 6],
      [41, 38],
      [15.1, 12],
      [30.9, 28],
    ]);
    expect(r.low).toBeGreaterThan(2.5);
    expect(r.high).toBeLessThan(3.5);
  });

  it('trims a fifth of the rounds from each end before the mean', () => {
    // 10 values: 2 cut from each end, the mean of 3..8 kept.
    expect(trimmedMean([100, 1, 2, 3, 4, 5, 6, 7, 8, -50])).toBe(4.5);
    // Fewer than 5 values: nothing to cut.
    expect(trimmedMean([1, 2, 9])).toBe(4);
  });

  it('keeps one stalled round from deciding the trimmed interval, where it decides the t interval', () => {
    // 16 rounds near +0.6 ms and one in which a stall hit one side (+41 ms).
    const calm = [0.3, 0.6, 0.4, 0.9, 0.5, 0.7, 0.2, 0.8, 0.6, 0.5, 0.7, 0.4, 0.6, 0.9, 0.3];
    const r = pairedRounds([...calm, 41].map((d) => [d + 5, 5] as const));
    expect(r.high).toBeGreaterThan(2); // the t interval: not shown under 2 ms
    expect(r.trimmed.value).toBeCloseTo(0.58, 1);
    expect(r.trimmed.low).toBeGreaterThan(0.3);
    expect(r.trimmed.high).toBeLessThan(1); // the trimmed interval: under 2 ms
  });

  it('still fails a cost that is there in every round', () => {
    const r = trimmedInterval([2.4, 2.9, 3.1, 2.2, 2.6, 3.4, 2.8, 2.5]);
    expect(r.low).toBeGreaterThan(2);
    expect(r.high).toBeLessThan(3.5);
    // Seeded: the same rounds give the same interval.
    expect(trimmedInterval([2.4, 2.9, 3.1, 2.2, 2.6, 3.4, 2.8, 2.5])).toEqual(r);
  });

  it('gives no interval for a single round', () => {
    const r = pairedRounds([[5, 3]]);
    expect(r.high).toBe(Infinity);
    expect(r.trimmed.high).toBe(Infinity);
    expect(r.median).toBe(2);
  });
});
