import { describe, expect, it } from 'vitest';
import { pairedRounds, quantile } from '../../bench/paired.js';

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

  it('gives no interval for a single round', () => {
    const r = pairedRounds([[5, 3]]);
    expect(r.high).toBe(Infinity);
    expect(r.median).toBe(2);
  });
});
