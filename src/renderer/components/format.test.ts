import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRate, fractionDone } from './format.js';
import { resolveTheme } from '../features/settings/theme.js';

describe('formatting', () => {
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
