import { describe, expect, it } from 'vitest';
import { formatCount } from '../../src/cli/output.js';

describe('formatCount', () => {
  it('groups thousands exactly as en-US does, without loading the locale data', () => {
    const values = [0, 7, 999, 1000, 1234.4, 1234.5, 999_999, 1_000_000, 123_456_789, -1234, -999];
    for (const n of values) expect(formatCount(n)).toBe(Math.round(n).toLocaleString('en-US'));
    expect(formatCount(20_001)).toBe('20,001');
  });
});
