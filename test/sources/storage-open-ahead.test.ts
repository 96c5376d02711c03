/**
 * The Storage export asks for the next object's bytes while the end of the current one
 * is still arriving (export.ts, OPEN_AHEAD_BYTES), so the service's time to answer a GET
 * overlaps with data instead of stalling the backup at every object. On a tiny local
 * server playing the JSON API, which records when each download was asked for: the
 * early request comes only near the end, never mixes its bytes into the current
 * object, and is closed when the export fails or its consumer stops.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { Crc32c } from '../../src/engine/sources/storage/crc32c.js';
import { OPEN_AHEAD_BYTES, exportObjects } from '../../src/engine/sources/storage/export.js';
import type { StorageItem } from '../../src/engine/sources/storage/records.js';

interface Served {
  name: string;
  content: Buffer;
}

/** What the server saw of one media request. */
interface MediaRequest {
  name: string;
  /** Bytes of every earlier object's response written when this request came in. */
  writtenBefore: Record<string, number>;
  /** The connection closed before the whole response was handed over: the client let go. */
  cutShort: boolean;
}

type Media = (
  res: ServerResponse,
  object: Served,
  written: (n: number) => void,
  requests: MediaRequest[],
) => void;

async function fakeStorage(
  objects: Served[],
  media: Media,
): Promise<{ host: string; requests: MediaRequest[]; close(): Promise<void> }> {
  const requests: MediaRequest[] = [];
  const written: Record<string, number> = {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('alt') === 'media') {
      const name = decodeURIComponent(url.pathname.split('/o/')[1]!);
      const object = objects.find((o) => o.name === name)!;
      const request: MediaRequest = { name, writtenBefore: { ...written }, cutShort: false };
      requests.push(request);
      res.on('close', () => (request.cutShort = !res.writableFinished));
      written[name] = 0;
      media(res, object, (n) => (written[name]! += n), requests);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        kind: 'storage#objects',
        items: objects.map(({ name, content }) => ({
          kind: 'storage#object',
          bucket: 'fake',
          name,
          generation: '1',
          size: String(content.length),
          crc32c: new Crc32c().update(content).base64(),
        })),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes the content in 256 KiB pieces, each after the client took the one before. */
function stream(res: ServerResponse, content: Buffer, written: (n: number) => void): void {
  res.writeHead(200, { 'content-length': String(content.length) });
  let at = 0;
  const more = (): void => {
    while (at < content.length) {
      const piece = content.subarray(at, at + 256 * 1024);
      at += piece.length;
      written(piece.length);
      if (!res.write(piece)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

/** The export's items in order, each object's bytes joined. */
async function collect(items: AsyncIterable<StorageItem>): Promise<[string, Buffer][]> {
  const out: [string, Buffer[]][] = [];
  for await (const item of items) {
    if (item.kind === 'object') out.push([item.record.name, []]);
    else out.at(-1)![1].push(Buffer.from(item.bytes));
  }
  return out.map(([name, parts]) => [name, Buffer.concat(parts)]);
}

const bucketOf = (host: string) => openStorageSource({ emulatorHost: host }).bucket('fake');

describe('the Storage export opening the next object ahead', () => {
  let server: Awaited<ReturnType<typeof fakeStorage>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('asks for the next object while the current one is still arriving, each read whole and in order', async () => {
    const objects = ['a.bin', 'b.bin', 'c.bin'].map((name) => ({
      name,
      content: randomBytes(600_000),
    }));
    // The first object's last bytes are held back until the next object is asked for
    // (at most 2 s): an export that waits for one object before asking for the next
    // gets them late, and the check below sees the order.
    server = await fakeStorage(objects, (res, object, written, requests) => {
      if (object.name !== 'a.bin') return stream(res, object.content, written);
      res.writeHead(200, { 'content-length': String(object.content.length) });
      res.write(object.content.subarray(0, 300_000));
      written(300_000);
      const started = Date.now();
      const finish = (): void => {
        if (requests.length > 1 || Date.now() - started > 2000) {
          written(300_000);
          res.end(object.content.subarray(300_000));
        } else setTimeout(finish, 5);
      };
      finish();
    });
    const items = await collect(exportObjects(bucketOf(server.host)));
    expect(items.map(([name]) => name)).toEqual(['a.bin', 'b.bin', 'c.bin']);
    for (const [i, [, bytes]] of items.entries()) {
      expect(bytes.equals(objects[i]!.content)).toBe(true);
    }
    // b was asked for before a had been sent whole.
    expect(server.requests[1]!.name).toBe('b.bin');
    expect(server.requests[1]!.writtenBefore['a.bin']).toBeLessThan(600_000);
  });

  it(`asks for the next object only within ${OPEN_AHEAD_BYTES / 1024 / 1024} MiB of the current one's end`, async () => {
    const large = randomBytes(OPEN_AHEAD_BYTES + 8 * 1024 * 1024);
    const objects = [
      { name: 'a-large.bin', content: large },
      { name: 'b.bin', content: randomBytes(1000) },
    ];
    server = await fakeStorage(objects, (res, object, written) =>
      stream(res, object.content, written),
    );
    const items = await collect(exportObjects(bucketOf(server.host)));
    expect(items.map(([name, bytes]) => [name, bytes.length])).toEqual([
      ['a-large.bin', large.length],
      ['b.bin', 1000],
    ]);
    // The client had read at most what the server had written when it asked for b.
    expect(server.requests[1]!.writtenBefore['a-large.bin']).toBeGreaterThanOrEqual(
      large.length - OPEN_AHEAD_BYTES,
    );
  });

  it('closes both downloads when the consumer stops at an object, before its content', async () => {
    // Larger than what socket buffers hold, smaller than OPEN_AHEAD_BYTES: neither
    // response can be handed over whole unless the client reads it.
    const objects = ['a.bin', 'b.bin'].map((name) => ({ name, content: randomBytes(24 << 20) }));
    server = await fakeStorage(objects, (res, object, written) =>
      stream(res, object.content, written),
    );
    for await (const item of exportObjects(bucketOf(server.host))) {
      expect(item).toMatchObject({ kind: 'object', record: { name: 'a.bin' } });
      break; // a consumer that fails or is cancelled stops here
    }
    // b.bin was asked for with a.bin (within the bound); neither is left open.
    await expect
      .poll(() => server!.requests.map((r) => [r.name, r.cutShort]), { timeout: 2000 })
      .toEqual([
        ['a.bin', true],
        ['b.bin', true],
      ]);
  });

  it('closes the download asked for ahead when the current object fails, exporting nothing of it', async () => {
    const objects = [
      { name: 'a.bin', content: randomBytes(600_000) },
      { name: 'b.bin', content: randomBytes(24 << 20) }, // more than socket buffers hold
    ];
    server = await fakeStorage(objects, (res, object, written, requests) => {
      if (object.name !== 'a.bin') return stream(res, object.content, written);
      res.writeHead(200, { 'content-length': String(object.content.length) });
      res.write(object.content.subarray(0, 300_000));
      // Cut once b was asked for: a never arrives whole.
      const cut = (): void => {
        if (requests.length > 1) res.socket?.destroy();
        else setTimeout(cut, 5);
      };
      cut();
    });
    const names: string[] = [];
    const run = (async () => {
      for await (const item of exportObjects(bucketOf(server!.host))) {
        if (item.kind === 'object') names.push(item.record.name);
      }
    })();
    await expect(run).rejects.toMatchObject({
      message: expect.stringContaining('gs://fake/a.bin'),
    });
    expect(names).toEqual(['a.bin']);
    // The early response of b is not left open.
    await expect.poll(() => server!.requests[1]?.cutShort, { timeout: 2000 }).toBe(true);
  });
});
