import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveReader } from '../archive/reader.js';
import { RecordType } from '../archive/records.js';
import { sealJsonRecords } from '../archive/small-archive.js';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import { PassBinding } from './bind-to-manifest.js';

const key = MasterKey.generate();
const keyring = new Keyring(key);

async function archive(n: number): Promise<Buffer> {
  const records = Array.from({ length: n }, (_, i) => ({
    type: RecordType.FirestoreDocument,
    value: { i, pad: 'x'.repeat(300 + (i % 7)) },
  }));
  return (await sealJsonRecords(key, records, { blockSize: 4096 })).bytes;
}

/** Reads `bytes` through the binding; returns how many records were released. */
async function read(bytes: Buffer, pass: PassBinding): Promise<number> {
  const reader = new ArchiveReader(Readable.from([bytes]), keyring, pass.hooks);
  let n = 0;
  try {
    for await (const _ of reader.records()) n++;
  } catch (error) {
    throw pass.explain(error);
  }
  if (!pass.checking) pass.firstPassDone(reader.summary!);
  else pass.checkSecondPass(reader.summary!);
  return n;
}

describe('PassBinding: the second read of a restore is the first one', () => {
  it('lets the same bytes through', async () => {
    const bytes = await archive(200);
    const pass = new PassBinding('b1');
    expect(await read(bytes, pass)).toBe(200);
    expect(await read(bytes, pass)).toBe(200);
  });

  it('refuses another archive of the same records before releasing any record', async () => {
    const pass = new PassBinding('b1');
    await read(await archive(200), pass);
    let released = 0;
    const reader = new ArchiveReader(Readable.from([await archive(200)]), keyring, pass.hooks);
    const error = await (async () => {
      for await (const _ of reader.records()) released++;
    })().catch((e: unknown) => e);
    expect(released).toBe(0);
    expect(error).toMatchObject({
      code: 'ARCHIVE_MISMATCH',
      message: expect.stringMatching(
        /^b1: the archive changed while it was being restored \(its header or key envelope differs/,
      ),
    });
  });

  it('names a truncated or extended second read as a change, not as corruption', async () => {
    const bytes = await archive(200);
    const pass = new PassBinding('b1');
    await read(bytes, pass);
    await expect(read(bytes.subarray(0, bytes.length - 10), pass)).rejects.toMatchObject({
      code: 'ARCHIVE_MISMATCH',
      message: expect.stringContaining('changed while it was being restored'),
    });
    await expect(read(Buffer.concat([bytes, bytes.subarray(30)]), pass)).rejects.toMatchObject({
      code: 'ARCHIVE_MISMATCH',
    });
  });
});
