import { randomBytes } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { Crc32c } from './crc32c.js';

describe('Crc32c', () => {
  it('matches the known check value and the JSON API encoding', () => {
    // The standard check value of CRC-32C: "123456789" → 0xe3069283.
    const crc = new Crc32c().update(Buffer.from('123456789'));
    expect(Buffer.from(crc.base64(), 'base64').toString('hex')).toBe('e3069283');
    expect(new Crc32c().base64()).toBe('AAAAAA==');
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
      const whole = new Crc32c().update(bytes).base64();
      const split = new Crc32c();
      for (let i = 0; i < bytes.length; i += 4093) split.update(bytes.subarray(i, i + 4093));
      expect(whole).toBe(reference.toString());
      expect(split.base64()).toBe(reference.toString());
    }
  });
});
