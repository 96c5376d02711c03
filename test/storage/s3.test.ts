import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { expectCorruptionAtRestNamed } from '../helpers/corruption-at-rest.js';
import { toErrorData } from '../../src/shared/errors.js';
import type { StorageBackend } from '../../src/engine/storage/backend.js';
import { openDestination, redactUrl, withVerification } from '../../src/engine/storage/index.js';
import { FaultyBackend } from '../../src/engine/storage/testing/faulty-backend.js';
import { openS3, openS3Backend } from '../../src/engine/storage/s3/open.js';
import { describeStorageConformance } from '../../src/engine/storage/testing/conformance.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET, startCuttingProxy } from '../setup/storage-servers.js';

const endpoint = inject('s3Endpoint');

describe.skipIf(!endpoint)('s3 on s3rver', () => {
  describeStorageConformance('s3 (s3rver)', async () => ({
    backend: openS3(new URL(`s3://${TEST_BUCKET}/conf-${randomBytes(3).toString('hex')}`), {
      endpoint,
      ...S3RVER_CREDENTIALS,
      // Small parts so the suite's streamed bodies take the multipart path too.
      partSizeMiB: 5,
    }),
  }));
});

const fast = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 1000 };
const prefixUrl = (): URL => new URL(`s3://${TEST_BUCKET}/bad-${randomBytes(3).toString('hex')}`);

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

async function keys(backend: StorageBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const info of backend.list('')) out.push(info.key);
  return out;
}

describe.skipIf(!endpoint)('s3 bad input and failures', () => {
  const options = { endpoint, ...S3RVER_CREDENTIALS, partSizeMiB: 5 };

  it('refuses wrong credentials with PERMISSION_DENIED and never shows the secret', async () => {
    const secret = 'wJalrXUtnFEMI-super-secret-value';
    const backend = await openDestination(`s3://${TEST_BUCKET}/x`, {
      endpoint,
      accessKeyId: 'AKIAWRONGKEY',
      secretAccessKey: secret,
    });
    const error = await backend.put('a', Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('credentials'),
    });
    expect(JSON.stringify(toErrorData(error))).not.toContain(secret);
    expect(String((error as Error).stack)).not.toContain(secret);
  });

  it('says the bucket does not exist', async () => {
    const backend = await openDestination('s3://no-such-bucket-fb/x', options);
    await expect(backend.put('a', Buffer.from('x'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/bucket does not exist/),
    });
    await expect(keys(backend)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('explains what a valid URL looks like for a typo', async () => {
    await expect(openDestination('s3://My_Bucket/x', options)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('s3://my-bucket/firebackup'),
    });
    await expect(openDestination('s4://bucket/x', options)).rejects.toMatchObject({
      message: expect.stringMatching(/s3:\/\/my-bucket\/firebackup.*gs:\/\/my-bucket\/firebackup/),
    });
    await expect(
      openDestination('s3://KEY:SECRETVALUE@bucket/x', options).catch((e: Error) => e.message),
    ).resolves.not.toContain('SECRETVALUE');
  });

  it('survives a connection cut mid-upload by resending only the broken part', async () => {
    const proxy = await startCuttingProxy(endpoint, {
      direction: 'up',
      afterBytes: 3 << 20,
      times: 1,
    });
    try {
      const url = prefixUrl();
      const backend = openS3(url, { ...options, endpoint: proxy.endpoint }, { retry: fast });
      const data = randomBytes(12 << 20);
      const info = await backend.put('cut.bin', Readable.from(chunks(data)));
      expect(proxy.cuts).toBe(1);
      expect(info.md5).toBe(createHash('md5').update(data).digest('hex'));
    } finally {
      await proxy.close();
    }
  });

  it('leaves nothing visible when the network stays down mid-upload', async () => {
    const proxy = await startCuttingProxy(endpoint, {
      direction: 'up',
      afterBytes: 1 << 20,
      times: 1000,
    });
    try {
      const url = prefixUrl();
      const backend = openS3(url, { ...options, endpoint: proxy.endpoint }, { retry: fast });
      await expect(
        backend.put('down.bin', Readable.from(chunks(randomBytes(12 << 20)))),
      ).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      expect(await keys(openS3(url, options))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a download cut mid-stream', async () => {
    const url = prefixUrl();
    const data = randomBytes(6 << 20);
    await openS3(url, options).put('dl.bin', data);
    const proxy = await startCuttingProxy(endpoint, {
      direction: 'down',
      afterBytes: 2 << 20,
      times: 1,
    });
    try {
      const backend = openS3(url, { ...options, endpoint: proxy.endpoint }, { retry: fast });
      expect((await readAll(await backend.get('dl.bin'))).equals(data)).toBe(true);
      expect(proxy.cuts).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('fails a download clearly when the network goes down mid-stream and stays down', async () => {
    const url = prefixUrl();
    await openS3(url, options).put('dl.bin', randomBytes(6 << 20));
    const proxy = await startCuttingProxy(endpoint, {
      direction: 'down',
      afterBytes: 1 << 30,
      times: 0,
    });
    const backend = openS3(url, { ...options, endpoint: proxy.endpoint }, { retry: fast });
    const stream = await backend.get('dl.bin');
    const reading = readAll(stream);
    await new Promise((r) => stream.once('data', r));
    await proxy.close(); // cuts the live connection and refuses new ones
    await expect(reading).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it("checks an upload against the service's MD5 without downloading it again", async () => {
    const url = prefixUrl();
    const clean = new FaultyBackend(openS3Backend(url, options), []);
    await withVerification(clean).put('backups/ok.fbk', Readable.from([randomBytes(200_000)]));
    expect(clean.calls.get).toBe(0);
    const corrupting = new FaultyBackend(openS3Backend(url, options), [
      { type: 'corrupt', op: 'put', nth: 1, atByte: 4321 },
    ]);
    await expect(
      withVerification(corrupting).put('backups/bad.fbk', Readable.from([randomBytes(200_000)])),
    ).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('backups/bad.fbk'),
    });
    expect(corrupting.calls.get).toBe(0);
    await expect(openS3Backend(url, options).stat('backups/bad.fbk')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('names the object when it is corrupted at rest', async () => {
    const url = prefixUrl();
    await expectCorruptionAtRestNamed(openS3(url, options), openS3Backend(url, options));
  });

  it('ignores other files in the bucket and never shows unfinished uploads', async () => {
    const url = prefixUrl();
    const bare = openS3Backend(url, options);
    await bare.put('ours.fbk', Buffer.from('x'));
    // A sibling prefix that merely starts with ours, and a console-made folder marker.
    await openS3Backend(new URL(`${url.href}-other`), options).put('theirs', Buffer.from('y'));
    await bare.put('folder/x', Buffer.from('z'));
    expect((await keys(openS3(url, options))).sort()).toEqual(['folder/x', 'ours.fbk']);
  });
});

function* chunks(data: Buffer, size = 256 * 1024): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('redactUrl', () => {
  it('hides user info and credential query parameters', () => {
    expect(redactUrl('s3://AKIA:secret@bucket/p')).toBe('s3://***@bucket/p');
    expect(redactUrl('https://h/x?X-Amz-Signature=abc&a=1')).toBe(
      'https://h/x?X-Amz-Signature=***&a=1',
    );
    expect(redactUrl('/plain/path')).toBe('/plain/path');
    expect(redactUrl('gs://bucket/prefix')).toBe('gs://bucket/prefix');
  });
});
