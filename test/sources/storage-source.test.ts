/**
 * Storage objects as a backup source, against the real Storage emulator (firebase-tools)
 * the suite already runs: export with metadata and download tokens, bounded content
 * records, restore into another bucket with create/overwrite, digests checked both ways,
 * and a large object streamed in flat memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '@google-cloud/storage';
import { describe, expect, inject, it } from 'vitest';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { exportObjects } from '../../src/engine/sources/storage/export.js';
import {
  CONTENT_CHUNK_MAX,
  ObjectDigest,
  type StorageItem,
} from '../../src/engine/sources/storage/records.js';
import { restoreObjects } from '../../src/engine/sources/storage/restore.js';

const emulatorHost = inject('gcsEmulatorHost');

/** The Storage emulator's file holding exactly `content` (it keeps blobs in a tmp folder). */
async function findBlob(content: Buffer): Promise<string> {
  for (const dir of await readdir(tmpdir())) {
    if (!dir.startsWith('fb-gcs-emu-')) continue;
    const files = await readdir(path.join(tmpdir(), dir)).catch(() => [] as string[]);
    for (const file of files) {
      const full = path.join(tmpdir(), dir, file);
      const data = await readFile(full).catch(() => undefined);
      if (data?.equals(content)) return full;
    }
  }
  throw new Error('The Storage emulator blob was not found.');
}
const bucketName = (): string => `src-${randomBytes(4).toString('hex')}`;

