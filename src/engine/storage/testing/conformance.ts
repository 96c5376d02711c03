import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors.js';
import type { StorageBackend } from '../backend.js';

export interface ConformanceTarget {
  backend: StorageBackend;
  /** Called once after the suite. */
  cleanup?: () => Promise<void>;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

async function listKeys(backend: StorageBackend, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of backend.list(prefix)) keys.push(info.key);
  return keys.sort();
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAppError(error) ? error.code : error).toBe(code);
}

/**
 * The guarantees of `StorageBackend`, as tests. Every back end's own test file calls
 * this with a factory; nothing else is needed to prove a new back end conforms.
 */
export function describeStorageConformance(
  name: string,
  open: () => Promise<ConformanceTarget>,
): void {
  describe(`storage conformance: ${name}`, () => {
    let target: ConformanceTarget;
    let b: StorageBackend;
    // A fresh prefix per suite run keeps shared remote buckets independent.
    const p = `conf-${randomBytes(4).toString('hex')}/`;

    beforeAll(async () => {
      target = await open();
      b = target.backend;
    });
    afterAll(async () => {
      await target?.cleanup?.();
    });

    it('stores bytes and reads them back exactly', async () => {
      const data = randomBytes(100_000);
      const info = await b.put(`${p}a/one.bin`, data);
      expect(info.size).toBe(data.length);
      expect(await readAll(await b.get(`${p}a/one.bin`))).toEqual(data);
      const st = await b.stat(`${p}a/one.bin`);
      expect(st.size).toBe(data.length);
      expect(st.modified).toBeInstanceOf(Date);
    });

    it('accepts a stream body of unknown length, across many chunks', async () => {
      const chunks = Array.from({ length: 40 }, () => randomBytes(64 * 1024 + 7));
      await b.put(`${p}stream.bin`, Readable.from(chunks));
      // Buffer.equals, not toEqual: a deep compare of 2.6 MB byte by byte took 28 s here.
      const back = await readAll(await b.get(`${p}stream.bin`));
      expect(back.length).toBe(40 * (64 * 1024 + 7));
      expect(back.equals(Buffer.concat(chunks))).toBe(true);
    });

    it('stores an empty object', async () => {
      await b.put(`${p}empty`, new Uint8Array(0));
      expect((await b.stat(`${p}empty`)).size).toBe(0);
      expect((await readAll(await b.get(`${p}empty`))).length).toBe(0);
    });

    it('replaces an object whole on a second put', async () => {
      await b.put(`${p}replace`, Buffer.from('first version, longer'));
      await b.put(`${p}replace`, Buffer.from('second'));
      expect((await readAll(await b.get(`${p}replace`))).toString()).toBe('second');
    });

    it('reads a byte range', async () => {
      const data = randomBytes(5000);
      await b.put(`${p}range.bin`, data);
      expect(
        await readAll(await b.get(`${p}range.bin`, { range: { start: 100, end: 1100 } })),
      ).toEqual(data.subarray(100, 1100));
      expect(await readAll(await b.get(`${p}range.bin`, { range: { start: 4990 } }))).toEqual(
        data.subarray(4990),
      );
    });

    it('answers NOT_FOUND for a missing object, and deletes idempotently', async () => {
      await expectCode(b.get(`${p}missing`), 'NOT_FOUND');
      await expectCode(b.stat(`${p}missing`), 'NOT_FOUND');
      await b.delete(`${p}missing`);
      await b.put(`${p}gone`, Buffer.from('x'));
      await b.delete(`${p}gone`);
      await expectCode(b.stat(`${p}gone`), 'NOT_FOUND');
    });

    it('lists by prefix, including nested keys, and nothing outside it', async () => {
      await b.put(`${p}list/x/1`, Buffer.from('1'));
      await b.put(`${p}list/x/2`, Buffer.from('22'));
      await b.put(`${p}list/y`, Buffer.from('333'));
      await b.put(`${p}listing-other`, Buffer.from('4'));
      expect(await listKeys(b, `${p}list/`)).toEqual([
        `${p}list/x/1`,
        `${p}list/x/2`,
        `${p}list/y`,
      ]);
      expect(await listKeys(b, `${p}list/x/`)).toEqual([`${p}list/x/1`, `${p}list/x/2`]);
      const sizes: Record<string, number> = {};
      for await (const info of b.list(`${p}list/`)) sizes[info.key] = info.size;
      expect(sizes[`${p}list/y`]).toBe(3);
      expect(await listKeys(b, `${p}nothing-here/`)).toEqual([]);
    });

    it('leaves nothing visible when the body fails mid-way', async () => {
      async function* failing(): AsyncIterable<Uint8Array> {
        yield randomBytes(1000);
        throw new Error('source died');
      }
      await expect(b.put(`${p}broken`, failing())).rejects.toBeTruthy();
      await expectCode(b.stat(`${p}broken`), 'NOT_FOUND');
      expect(await listKeys(b, `${p}broken`)).toEqual([]);
    });

    it('keeps the previous object when a replacing put fails', async () => {
      await b.put(`${p}keep`, Buffer.from('good'));
      async function* failing(): AsyncIterable<Uint8Array> {
        yield Buffer.from('bad');
        throw new Error('source died');
      }
      await expect(b.put(`${p}keep`, failing())).rejects.toBeTruthy();
      expect((await readAll(await b.get(`${p}keep`))).toString()).toBe('good');
    });

    it('streams a body larger than one upload part (multipart on S3)', async () => {
      const chunk = randomBytes(1024 * 1024);
      const chunks = Array.from({ length: 12 }, (_, i) =>
        Buffer.concat([chunk.subarray(i), chunk.subarray(0, i)]),
      );
      await b.put(`${p}parts.bin`, Readable.from(chunks));
      // Buffer.equals: vitest's deep equality is very slow on megabytes.
      expect((await readAll(await b.get(`${p}parts.bin`))).equals(Buffer.concat(chunks))).toBe(
        true,
      );
      expect(await listKeys(b, `${p}parts`)).toEqual([`${p}parts.bin`]);
    });

    it('refuses keys that could escape the destination', async () => {
      for (const key of ['../x', 'a/../../x', '/abs', 'a//b', '', 'a\\b']) {
        await expectCode(b.put(key, Buffer.from('x')), 'INVALID_ARGUMENT');
      }
    });
  });
}
