/**
 * The Storage export fills its content records in reused buffers (content-batcher.ts);
 * a buffer may be filled again only after the archive writer is done with it. If it
 * ever were reused too early, some object's bytes in the archive would be another
 * object's: this round trip through a real archive, written the way a backup writes it
 * (sealing on the worker thread, 1 MiB blocks), compares every object's SHA-256 and the
 * service's CRC32C with what the archive gives back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ArchiveReader } from '../../src/engine/archive/reader.js';
import { RecordType } from '../../src/engine/archive/records.js';
import { ArchiveWriter } from '../../src/engine/archive/writer.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import {
  decodeSourceRecord,
  writeStorageRecords,
} from '../../src/engine/operations/source-records.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { exportObjects } from '../../src/engine/sources/storage/export.js';
import { CONTENT_CHUNK_MAX, ObjectDigest } from '../../src/engine/sources/storage/records.js';

const gcsHost = inject('gcsEmulatorHost');
const MiB = 1024 * 1024;

async function collectBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.skipIf(!gcsHost)('Storage export buffer reuse', () => {
  it('round-trips many objects of distinct content through a backup-style archive, every digest equal', async () => {
    const bucket = openStorageSource({ emulatorHost: gcsHost }).bucket(
      `reuse-${randomBytes(4).toString('hex')}`,
    );
    // Sizes around record boundaries, so records end mid-chunk, exactly on one, and
    // objects share no record; each object's bytes are its own random bytes.
    const sizes = [0, 1, 4096, MiB - 1, MiB, MiB + 1, 2 * MiB + 17, 3 * MiB - 5, 70_000];
    const expected = new Map<string, string>();
    for (let i = 0; i < 24; i++) {
      const body = randomBytes(sizes[i % sizes.length]!);
      const name = `o/${String(i).padStart(2, '0')}.bin`;
      await bucket.file(name).save(body, { resumable: false });
      expected.set(name, createHash('sha256').update(body).digest('hex'));
    }

    const key = MasterKey.generate();
    const writer = new ArchiveWriter({ key, sealOffThread: true });
    const stored = collectBytes(writer.output);
    let released = 0;
    const counted = (async function* () {
      for await (const item of exportObjects(bucket)) {
        if (item.kind === 'content' && item.release) {
          const release = item.release;
          yield { ...item, release: () => (released++, release()) };
        } else yield item;
      }
    })();
    await writeStorageRecords(writer, counted);
    await writer.finish();
    // The writer's loop gave the pooled buffers back: reuse did happen.
    expect(released).toBeGreaterThan(10);

    const reader = new ArchiveReader(
      (async function* () {
        yield await stored;
      })(),
      new Keyring(key),
    );
    const got = new Map<string, string>();
    let current: { name: string; hash: ReturnType<typeof createHash>; digest: ObjectDigest };
    const close = (): void => {
      if (!current) return;
      got.set(current.name, current.hash.digest('hex'));
      expect(current.digest.mismatch()).toBeUndefined();
    };
    for await (const raw of reader.records()) {
      const r = decodeSourceRecord(raw);
      if (r?.kind === 'storage-object') {
        close();
        current = {
          name: r.record.name,
          hash: createHash('sha256'),
          digest: new ObjectDigest(r.record),
        };
      } else if (r?.kind === 'storage-content') {
        expect(r.bytes.length).toBeLessThanOrEqual(CONTENT_CHUNK_MAX);
        current!.hash.update(r.bytes);
        current!.digest.update(r.bytes);
      } else if (raw.type !== RecordType.Trailer) {
        throw new Error(`unexpected record type ${raw.type}`);
      }
    }
    close();
    expect(got).toEqual(expected);
  }, 120_000);
});
