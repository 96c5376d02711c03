import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codeOf,
  expectEveryHeaderBitFlipRefused,
  readBack as readWith,
} from '../../../test/helpers/archive-read-back.js';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import { HEADER_LENGTH } from './format.js';
import { peekKeyId } from './reader.js';
import { RecordType, parseJsonPayload } from './records.js';
import { openAllRecords, sealJsonRecords } from './small-archive.js';

const key = MasterKey.generate();
const ring = new Keyring(key);
const BLOCK = 4096;

function docs(n: number, size = 300): Array<{ type: RecordType; value: unknown }> {
  return Array.from({ length: n }, (_, i) => ({
    type: RecordType.FirestoreDocument,
    value: { path: `c/${i}`, fields: { s: { stringValue: `${i}:${'x'.repeat(size)}` } } },
  }));
}

async function seal(n = 60, size = 300): Promise<Buffer> {
  return (await sealJsonRecords(key, docs(n, size), { blockSize: BLOCK })).bytes;
}

/** Byte ranges of the segments of an archive: [start, end) each, length field included. */
function segmentRanges(bytes: Buffer): Array<[number, number]> {
  let offset = HEADER_LENGTH + bytes.readUInt16BE(10);
  const ranges: Array<[number, number]> = [];
  while (offset < bytes.length) {
    const end = offset + 4 + bytes.readUInt32BE(offset);
    ranges.push([offset, end]);
    offset = end;
  }
  return ranges;
}

function readBack(bytes: Buffer, keyring = ring): ReturnType<typeof readWith> {
  return readWith(bytes, keyring);
}

describe('archive format round trip', () => {
  it('reads back every record, across many segments and records larger than a block', async () => {
    const input = [...docs(50), ...docs(3, 3 * BLOCK), ...docs(50)];
    const { bytes, summary } = await sealJsonRecords(key, input, { blockSize: BLOCK });
    expect(segmentRanges(bytes).length).toBeGreaterThan(5);
    const { records, summary: read } = await openAllRecords(bytes, ring);
    expect(records.map((r) => parseJsonPayload(r))).toEqual(input.map((r) => r.value));
    expect(read.trailer).toEqual(summary.trailer);
    expect(read.trailer.counts).toEqual({ 'firestore.documents': 103 });
    expect(read.archiveSha256).toBe(summary.archiveSha256);
    expect(read.archiveBytes).toBe(bytes.length);
  });

  it('round-trips any records, with any block size (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            t: fc.constantFrom(RecordType.BackupHeader, RecordType.FirestoreDocument),
            v: fc.jsonValue(),
          }),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 4096, max: 20000 }),
        async (records, blockSize) => {
          const input = records.map((r) => ({ type: r.t, value: r.v }));
          const { bytes } = await sealJsonRecords(key, input, { blockSize });
          const { records: out } = await openAllRecords(bytes, ring);
          expect(out.map((r) => r.type)).toEqual(input.map((r) => r.type));
          expect(out.map((r) => r.payload.toString())).toEqual(
            input.map((r) => JSON.stringify(r.value)),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('compresses text and stores incompressible blocks raw', async () => {
    const text = await seal(200, 300);
    expect(text.length).toBeLessThan(200 * 300 * 0.2);
    const noise = docs(1).map(() => ({
      type: RecordType.FirestoreDocument,
      value: randomBytes(30000).toString('base64'),
    }));
    const { bytes } = await sealJsonRecords(key, noise, { blockSize: BLOCK });
    expect((await openAllRecords(bytes, ring)).records).toHaveLength(1);
  });

  it('exposes the key id without a key', async () => {
    expect(await peekKeyId(Readable.from([await seal(2)]))).toBe(key.id);
  });
});

