import { describe, expect, it } from 'vitest';
import { nextFilter } from './slice.js';

describe('the history filter', () => {
  it('sets and clears fields', () => {
    const f = nextFilter({}, { kind: 'backup', status: 'failed' });
    expect(f).toEqual({ kind: 'backup', status: 'failed' });
    expect(nextFilter(f, { kind: undefined })).toEqual({ status: 'failed' });
  });
});
