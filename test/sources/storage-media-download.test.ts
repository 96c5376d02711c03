/**
 * The Storage source's own media reader (media-download.ts): one plain GET per object
 * instead of the library's createReadStream. On the real Storage emulator: bytes as
 * stored (a gzip-encoded object is not transcoded), awkward names, an object deleted
 * between listing and download, and the library fallback used when a proxy is set. On a
 * tiny local server playing the JSON API: a connection cut midway and a body that ends
 * short fail the backup (nothing left visible), only the start of a download is retried,
 * and the service's own message is kept.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Bucket } from '@google-cloud/storage';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { Crc32c } from '../../src/engine/sources/storage/crc32c.js';
import { exportObjects } from '../../src/engine/sources/storage/export.js';
import { mediaUrl, openMedia } from '../../src/engine/sources/storage/media-download.js';
import {
  toObjectRecord,
  type StorageItem,
  type StorageObjectRecord,
} from '../../src/engine/sources/storage/records.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';

const emulatorHost = inject('gcsEmulatorHost');

/** Each object's bytes as exported, by name (content items kept: no release). */
async function exported(
  items: AsyncIterable<StorageItem>,
): Promise<Map<string, { record: StorageObjectRecord; bytes: Buffer }>> {
  const out = new Map<string, { record: StorageObjectRecord; bytes: Buffer }>();
  let current: { record: StorageObjectRecord; parts: Buffer[] } | undefined;
  const close = (): void => {
    if (current) {
      out.set(current.record.name, {
        record: current.record,
        bytes: Buffer.concat(current.parts),
      });
    }
  };
  for await (const item of items) {
    if (item.kind === 'object') {
      close();
      current = { record: item.record, parts: [] };
    } else {
      current?.parts.push(Buffer.from(item.bytes));
    }
  }
  close();
  return out;
}

const bucketName = (): string => `media-${randomBytes(4).toString('hex')}`;

describe.skipIf(!emulatorHost)('the media reader on the Storage emulator', () => {
  const source = openStorageSource({ emulatorHost });

  it('reads a gzip-encoded object as its stored (compressed) bytes, digest checked', async () => {
    const bucket = source.bucket(bucketName());
    const text = Buffer.from('all work and no play '.repeat(20_000));
    const stored = gzipSync(text);
    await bucket.file('logs/app.log').save(stored, {
      resumable: false,
      validation: false,
      metadata: { contentType: 'text/plain', contentEncoding: 'gzip' },
    });
    const objects = await exported(exportObjects(bucket));
    const got = objects.get('logs/app.log');
    expect(got?.record.contentEncoding).toBe('gzip');
    expect(got?.bytes.length).toBe(stored.length);
    expect(got?.bytes.equals(stored)).toBe(true);
  });

  it('reads objects whose names hold spaces, unicode, #, ?, %, + and slashes', async () => {
    const bucket = source.bucket(bucketName());
    const names = [
      'a b/c d.txt',
      'ünïcödé/日本語 🎉.bin',
      'hash#tag?query=1&x=%20%2F.txt',
      'plus+sign;semi:colon@at.txt',
      'trailing slash dir/',
      'dots/../not-a-parent.txt',
    ];
    const contents = new Map(names.map((n) => [n, randomBytes(1000 + n.length)]));
    for (const [name, body] of contents) await bucket.file(name).save(body, { resumable: false });
    const objects = await exported(exportObjects(bucket));
    expect([...objects.keys()].sort()).toEqual([...names].sort());
    for (const [name, body] of contents) expect(objects.get(name)?.bytes.equals(body)).toBe(true);
  });

  it('reports an object deleted between the listing and its download as vanished, and goes on', async () => {
    const bucket = source.bucket(bucketName());
    await bucket.file('1-first.bin').save(randomBytes(2000), { resumable: false });
    await bucket.file('2-next.bin').save(randomBytes(2000), { resumable: false });
    await bucket.file('3-deleted.bin').save(randomBytes(2000), { resumable: false });
    await bucket.file('4-last.bin').save(randomBytes(2000), { resumable: false });
    const vanished: string[] = [];
    const names: string[] = [];
    for await (const item of exportObjects(bucket, { onVanished: (n) => vanished.push(n) })) {
      if (item.kind !== 'object') continue;
      names.push(item.record.name);
      // The listing (one page) is done by now, and the next object's download already
      // asked for (it is near its end): delete the one after behind the export's back.
      if (item.record.name === '1-first.bin') await bucket.file('3-deleted.bin').delete();
    }
    expect(names).toEqual(['1-first.bin', '2-next.bin', '4-last.bin']);
    expect(vanished).toEqual(['3-deleted.bin']);
  });

  it('never exports the bytes of a newer generation under the listed record', async () => {
    const bucket = source.bucket(bucketName());
    const first = randomBytes(3000);
    await bucket.file('1-trigger.bin').save(randomBytes(10), { resumable: false });
    await bucket.file('2-next.bin').save(randomBytes(10), { resumable: false });
    await bucket.file('3-doc.bin').save(first, { resumable: false });
    const run = exported(
      (async function* () {
        for await (const item of exportObjects(bucket)) {
          // Listed already (and the next object asked for): overwrite the one after
          // before it is downloaded.
          if (item.kind === 'object' && item.record.name === '1-trigger.bin') {
            await bucket.file('3-doc.bin').save(randomBytes(3000), { resumable: false });
          }
          yield item;
        }
      })(),
    );
    // Cloud Storage serves the pinned generation (or 404 once it is gone); the emulator
    // ignores `generation` and serves the newest, which the CRC32C check then refuses.
    const outcome = await run.then(
      (objects) => objects.get('3-doc.bin')?.bytes,
      (error: unknown) => error,
    );
    if (Buffer.isBuffer(outcome)) expect(outcome.equals(first)).toBe(true);
    else if (outcome !== undefined) expect(outcome).toMatchObject({ code: 'INTEGRITY' });
  });

  it('falls back to the library when a proxy variable is set, with the same results', async () => {
    const bucket = source.bucket(bucketName());
    const content = randomBytes(300_000);
    await bucket.file('via library.bin').save(content, { resumable: false });
    const [files] = await bucket.getFiles();
    const listed = toObjectRecord(files[0]!.metadata as Record<string, unknown>);
    // The proxy variable is only shown to the chooser: the library itself reads
    // process.env, so it connects directly here.
    const env = { HTTPS_PROXY: 'http://127.0.0.1:9' };
    const body = await openMedia(bucket, listed, (chunk: Buffer) => [chunk], { env });
    const parts: Buffer[] = [];
    for (let b = await body!.next(); b; b = await body!.next()) parts.push(...b);
    expect(Buffer.concat(parts).equals(content)).toBe(true);
    await bucket.file('via library.bin').delete();
    expect(await openMedia(bucket, listed, (chunk: Buffer) => [chunk], { env })).toBeUndefined();
  });
});

