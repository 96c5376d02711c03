/**
 * An archive written in place (ADR 0029): the sealing thread writes the prelude and every
 * segment into a local folder's file itself. It must be the same archive as one streamed
 * through `output`, and a failure (a full disk, an abort) must leave nothing behind and
 * nothing writing into a file that its owner is about to close.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canMountTinyDisk, mountTinyDisk } from '../../../test/helpers/tiny-disk.js';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import { LocalBackend } from '../storage/local/local-backend.js';
import type { FileSink } from '../storage/backend.js';
import { RecordType } from './records.js';
import { openAllRecords } from './small-archive.js';
import { ArchiveWriter, type WriteSummary } from './writer.js';

const key = MasterKey.generate();
const BLOCK = 64 * 1024;

/**
 * Records of awkward sizes: within a block, across blocks, several blocks; every other
 * one incompressible. The same bytes each call, so two archives compress alike.
 */
const payloads = Array.from({ length: 30 }, (_, i) => {
  const size = [1, 4095, BLOCK, BLOCK + 1, 9000, 3 * BLOCK + 5][i % 6]!;
  return i % 2 ? randomBytes(size) : Buffer.alloc(size, i);
});

async function writeRecords(writer: ArchiveWriter, count: number): Promise<void> {
  await writer.writeJson(RecordType.BackupHeader, { format: 1 });
  for (let i = 0; i < count; i++) {
    await writer.write(RecordType.StorageContent, payloads[i % payloads.length]!);
    await writer.writeText(RecordType.FirestoreDocument, JSON.stringify({ i }));
  }
}

/** Tells every `wrote` call, as a sink's owner would see them. */
function watched(file: FileSink): { file: FileSink; reported: number[] } {
  const reported: number[] = [];
  return {
    reported,
    file: {
      fd: file.fd,
      wrote: (bytes) => {
        reported.push(bytes);
        file.wrote(bytes);
      },
      describe: (error) => file.describe(error),
      commit: () => file.commit(),
      abort: () => file.abort(),
    },
  };
}

describe('ArchiveWriter writing into a file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-in-place-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the archive its stream would carry: same records, size, digest and layout', async () => {
    const backend = new LocalBackend(dir);
    const { file, reported } = watched(await backend.openFile('a/in-place.fbk'));
    const inPlace = new ArchiveWriter({ key, blockSize: BLOCK, sealOffThread: true, file });
    await writeRecords(inPlace, 30);
    const summary = await inPlace.finish();
    await file.commit();

    const streamed = new ArchiveWriter({ key, blockSize: BLOCK, sealOffThread: true });
    const chunks: Buffer[] = [];
    streamed.output.on('data', (c: Buffer) => chunks.push(c));
    await writeRecords(streamed, 30);
    const reference: WriteSummary = await streamed.finish();

    const bytes = await readFile(path.join(dir, 'a', 'in-place.fbk'));
    expect(bytes.length).toBe(summary.archiveBytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(summary.archiveSha256);
    // Random data keys: the bytes differ, the records and where segments start do not.
    expect(summary.archiveBytes).toBe(Buffer.concat(chunks).length);
    expect(summary.layout.segmentOffsets).toEqual(reference.layout.segmentOffsets);
    expect(summary.trailer).toEqual(reference.trailer);
    const read = await openAllRecords(bytes, new Keyring(key));
    expect(read.summary.archiveSha256).toBe(summary.archiveSha256);
    expect(read.records).toHaveLength(61);
    // The owner heard of every segment as it landed, up to the last byte.
    expect(reported.length).toBeGreaterThan(10);
    expect(reported).toEqual([...reported].sort((a, b) => a - b));
    expect(reported.at(-1)).toBe(summary.archiveBytes);
    expect(await readdir(path.join(dir, 'a'))).toEqual(['in-place.fbk']);
  });

  it('stops writing into the file before stopped() resolves after an abort', async () => {
    const backend = new LocalBackend(dir);
    const file = await backend.openFile('stopped.fbk');
    const writer = new ArchiveWriter({ key, blockSize: BLOCK, sealOffThread: true, file });
    await writeRecords(writer, 12);
    writer.abort(new Error('the backup failed elsewhere'));
    await writer.stopped();
    const temp = (await readdir(dir)).find((name) => name.startsWith('.fbtmp-'))!;
    const size = (await stat(path.join(dir, temp))).size;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await stat(path.join(dir, temp))).size).toBe(size);
    await file.abort();
    expect(await readdir(dir)).toEqual([]);
    await expect(writer.write(RecordType.StorageContent, Buffer.alloc(1))).rejects.toThrow(
      /failed elsewhere/,
    );
  });

  it.runIf(canMountTinyDisk)(
    'fails with NO_SPACE when the disk fills mid-archive, and the temporary goes',
    async () => {
      const disk = mountTinyDisk(512)!;
      try {
        const backend = new LocalBackend(disk.dir);
        const file = await backend.openFile('full.fbk');
        const writer = new ArchiveWriter({ key, blockSize: BLOCK, sealOffThread: true, file });
        const writing = (async () => {
          // 2 MiB of incompressible records into 512 KiB: segments fail once it is full.
          for (let i = 0; i < 32; i++)
            await writer.write(RecordType.StorageContent, randomBytes(BLOCK));
          await writer.finish();
        })();
        await expect(writing).rejects.toMatchObject({
          code: 'NO_SPACE',
          message: expect.stringMatching(/Cannot write full\.fbk in .*the disk is full/),
        });
        writer.abort(new Error('failed'));
        await writer.stopped();
        await file.abort();
        expect(await readdir(disk.dir)).toEqual([]);
      } finally {
        disk.unmount();
      }
    },
  );

  it('refuses a file without the sealing thread, which is what writes into it', async () => {
    const backend = new LocalBackend(dir);
    const file = await backend.openFile('inline.fbk');
    expect(() => new ArchiveWriter({ key, file })).toThrow(/sealing thread/);
    await file.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