describe('archive tamper detection', () => {
  it('detects a flipped bit anywhere, and yields only records that precede it (property)', async () => {
    const bytes = await seal();
    const original = (await readBack(bytes)).values;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        async (at, bit) => {
          const copy = Buffer.from(bytes);
          copy[at]! ^= 1 << bit;
          const { values, error } = await readBack(copy);
          expect(['ARCHIVE_CORRUPT', 'ARCHIVE_UNSUPPORTED', 'KEY_NOT_FOUND']).toContain(
            codeOf(error),
          );
          expect(values).toEqual(original.slice(0, values.length));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('detects a flip of every bit of the header and key envelope (format 3)', async () => {
    const bytes = await seal(5);
    expect(bytes.readUInt16BE(8)).toBe(3);
    await expectEveryHeaderBitFlipRefused(bytes, ring, key.id);
  });

  it('detects truncation at any length', async () => {
    const bytes = await seal();
    for (let length = 0; length < bytes.length; length += 97) {
      const { error } = await readBack(bytes.subarray(0, length));
      expect(codeOf(error), `truncated to ${length}`).toBe('ARCHIVE_CORRUPT');
    }
    const ends = segmentRanges(bytes).map(([, end]) => end);
    for (const end of ends.slice(0, -1)) {
      const { error } = await readBack(bytes.subarray(0, end));
      expect((error as Error).message).toMatch(/truncated: it ends after segment \d+/);
    }
  });

  it('detects bytes appended after the final segment', async () => {
    const bytes = await seal();
    const { error } = await readBack(Buffer.concat([bytes, Buffer.from('more')]));
    expect(codeOf(error)).toBe('ARCHIVE_CORRUPT');
    const copy = Buffer.concat([bytes, bytes.subarray(segmentRanges(bytes)[0]![0])]);
    expect((await readBack(copy)).error).toMatchObject({
      message: expect.stringMatching(/appended/),
    });
  });

  it('detects reordered and duplicated segments', async () => {
    const bytes = await seal();
    const [a, b] = segmentRanges(bytes);
    const swapped = Buffer.concat([
      bytes.subarray(0, a![0]),
      bytes.subarray(b![0], b![1]),
      bytes.subarray(a![0], a![1]),
      bytes.subarray(b![1]),
    ]);
    expect((await readBack(swapped)).error).toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/Segment 0/),
    });
    const duplicated = Buffer.concat([bytes.subarray(0, a![1]), bytes.subarray(a![0])]);
    expect(codeOf((await readBack(duplicated)).error)).toBe('ARCHIVE_CORRUPT');
  });

  it('detects a segment spliced in from another backup made with the same key', async () => {
    const one = await seal();
    const two = await seal();
    const [, s1] = segmentRanges(one);
    const [, t1] = segmentRanges(two);
    const spliced = Buffer.concat([
      one.subarray(0, s1![0]),
      two.subarray(t1![0], t1![1]),
      one.subarray(s1![1]),
    ]);
    const { values, error } = await readBack(spliced);
    expect((error as Error).message).toMatch(/Segment 1 .*failed authentication/);
    expect(values.length).toBeLessThan(60);
  });

  it('names the key id when the key does not fit', async () => {
    const bytes = await seal(3);
    const other = new Keyring(MasterKey.generate());
    const { values, error } = await readBack(bytes, other);
    expect(values).toEqual([]);
    expect(error).toMatchObject({
      code: 'KEY_NOT_FOUND',
      message: expect.stringContaining(key.id),
    });
  });

  it('reads an archive made with an old key kept in the keyring', async () => {
    const bytes = await seal(3);
    const rotated = new Keyring(MasterKey.generate(), [key]);
    expect((await readBack(bytes, rotated)).values).toHaveLength(3);
  });

  it('refuses an unknown format version before reading anything else', async () => {
    const bytes = Buffer.from(await seal(3));
    bytes.writeUInt16BE(4, 8);
    expect((await readBack(bytes)).error).toMatchObject({
      code: 'ARCHIVE_UNSUPPORTED',
      message: expect.stringMatching(/format version 4.*reads versions 1 to 3.*Upgrade FireBackup/),
    });
  });

  it('refuses a file that is not an archive', async () => {
    const { error } = await readBack(Buffer.from('{"hello": "world"}\n'.repeat(10)));
    expect(error).toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/not a FireBackup archive/),
    });
  });
});
