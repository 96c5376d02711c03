import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentBatcher, type ContentRecord } from './content-batcher.js';

/** Feeds `data` in chunks of the given sizes; returns the records made. */
function batch(data: Buffer, size: number, chunkSizes: number[]): Buffer[] {
  const batcher = new ContentBatcher(size);
  const records: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const n = chunkSizes[i % chunkSizes.length]!;
    // Kept, never released: no buffer is reused, every record stays as it was made.
    records.push(...batcher.add(data.subarray(offset, offset + n)).map((r) => r.bytes));
    offset += n;
  }
  const last = batcher.flush();
  if (last) records.push(last.bytes);
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

  it('fills a buffer again only after its record was released; kept records stay intact', () => {
    const size = 1024;
    const data = randomBytes(40 * size + 100);
    const batcher = new ContentBatcher(size);
    const made: { record: ContentRecord; expected: Buffer; released: boolean }[] = [];
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const n = [300, 1000, 77, 2500][i % 4]!;
      for (const record of batcher.add(data.subarray(offset, offset + n))) {
        const start = made.length * size;
        // Every third record is kept (as a consumer holding records would); the
        // others are released at once, as the archive writer's loop does.
        const released = made.length % 3 !== 0;
        made.push({ record, expected: data.subarray(start, start + size), released });
        if (released) record.release();
      }
      offset += n;
    }
    const last = batcher.flush()!;
    made.push({ record: last, expected: data.subarray(40 * size), released: false });
    for (const { record, expected, released } of made) {
      if (!released) expect(record.bytes.equals(expected)).toBe(true);
    }
    // Released buffers were reused (the point of the pool), kept ones never. (Records
    // that are views of a downloaded chunk, passed on without a copy, are not pooled.)
    const pooled = made.filter((m) => m.record.bytes.buffer !== data.buffer);
    const buffers = pooled.map((m) => m.record.bytes.buffer);
    expect(new Set(buffers).size).toBeLessThan(buffers.length);
    pooled.forEach((m, i) => {
      const later = buffers.slice(i + 1).filter((b) => b === m.record.bytes.buffer);
      if (!m.released) expect(later).toEqual([]);
    });
  });

  it('passes a chunk that is a whole record, or a whole object, on as it is', () => {
    const data = randomBytes(2048);
    const batcher = new ContentBatcher(1024);
    expect(batcher.add(data).map((r) => r.bytes.buffer === data.buffer)).toEqual([true, true]);
    const small = randomBytes(10);
    expect(batcher.add(small)).toEqual([]);
    expect(batcher.flush()!.bytes).toBe(small);
  });

  it('copies a short last record out, so one kept record never holds a whole buffer', () => {
    const batcher = new ContentBatcher(1024);
    const data = randomBytes(1024 + 200);
    const [full] = [...batcher.add(data.subarray(0, 700)), ...batcher.add(data.subarray(700))];
    const tail = batcher.flush()!;
    expect(tail.bytes.buffer.byteLength).toBe(200);
    // The buffer it was copied from fills the next object's record, unreleased: the
    // kept tail is not touched.
    batcher.add(randomBytes(600));
    const next = batcher.add(randomBytes(600))[0]!;
    expect(next.bytes.buffer).not.toBe(full!.bytes.buffer);
    expect(tail.bytes.equals(data.subarray(1024))).toBe(true);
    expect(full!.bytes.equals(data.subarray(0, 1024))).toBe(true);
  });

  it('reuses a released buffer once, however often it is released, across objects', () => {
    const batcher = new ContentBatcher(1024);
    // An object of 600 bytes in two chunks: its record is a pooled buffer.
    batcher.add(randomBytes(300));
    batcher.add(randomBytes(300));
    const first = batcher.flush()!;
    first.release();
    first.release();
    const record = (): ContentRecord => {
      batcher.add(randomBytes(512));
      return batcher.add(randomBytes(512))[0]!;
    };
    const again = record();
    const other = record();
    expect(again.bytes.buffer).toBe(first.bytes.buffer);
    expect(other.bytes.buffer).not.toBe(first.bytes.buffer);
  });
});
