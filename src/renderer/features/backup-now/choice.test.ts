import { describe, expect, it } from 'vitest';
import { defaultDestination } from './choice.js';

describe('defaultDestination', () => {
  const ids = ['d1', 'd2', 'd3'];
  it('keeps what the user picked while that destination exists', () => {
    expect(defaultDestination('p', ids, [{ projectId: 'p', destinationId: 'd3' }], 'd2')).toBe(
      'd2',
    );
    expect(defaultDestination('p', ids, [], 'gone')).toBe('d1');
  });
  it("else takes the destination of the project's schedule, not another project's", () => {
    const schedules = [
      { projectId: 'other', destinationId: 'd2' },
      { projectId: 'p', destinationId: 'd3' },
    ];
    expect(defaultDestination('p', ids, schedules, undefined)).toBe('d3');
  });
  it('ignores a schedule whose destination was removed, and has nothing without destinations', () => {
    expect(defaultDestination('p', ids, [{ projectId: 'p', destinationId: 'x' }], undefined)).toBe(
      'd1',
    );
    expect(defaultDestination('p', [], [], undefined)).toBeUndefined();
  });
});
