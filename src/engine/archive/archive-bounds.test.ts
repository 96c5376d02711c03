import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { craftArchive, rawBlocks, recordStream } from '../../../test/helpers/craft-archive.js';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import { CODING_RAW, HEADER_LENGTH } from './format.js';
import { ArchiveReader } from './reader.js';
import { RecordType } from './records.js';
import { openAllRecords, sealJsonRecords } from './small-archive.js';

const key = MasterKey.generate();
const ring = new Keyring(key);
const BLOCK = 4096;

function doc(size: number): Buffer {
  return Buffer.from(
    JSON.stringify({ path: 'c/big', fields: { s: { stringValue: 'x'.repeat(size) } } }),
  );
}

/** A source that counts what the reader pulled from it. */
function counting(bytes: Buffer, chunk = 16 * 1024): { source: Readable; pulled: () => number } {
  let pulled = 0;
  const source = Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunk) {
        const part = bytes.subarray(at, at + chunk);
        pulled += part.length;
        yield part;
      }
    })(),
  );
  return { source, pulled: () => pulled };
}

async function readAll(reader: ArchiveReader): Promise<number> {
  let n = 0;
  for await (const _ of reader.records()) n++;
  return n;
}

describe('record parsing is linear and every block is bounded (issue 7, item 7)', () => {
  it('joins a large record spread over many small blocks with one copy', async () => {
    const plain = await recordStream([
      { type: RecordType.FirestoreDocument, payload: doc(100) },
      { type: RecordType.FirestoreDocument, payload: doc(2 * 1024 * 1024) },
      { type: RecordType.FirestoreDocument, payload: doc(100) },
    ]);
    const archive = craftArchive(key, rawBlocks(plain, BLOCK), { blockSize: BLOCK });
    const reader = new ArchiveReader(Readable.from([archive]), ring);
    expect(await readAll(reader)).toBe(3);
    // Quadratic joining copied ~256 MiB here (512 blocks × the record so far / 2); the
    // record is copied once, plus at most one block for the pieces around it.
    expect(reader.recordBytesCopied).toBeLessThanOrEqual(plain.length + 2 * BLOCK);
  });

  it('handles a record prefix split across blocks', async () => {
    const payloads = Array.from({ length: 50 }, (_, i) => doc(37 * i));
    const plain = await recordStream(
      payloads.map((payload) => ({ type: RecordType.FirestoreDocument, payload })),
    );
    // Odd cut points put record prefixes across block edges.
    for (const blockSize of [BLOCK, BLOCK + 1, BLOCK + 3]) {
      const archive = craftArchive(key, rawBlocks(plain, blockSize), { blockSize });
      const { records } = await openAllRecords(archive, ring);
      expect(records.map((r) => r.payload.toString())).toEqual(payloads.map(String));
    }
  });

  it('refuses a final raw block longer than the block size', async () => {
    const plain = await recordStream([{ type: RecordType.FirestoreDocument, payload: doc(BLOCK) }]);
    expect(plain.length).toBeGreaterThan(BLOCK);
    const archive = craftArchive(key, [{ coding: CODING_RAW, payload: plain }], {
      blockSize: BLOCK,
    });
    await expect(openAllRecords(archive, ring)).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/Segment 0 holds a raw block longer than the block size/),
    });
  });
});

describe('an object is read only for its purpose, and manifest reads are capped (item 4)', () => {
  it('refuses an archive read as a manifest, after reading only its header', async () => {
    const { bytes } = await sealJsonRecords(
      key,
      Array.from({ length: 2000 }, (_, i) => ({
        type: RecordType.FirestoreDocument,
        value: {
          path: `c/${i}`,
          fields: { n: { bytesValue: randomBytes(300).toString('base64') } },
        },
      })),
    );
    expect(bytes.length).toBeGreaterThan(600_000);
    const { source, pulled } = counting(bytes);
    await expect(openAllRecords(source, ring, { purpose: 'manifest' })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/is a backup archive, not a manifest/),
    });
    expect(pulled()).toBeLessThanOrEqual(16 * 1024);
  });

  it('refuses a manifest read as an archive', async () => {
    const { bytes } = await sealJsonRecords(key, [{ type: RecordType.Manifest, value: {} }], {
      purpose: 'manifest',
    });
    expect(bytes[23]).toBe(2);
    await expect(openAllRecords(bytes, ring)).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/is a manifest, not a backup archive/),
    });
    expect((await openAllRecords(bytes, ring, { purpose: 'manifest' })).records).toHaveLength(1);
  });

  it('stops a version 1 object (no purpose) read as a manifest at 1 MiB of plaintext', async () => {
    const plain = await recordStream(
      Array.from({ length: 40 }, () => ({
        type: RecordType.FirestoreDocument,
        payload: doc(64 * 1024),
      })),
      { version: 1 },
    );
    const blockSize = 256 * 1024;
    const archive = craftArchive(key, rawBlocks(plain, blockSize), { blockSize, version: 1 });
    expect(archive.length).toBeGreaterThan(2.5 * 1024 * 1024);
    // Without the cap it reads (as an archive it is valid).
    expect((await openAllRecords(archive, ring)).records).toHaveLength(40);
    const { source, pulled } = counting(archive);
    await expect(openAllRecords(source, ring, { purpose: 'manifest' })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/too large for a manifest/),
    });
    // 1 MiB of plaintext plus the segments read ahead of the check.
    expect(pulled()).toBeLessThan(2 * 1024 * 1024);
  });

  it('refuses a version 1 object with a block size beyond a manifest before any segment', async () => {
    const plain = await recordStream([{ type: RecordType.Manifest, payload: Buffer.from('{}') }], {
      version: 1,
    });
    const archive = craftArchive(key, rawBlocks(plain, 4 * 1024 * 1024), {
      blockSize: 4 * 1024 * 1024,
      version: 1,
    });
    await expect(openAllRecords(archive, ring, { purpose: 'manifest' })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/too large for a manifest/),
    });
  });
});

describe('an envelope naming another key than the manifest is corruption (item 6)', () => {
  it('reports a flipped bit in the key id as corrupt when the key id is expected', async () => {
    const { bytes } = await sealJsonRecords(key, [
      { type: RecordType.FirestoreDocument, value: 1 },
    ]);
    const copy = Buffer.from(bytes);
    copy[HEADER_LENGTH + 5]! ^= 0x01; // inside the key id
    await expect(openAllRecords(copy, ring)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    await expect(openAllRecords(copy, ring, { expectKeyId: key.id })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining(`but its manifest names key ${key.id}`),
    });
    expect((await openAllRecords(bytes, ring, { expectKeyId: key.id })).records).toHaveLength(1);
  });
});
