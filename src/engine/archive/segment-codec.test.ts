import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CODING_BROTLI, CODING_RAW } from './format.js';
import { compressBlock, decompressBlock, worthCompressing } from './segment-codec.js';

const MiB = 1024 * 1024;

/** A megabyte of JSON lines, as a Firestore or Auth section holds. */
function jsonLines(length: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; lines.length * 60 < length * 1.2; i++) {
    lines.push(
      JSON.stringify({ id: `doc-${i}`, total: i * 7, tags: ['a', 'b'], at: 1732860000 + i }),
    );
  }
  return Buffer.from(lines.join('\n')).subarray(0, length);
}

async function roundTrip(block: Buffer): Promise<number> {
  const coded = await compressBlock(block, 5);
  expect((await decompressBlock(coded, block.length, 0)).equals(block)).toBe(true);
  return coded.coding;
}

describe('compressBlock', () => {
  it('keeps an incompressible block raw (probed, not compressed whole)', async () => {
    expect(worthCompressing(randomBytes(MiB))).toBe(false);
    expect(await roundTrip(randomBytes(MiB))).toBe(CODING_RAW);
  });

  it('compresses text blocks, large and small', async () => {
    const coded = await compressBlock(jsonLines(MiB), 5);
    expect(coded.coding).toBe(CODING_BROTLI);
    expect(coded.payload.length).toBeLessThan(MiB / 4);
    expect(await roundTrip(jsonLines(MiB))).toBe(CODING_BROTLI);
    expect(await roundTrip(jsonLines(4096))).toBe(CODING_BROTLI);
  });

  it('compresses a block that is only partly text (the end of a photo, then records)', async () => {
    for (const textShare of [0.75, 0.5, 0.3]) {
      const text = jsonLines(Math.round(MiB * textShare));
      const block = Buffer.concat([randomBytes(MiB - text.length), text]);
      expect(worthCompressing(block)).toBe(true);
      expect(await roundTrip(block)).toBe(CODING_BROTLI);
    }
  });
});