async function collect(items: AsyncIterable<StorageItem>): Promise<StorageItem[]> {
  const out: StorageItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** Uploads `size` random bytes as a stream (single request: the emulator's resumable uploads lose chunks). */
async function putRandom(bucket: Bucket, name: string, size: number): Promise<string> {
  const md5 = createHash('md5');
  let left = size;
  const body = Readable.from(
    (async function* () {
      while (left > 0) {
        const chunk = randomBytes(Math.min(left, 1024 * 1024));
        left -= chunk.length;
        md5.update(chunk);
        yield chunk;
      }
    })(),
  );
  await pipeline(
    body,
    bucket.file(name).createWriteStream({ resumable: false, validation: false }),
  );
  return md5.digest('base64');
}

async function contentOf(bucket: Bucket, name: string): Promise<Buffer> {
  const [data] = await bucket.file(name).download({ decompress: false });
  return data;
}

describe.skipIf(!emulatorHost)('Storage source on the Storage emulator', () => {
  const source = openStorageSource({ emulatorHost });
  const restoreOptions = { resumable: source.resumable, preconditions: false };

  async function seed(bucket: Bucket): Promise<void> {
    await bucket.file('photos/cat.jpg').save(randomBytes(3 * 1024 * 1024 + 17), {
      resumable: false,
      metadata: {
        contentType: 'image/jpeg',
        cacheControl: 'public, max-age=3600',
        contentDisposition: 'inline; filename="cat.jpg"',
        metadata: { firebaseStorageDownloadTokens: 'token-1,token-2', owner: 'alice', ünï: 'ç ö' },
      },
    });
    await bucket.file('photos/empty.txt').save(Buffer.alloc(0), {
      resumable: false,
      metadata: {
        contentType: 'text/plain',
        metadata: { firebaseStorageDownloadTokens: 'tok-empty' },
      },
    });
    await bucket.file('photos/sub dir/naïve name #1.bin').save(Buffer.from('hello'), {
      resumable: false,
      metadata: { contentLanguage: 'fr' },
    });
    await bucket.file('other/not-selected.txt').save(Buffer.from('outside the prefix'), {
      resumable: false,
    });
  }

  const SAME_AFTER_RESTORE = [
    'name',
    'size',
    'md5Hash',
    'crc32c',
    'contentType',
    'cacheControl',
    'contentDisposition',
    'contentLanguage',
    'metadata',
  ];
  const pick = (m: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(SAME_AFTER_RESTORE.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));

  it('round-trips objects under a prefix, metadata and download tokens included, into another bucket', async () => {
    const from = source.bucket(bucketName());
    await seed(from);
    const items = await collect(exportObjects(from, { prefix: 'photos/' }));
    const records = items.flatMap((i) => (i.kind === 'object' ? [i.record] : []));
    expect(records.map((r) => r.name).sort()).toEqual([
      'photos/cat.jpg',
      'photos/empty.txt',
      'photos/sub dir/naïve name #1.bin',
    ]);
    const cat = records.find((r) => r.name === 'photos/cat.jpg')!;
    expect(cat.metadata).toEqual({
      firebaseStorageDownloadTokens: 'token-1,token-2',
      owner: 'alice',
      ünï: 'ç ö',
    });
    // Whole records however the download was chunked: 3 MiB + 17 bytes is 4 records.
    const catContent: number[] = [];
    let current = '';
    for (const i of items) {
      if (i.kind === 'object') current = i.record.name;
      else if (current === 'photos/cat.jpg') catContent.push(i.bytes.length);
    }
    expect(catContent).toEqual([CONTENT_CHUNK_MAX, CONTENT_CHUNK_MAX, CONTENT_CHUNK_MAX, 17]);

    const to = source.bucket(bucketName());
    const report = await restoreObjects(to, iterate(items), { mode: 'create', ...restoreOptions });
    expect(report).toMatchObject({ created: 3, skipped: 0, failedCount: 0 });

    for (const record of records) {
      const [meta] = await to.file(record.name).getMetadata();
      expect(pick(meta as Record<string, unknown>)).toEqual(pick(record));
      expect((await contentOf(to, record.name)).equals(await contentOf(from, record.name))).toBe(
        true,
      );
    }
    const [restoredFiles] = await to.getFiles();
    expect(restoredFiles.map((f) => f.name)).not.toContain('other/not-selected.txt');

    // Archives of earlier builds hold one content record per HTTP chunk (tens of KiB):
    // the same objects cut that way restore the same.
    const older = items.flatMap((i): StorageItem[] => {
      if (i.kind === 'object') return [i];
      const pieces: StorageItem[] = [];
      for (let at = 0; at < i.bytes.length; at += 65_536) {
        pieces.push({ kind: 'content', bytes: i.bytes.subarray(at, at + 65_536) });
      }
      return pieces;
    });
    expect(older.length).toBeGreaterThan(items.length + 40);
    const again = source.bucket(bucketName());
    await expect(
      restoreObjects(again, iterate(older), { mode: 'create', ...restoreOptions }),
    ).resolves.toMatchObject({ created: 3, failedCount: 0 });
    for (const record of records) {
      const [meta] = await again.file(record.name).getMetadata();
      expect(pick(meta as Record<string, unknown>)).toEqual(pick(record));
    }
  });

  it('create skips existing objects, overwrite replaces them, a dry run writes nothing', async () => {
    const from = source.bucket(bucketName());
    await from.file('a.txt').save(Buffer.from('archived a'), { resumable: false });
    await from.file('b.txt').save(Buffer.from('archived b'), { resumable: false });
    const items = await collect(exportObjects(from));
    const to = source.bucket(bucketName());
    await to.file('a.txt').save(Buffer.from('current a'), { resumable: false });

    const plan = await restoreObjects(to, iterate(items), {
      mode: 'create',
      dryRun: true,
      ...restoreOptions,
    });
    expect(plan.planned).toEqual({ create: 1, overwrite: 0, skip: 1 });
    expect((await to.file('b.txt').exists())[0]).toBe(false);

    const created = await restoreObjects(to, iterate(items), { mode: 'create', ...restoreOptions });
    expect(created).toMatchObject({ created: 1, skipped: 1 });
    expect((await contentOf(to, 'a.txt')).toString()).toBe('current a');
    expect((await contentOf(to, 'b.txt')).toString()).toBe('archived b');

    const overwritten = await restoreObjects(to, iterate(items), {
      mode: 'overwrite',
      ...restoreOptions,
    });
    expect(overwritten).toMatchObject({ overwritten: 2, created: 0 });
    expect((await contentOf(to, 'a.txt')).toString()).toBe('archived a');
  });

  it('refuses archived content that does not match its digest, and leaves no object behind', async () => {
    const from = source.bucket(bucketName());
    await from.file('x.bin').save(Buffer.from('the real bytes'), { resumable: false });
    const items = await collect(exportObjects(from));
    const tampered = items.map((i) =>
      i.kind === 'content' ? { ...i, bytes: Buffer.from('the REAL bytes') } : i,
    );
    const to = source.bucket(bucketName());
    await expect(
      restoreObjects(to, iterate(tampered), { mode: 'create', ...restoreOptions }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: /CRC32C/ });
    expect((await to.file('x.bin').exists())[0]).toBe(false);
  });

  it('pages through a listing without losing or repeating objects', async () => {
    const bucket = source.bucket(bucketName());
    const names = Array.from({ length: 7 }, (_, i) => `p/obj-${i}`);
    for (const name of names) await bucket.file(name).save(Buffer.from(name), { resumable: false });
    const items = await collect(exportObjects(bucket, { pageSize: 2 }));
    const records = items.flatMap((i) => (i.kind === 'object' ? [i.record.name] : []));
    expect(records).toEqual(names);
  });

  it('fails the export when the bytes read are not the bytes the service hashed', async () => {
    const bucket = source.bucket(bucketName());
    const content = Buffer.from(`marker ${randomBytes(16).toString('hex')}`);
    await bucket.file('rot.txt').save(content, { resumable: false });
    // Rot at rest, behind the emulator's back: flip one byte of its blob on disk.
    const blob = await findBlob(content);
    const rotten = Buffer.from(content);
    rotten[0] = rotten[0]! ^ 1;
    await writeFile(blob, rotten);
    await expect(collect(exportObjects(bucket))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/rot\.txt read back as CRC32C/),
    });
  });

  it('detects a damaged byte deep inside a streamed object of many chunks and records', async () => {
    const bucket = source.bucket(bucketName());
    // Several content records, each of many HTTP chunks; the damage is in the third MiB,
    // so the running CRC32C has been carried across many native updates before it.
    const content = randomBytes(3 * CONTENT_CHUNK_MAX + 12_345);
    await bucket.file('big/rot.bin').save(content, { resumable: false, validation: false });
    const blob = await findBlob(content);
    const rotten = Buffer.from(content);
    const at = 2 * CONTENT_CHUNK_MAX + 777;
    rotten[at] = rotten[at]! ^ 0x10;
    await writeFile(blob, rotten);
    let records = 0;
    const exported = (async () => {
      for await (const item of exportObjects(bucket)) if (item.kind === 'content') records++;
    })();
    await expect(exported).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/big\/rot\.bin read back as CRC32C/),
    });
    // The check came at the end of the stream, after every record was read.
    expect(records).toBe(4);
  });

  it('refuses a streamed object whose middle record was altered in the archive', async () => {
    const from = source.bucket(bucketName());
    await from
      .file('many.bin')
      .save(randomBytes(3 * CONTENT_CHUNK_MAX + 5), { resumable: false, validation: false });
    const items = await collect(exportObjects(from));
    expect(items.filter((i) => i.kind === 'content')).toHaveLength(4);
    let seen = 0;
    const tampered = items.map((i) => {
      if (i.kind !== 'content' || seen++ !== 1) return i;
      const bytes = Buffer.from(i.bytes);
      bytes[bytes.length >> 1]! ^= 1;
      return { kind: 'content' as const, bytes };
    });
    const to = source.bucket(bucketName());
    await expect(
      restoreObjects(to, iterate(tampered), { mode: 'create', ...restoreOptions }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: /CRC32C/ });
    expect((await to.file('many.bin').exists())[0]).toBe(false);
  });

  it('names the digest that differs', () => {
    const digest = new ObjectDigest({ bucket: 'b', name: 'n', size: '4' });
    digest.update(Buffer.from('abc'));
    expect(digest.mismatch()).toMatch(/3 bytes instead of 4/);
    const again = new ObjectDigest({ bucket: 'b', name: 'n', size: '3', crc32c: 'AAAAAA==' });
    again.update(Buffer.from('abc'));
    expect(again.mismatch()).toMatch(/CRC32C .* instead of AAAAAA==/);
  });

  it('checks the CRC32C when the record has one, else the MD5', () => {
    const abc = Buffer.from('abc');
    const md5Hash = createHash('md5').update(abc).digest('base64');
    const crc32c = 'Nks/tw=='; // CRC32C("abc") = 0x364b3fb7, as the JSON API writes it
    const check = (record: { md5Hash?: string; crc32c?: string }): string | undefined => {
      const digest = new ObjectDigest({ bucket: 'b', name: 'n', size: '3', ...record });
      digest.update(abc);
      return digest.mismatch();
    };
    expect(check({ md5Hash, crc32c })).toBeUndefined();
    expect(check({ md5Hash })).toBeUndefined();
    expect(check({ md5Hash, crc32c: 'AAAAAA==' })).toMatch(/^CRC32C /);
    expect(check({ md5Hash: 'AAAAAAAAAAAAAAAAAAAAAA==' })).toMatch(/^MD5 /);
  });

  it('streams a 120 MiB object (the emulator takes at most 130 MB a request) out and back in flat memory', async () => {
    const size = 120 * 1024 * 1024;
    const from = source.bucket(bucketName());
    const md5 = await putRandom(from, 'big/video.bin', size);
    const to = source.bucket(bucketName());
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    try {
      // Export piped straight into the restore: nothing in between holds the object.
      const report = await restoreObjects(to, exportObjects(from), {
        mode: 'create',
        ...restoreOptions,
      });
      expect(report).toMatchObject({ created: 1, bytes: size, failedCount: 0 });
    } finally {
      clearInterval(timer);
    }
    const [meta] = await to.file('big/video.bin').getMetadata();
    expect(meta.md5Hash).toBe(md5);
    expect(peak - before).toBeLessThan(60 * 1024 * 1024);
  }, 180_000);
});
