import { describe, expect, it } from 'vitest';
import { missingServerFlags, SERVER_NODE_FLAGS } from './node-flags.js';

describe('missingServerFlags', () => {
  it('names the deployed flags a process was started without', () => {
    expect(missingServerFlags([], '')).toEqual([...SERVER_NODE_FLAGS]);
  });

  it('accepts them as node arguments or in NODE_OPTIONS', () => {
    expect(missingServerFlags([...SERVER_NODE_FLAGS], '')).toEqual([]);
    expect(
      missingServerFlags(['--enable-source-maps'], ` ${SERVER_NODE_FLAGS.join(' ')} `),
    ).toEqual([]);
  });

  it('does not take another value of the same flag for it', () => {
    expect(missingServerFlags(['--max-semi-space-size=8'], '')).toEqual([...SERVER_NODE_FLAGS]);
  });
});
