import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentBatcher } from './content-batcher.js';

/** Feeds `data` in chunks of the given sizes; returns the records made. */
function batch(data: Buffer, size: number, chunkSizes: number[]): Buffer[] {
  const batcher = new ContentBatcher(size);
  const records: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const n = chunkSizes[i % chunkSizes.length]!;
    records.push(...batcher.add(data.subarray(offset, offset + n)));
    offset += n;
  }
  const last = batcher.flush();
  if (last) records.push(last);
  return records;
}

describe('ContentBatcher', () => {
  it('regroups chunks of any size into whole records, the last one shorter, bytes unchanged', () => {
    const data = randomBytes(10_000);
    for (const chunks of [[1], [7, 300, 4096], [1000], [1024], [5000, 1], [20_000]]) {
      const records = batch(data, 1024, chunks);
      expect(records.slice(0, -1).every((r) => r.length === 1024)).toBe(true);
      expect(records.at(-1)!.length).toBe(10_000 % 1024);
      expect(Buffer.concat(records).equals(data)).toBe(true);
    }
  });

  it('makes no empty record: nothing for no bytes, no short record after an exact fit', () => {
    expect(batch(Buffer.alloc(0), 1024, [1])).toEqual([]);
    const records = batch(randomBytes(2048), 1024, [512]);
    expect(records.map((r) => r.length)).toEqual([1024, 1024]);
  });
});
