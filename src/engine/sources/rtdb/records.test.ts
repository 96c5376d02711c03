import { describe, expect, it } from 'vitest';
import { normalisePath, normalisePaths } from './records.js';
import { piecesOf } from './restore.js';

describe('RTDB paths', () => {
  it('normalises paths and keeps only the outermost of nested ones', () => {
    expect(normalisePath('users/alice/')).toBe('/users/alice');
    expect(normalisePath('/')).toBe('/');
    expect(normalisePaths(['/a/b', 'a', '/c d/é%~!', '/ab'])).toEqual(['/a', '/ab', '/c d/é%~!']);
  });

  it('refuses keys the database does not allow, saying what to do', () => {
    expect(() => normalisePath('/a.b')).toThrow(/not a Realtime Database path/);
    expect(() => normalisePath('/a[0]')).toThrow(/Give paths like/);
  });
});

describe('piecesOf (what of a record a restore of chosen paths writes)', () => {
  const instance = 'i';
  it('keeps records under a root, cuts an ancestor record down to the root', () => {
    const page = { instance, path: '/a', children: { b: { c: 1 }, x: 2 }, priority: 3 };
    expect(piecesOf(page, ['/'])).toEqual([
      { root: '/', path: '/a', priority: 3 },
      { root: '/', path: '/a/b', value: { c: 1 } },
      { root: '/', path: '/a/x', value: 2 },
    ]);
    expect(piecesOf(page, ['/a/b/c'])).toEqual([{ root: '/a/b/c', path: '/a/b/c', value: 1 }]);
    expect(piecesOf(page, ['/a/missing', '/z'])).toEqual([]);
    // As read from the archive: "__proto__" is an ordinary key there.
    const value = JSON.parse('{"instance":"i","path":"/","value":{"__proto__":{"k":1}}}');
    expect(piecesOf(value, ['/__proto__'])).toEqual([
      { root: '/__proto__', path: '/__proto__', value: { k: 1 } },
    ]);
  });
});
