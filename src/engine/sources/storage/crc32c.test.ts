import { randomBytes } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { Crc32c, crc32cJs, crc32cNative, type Crc32cStep } from './crc32c.js';

// The native module is a pinned dependency with a binary for this platform: if it stops
// loading here, the export silently falls back to the slower JS, which this catches.
const native: Crc32cStep | undefined = crc32cNative;

const implementations: [string, Crc32cStep][] = [
  ['native (@node-rs/crc32)', native!],
  ['JavaScript fallback', crc32cJs],
];

/** Published CRC-32C vectors (RFC 3720 appendix B.4 and the standard check value). */
const VECTORS: [string, Buffer, number][] = [
  ['empty', Buffer.alloc(0), 0x00000000],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 zero bytes', Buffer.alloc(32, 0x00), 0x8a9136aa],
  ['32 0xff bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 ascending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 descending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
];

describe('Crc32c', () => {
  it('loads the native CRC32C on this platform', () => {
    expect(native).toBeTypeOf('function');
  });

  describe.each(implementations)('%s', (_name, step) => {
    it.each(VECTORS)(
      'gives the published value for %s, whole and byte by byte',
      (_v, bytes, value) => {
        expect(step(bytes, 0)).toBe(value);
        let crc = 0;
        for (let i = 0; i < bytes.length; i++) crc = step(bytes.subarray(i, i + 1), crc);
        expect(crc).toBe(value);
      },
    );

    it('encodes as the JSON API does', () => {
      const crc = new Crc32c(step).update(Buffer.from('123456789'));
      expect(Buffer.from(crc.base64(), 'base64').toString('hex')).toBe('e3069283');
      expect(new Crc32c(step).base64()).toBe('AAAAAA==');
    });

    it('agrees with @google-cloud/storage for any length, alignment and split', () => {
      const data = randomBytes(70_000);
      for (const [from, to] of [
        [0, 70_000],
        [1, 70_000],
        [3, 69_998],
        [5, 21],
        [2, 3],
        [0, 15],
      ]) {
        const bytes = data.subarray(from, to);
        const reference = new CRC32C();
        reference.update(bytes);
        const whole = new Crc32c(step).update(bytes).base64();
        const split = new Crc32c(step);
        for (let i = 0; i < bytes.length; i += 4093) split.update(bytes.subarray(i, i + 4093));
        expect(whole).toBe(reference.toString());
        expect(split.base64()).toBe(reference.toString());
      }
    });
  });

  it('native and JavaScript agree on every running value of a stream split unevenly', () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    let a = 0;
    let b = 0;
    // Pieces of 1 B to ~200 KiB at odd offsets, as HTTP chunks arrive.
    for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 13) % 200_003) {
      const piece = data.subarray(at, at + n);
      a = native!(piece, a);
      b = crc32cJs(piece, b);
      expect(a).toBe(b);
    }
    expect(new Crc32c().update(data).base64()).toBe(new Crc32c(crc32cJs).update(data).base64());
  });
});
