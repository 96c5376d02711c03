import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDateTime,
  formatDuration,
  formatRate,
  fractionDone,
} from './format.js';
import { resolveTheme } from '../features/settings/theme.js';

describe('formatting', () => {
  // Rows of long lists call these for every row on every scroll frame: one formatter each,
  // made once, with the same output as the per-call toLocaleString they replace.
  it('dates and counts read as toLocaleString would, from shared formatters', () => {
    const iso = '2026-11-30T08:15:42.123Z';
    expect(formatDateTime(iso)).toBe(new Date(iso).toLocaleString());
    expect(formatDateTime('not a date')).toBe('—');
    expect(formatCount(1234567.4)).toBe((1234567).toLocaleString('en-US'));
    expect(formatCount(Number.NaN)).toBe('—');
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) formatDateTime(iso);
    // Far under what 20,000 fresh toLocaleString calls cost (a formatter each).
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('bytes, durations, rates and fractions read plainly', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 5 s');
    expect(formatDuration(3720)).toBe('1 h 2 min');
    expect(formatRate(0, 'docs')).toBe('—');
    expect(formatRate(1234.4, 'docs')).toBe('1,234 docs/s');
    expect(fractionDone(5, undefined)).toBeUndefined();
    expect(fractionDone(5, 10)).toBe(0.5);
    expect(fractionDone(12, 10)).toBe(1);
  });

  it('the theme follows the OS unless the setting says otherwise', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});
