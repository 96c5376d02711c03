import { describe, expect, it } from 'vitest';
import { chartRows, formatAge } from './series.js';

describe('dashboard chart data', () => {
  it('puts each project in its own column, leaving out runs without the metric', () => {
    const rows = chartRows(
      [
        {
          projectId: 'a',
          runId: '1',
          at: '2026-11-01T00:00:00Z',
          bytes: 10,
          documents: 1,
          durationSeconds: 2,
        },
        {
          projectId: 'b',
          runId: '2',
          at: '2026-11-02T00:00:00Z',
          bytes: null,
          documents: 5,
          durationSeconds: 3,
        },
      ],
      'bytes',
    );
    expect(rows).toEqual([{ at: Date.parse('2026-11-01T00:00:00Z'), a: 10 }]);
  });

  it('says ages in the unit that reads best', () => {
    expect(formatAge(120)).toBe('2 min');
    expect(formatAge(3 * 3600)).toBe('3 h');
    expect(formatAge(5 * 86400)).toBe('5 d');
  });
});
