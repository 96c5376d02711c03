import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { craftArchive, rawBlocks, recordStream } from '../../../test/helpers/craft-archive.js';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import { FORMAT_VERSION } from './format.js';
import { createRecordDigest, trailerDigestField } from './record-digest.js';
import { RecordType } from './records.js';
import { openAllRecords, sealJsonRecords } from './small-archive.js';

const key = MasterKey.generate();
const ring = new Keyring(key);

const documents = Array.from({ length: 200 }, (_, i) => ({ path: `c/${i}`, fields: { i } }));
const records = documents.map((d) => ({
  type: RecordType.FirestoreDocument,
  payload: Buffer.from(JSON.stringify(d)),
}));
const xxh64 = async (bytes: Buffer): Promise<string> =>
  (await xxhash()).h64Raw(bytes, 0n).toString(16).padStart(16, '0');

type Trailer = Record<string, unknown>;

/** An archive of `version` (built from the spec, docs/design.md §2–3) whose trailer `edit` may change. */
async function crafted(version: number, edit?: (t: Trailer) => object): Promise<Buffer> {
  const plain = await recordStream(records, { version, ...(edit ? { trailer: edit } : {}) });
  return craftArchive(key, rawBlocks(plain, 4096), { blockSize: 4096, version });
}

describe('the record digest (docs/design.md §3.3)', () => {
  it('is XXH64 from version 3 and SHA-256 before, with the published check values', async () => {
    expect([1, 2, 3, 4].map(trailerDigestField)).toEqual(['sha256', 'sha256', 'xxh64', 'xxh64']);
    // XXH64 (seed 0) of "" and "abc", from the xxHash reference implementation.
    expect((await createRecordDigest(3)).hex()).toBe('ef46db3751d8e999');
    expect((await createRecordDigest(3)).update(Buffer.from('abc')).hex()).toBe('44bc2cf5ad770999');
    expect((await createRecordDigest(2)).update(Buffer.from('abc')).hex()).toBe(
      createHash('sha256').update('abc').digest('hex'),
    );
  });

  it('is the same however the stream is split, across the 1 MiB slices it feeds', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 77);
    const whole = (await createRecordDigest(3)).update(bytes).hex();
    const pieces = await createRecordDigest(3);
    for (let at = 0, step = 1; at < bytes.length; at += step, step = step * 3 + 1) {
      pieces.update(bytes.subarray(at, at + step));
    }
    expect(pieces.hex()).toBe(whole);
    expect(whole).toBe(await xxh64(bytes));
  });

  it('a writer seals version 3 with the XXH64 of exactly the records before the trailer', async () => {
    expect(FORMAT_VERSION).toBe(3);
    const { bytes, summary } = await sealJsonRecords(
      key,
      documents.map((value) => ({ type: RecordType.FirestoreDocument, value })),
      { blockSize: 4096 },
    );
    expect(bytes.readUInt16BE(8)).toBe(3);
    const stream = (await recordStream(records)).subarray(0, summary.trailer.bytes);
    expect(summary.trailer).toEqual({
      records: 200,
      counts: { 'firestore.documents': 200 },
      bytes: stream.length,
      xxh64: await xxh64(stream),
    });
    const read = await openAllRecords(bytes, ring);
    expect(read.summary.trailer).toEqual(summary.trailer);
    expect(read.records).toHaveLength(documents.length);
  });

  it.each([1, 2, 3])(
    'reads a crafted archive of version %i with its own digest',
    async (version) => {
      const read = await openAllRecords(await crafted(version), ring);
      expect(read.records).toHaveLength(documents.length);
      expect(read.summary.segments).toBeGreaterThan(1);
      expect(Object.keys(read.summary.trailer)).toContain(trailerDigestField(version));
    },
  );

  const without = (t: Trailer, field: string): Trailer =>
    Object.fromEntries(Object.entries(t).filter(([name]) => name !== field));
  it.each([
    ['version 3 with a wrong XXH64', 3, (t: Trailer) => ({ ...t, xxh64: 'f'.repeat(16) })],
    [
      'version 3 with only a SHA-256 (the field of versions 1 and 2)',
      3,
      (t: Trailer) => ({ ...without(t, 'xxh64'), sha256: 'a'.repeat(64) }),
    ],
    [
      'version 2 with only an XXH64 (the field of version 3)',
      2,
      (t: Trailer) => ({ ...without(t, 'sha256'), xxh64: '0'.repeat(16) }),
    ],
    ['version 2 with a wrong SHA-256', 2, (t: Trailer) => ({ ...t, sha256: '0'.repeat(64) })],
    ['a record count one short', 3, (t: Trailer) => ({ ...t, records: 199 })],
    ['a byte count one short', 3, (t: Trailer) => ({ ...t, bytes: (t.bytes as number) - 1 })],
    ['another count', 3, (t: Trailer) => ({ ...t, counts: { 'firestore.documents': 201 } })],
  ])('refuses %s as corrupt: the trailer does not match', async (_, version, edit) => {
    await expect(openAllRecords(await crafted(version, edit), ring)).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/trailer does not match its records/),
    });
  });
});