/** A JSON API stand-in: one listed object, its media answered by `media`. */
async function fakeStorage(
  content: Buffer,
  media: (res: ServerResponse, attempt: number) => void,
): Promise<{ host: string; mediaRequests: IncomingMessage[]; close(): Promise<void> }> {
  const crc = new Crc32c();
  crc.update(content);
  const mediaRequests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('alt') === 'media') {
      mediaRequests.push(req);
      media(res, mediaRequests.length);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        kind: 'storage#objects',
        items: [
          {
            kind: 'storage#object',
            bucket: 'fake',
            name: 'dir/obj.bin',
            generation: '42',
            size: String(content.length),
            crc32c: crc.base64(),
          },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    mediaRequests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the media reader against a faulty server', () => {
  const content = randomBytes(1_000_000);
  let server: Awaited<ReturnType<typeof fakeStorage>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const bucketOf = (host: string): Bucket =>
    openStorageSource({ emulatorHost: host }).bucket('fake');

  it('asks for the listed generation, the stored bytes and sends the client credentials', async () => {
    server = await fakeStorage(content, (res) => res.end(content));
    const objects = await exported(exportObjects(bucketOf(server.host)));
    expect(objects.get('dir/obj.bin')?.bytes.equals(content)).toBe(true);
    const req = server.mediaRequests[0]!;
    expect(req.url).toBe('/storage/v1/b/fake/o/dir%2Fobj.bin?alt=media&generation=42');
    expect(req.headers['accept-encoding']).toBe('gzip');
    expect(req.headers.authorization).toBe('Bearer owner');
    expect(
      mediaUrl(bucketOf(server.host), { bucket: 'fake', name: 'a#b?c%d', size: '0' }).pathname,
    ).toBe('/storage/v1/b/fake/o/a%23b%3Fc%25d');
  });

  it('fails the backup whole when the connection is cut midway, leaving nothing visible', async () => {
    server = await fakeStorage(content, (res) => {
      res.writeHead(200, { 'content-length': String(content.length) });
      res.write(content.subarray(0, 300_000), () => res.socket?.destroy());
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-media-cut-'));
    const backup = runBackup({
      destination: new LocalBackend(dir),
      keyring: new Keyring(MasterKey.generate()),
      source: { projectId: 'demo-media' },
      sources: ['storage'],
      storage: { projectId: 'demo-media', emulatorHost: server.host, buckets: ['fake'] },
    });
    await expect(backup).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('gs://fake/dir/obj.bin'),
    });
    // A cut after the first byte is not retried (the bytes so far are in the archive).
    expect(server.mediaRequests).toHaveLength(1);
    expect((await readdir(dir)).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('refuses a body that ends cleanly but short (no Content-Length): never a short object', async () => {
    server = await fakeStorage(content, (res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(content.subarray(0, 400_000));
    });
    await expect(exported(exportObjects(bucketOf(server.host)))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('400000 bytes instead of 1000000'),
    });
  });

  it('retries the start of a download the service could not serve', async () => {
    server = await fakeStorage(content, (res, attempt) => {
      if (attempt < 3) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 503, message: 'Backend Error' } }));
      } else {
        res.end(content);
      }
    });
    const objects = await exported(exportObjects(bucketOf(server.host)));
    expect(objects.get('dir/obj.bin')?.bytes.equals(content)).toBe(true);
    expect(server.mediaRequests).toHaveLength(3);
  });

  it("fails at once on a refusal, with the service's message", async () => {
    server = await fakeStorage(content, (res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            code: 403,
            message: 'owner does not have storage.objects.get access',
            errors: [{ reason: 'forbidden' }],
          },
        }),
      );
    });
    await expect(exported(exportObjects(bucketOf(server.host)))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(
        /Cannot read gs:\/\/fake\/dir\/obj\.bin: .*storage\.objects\.get access/,
      ),
    });
    expect(server.mediaRequests).toHaveLength(1);
  });
});
