import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { MemoryBackend } from '../../src/engine/storage/memory/memory-backend.js';
import { describeStorageConformance } from '../../src/engine/storage/testing/conformance.js';
import { FaultyBackend } from '../../src/engine/storage/testing/faulty-backend.js';
import { RemoteError } from '../../src/engine/storage/wrappers/remote-errors.js';
import {
  backoffDelay,
  withRetry,
  withVerification,
  type RetryPolicy,
} from '../../src/engine/storage/wrappers/index.js';

const fast: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1000 };

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

// The fault wrapper itself keeps every guarantee when it injects nothing.
describeStorageConformance('faulty(memory), no faults', async () => ({
  backend: new FaultyBackend(new MemoryBackend()),
}));

// And the full remote stack over it, too.
describeStorageConformance('verify(retry(faulty(memory)))', async () => ({
  backend: withVerification(withRetry(new FaultyBackend(new MemoryBackend()), fast)),
}));

describe('retry wrapper', () => {
  it('retries a transient failure of the nth call', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [
      { type: 'fail', op: 'stat', nth: 1 },
      { type: 'fail', op: 'stat', nth: 2 },
    ]);
    await faulty.put('a', Buffer.from('x'));
    await expect(withRetry(faulty, fast).stat('a')).resolves.toMatchObject({ size: 1 });
    expect(faulty.calls.stat).toBe(3);
  });

  it('gives up after maxAttempts', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [{ type: 'fail', op: 'stat' }]);
    await expect(withRetry(faulty, fast).stat('a')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(faulty.calls.stat).toBe(4);
  });

  it('never retries a non-retryable error (403, other 4xx)', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [
      { type: 'fail', op: 'delete', error: () => new AppError('PERMISSION_DENIED', 'no') },
    ]);
    await expect(withRetry(faulty, fast).delete('a')).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    expect(faulty.calls.delete).toBe(1);
  });

  it('honours Retry-After', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [
      {
        type: 'fail',
        op: 'stat',
        nth: 1,
        error: () => new RemoteError('RESOURCE_EXHAUSTED', 'slow down', 150),
      },
    ]);
    await faulty.put('a', Buffer.from('x'));
    const started = Date.now();
    await withRetry(faulty, fast).stat('a');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('fails rather than wait longer than the policy allows', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [
      { type: 'fail', op: 'stat', error: () => new RemoteError('RESOURCE_EXHAUSTED', 'x', 60_000) },
    ]);
    await expect(withRetry(faulty, fast).stat('a')).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
    });
    expect(faulty.calls.stat).toBe(1);
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { ...fast, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 };
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, policy))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(0, { ...policy, random: () => 0 })).toBe(0);
    expect(backoffDelay(0, policy, 500)).toBe(500);
  });

  it('resumes a download dropped mid-stream at the right byte', async () => {
    const data = randomBytes(300_000);
    const faulty = new FaultyBackend(new MemoryBackend(), [
      { type: 'drop', op: 'get', nth: 1, afterBytes: 100_000 },
    ]);
    await faulty.put('big', data);
    const backend = withRetry(faulty, fast);
    expect((await readAll(await backend.get('big'))).equals(data)).toBe(true);
    expect(faulty.calls.get).toBe(2);
  });

  it('sends a put once: back ends retry the requests whose bytes they hold', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [{ type: 'fail', op: 'put', nth: 1 }]);
    const backend = withRetry(faulty, fast);
    await expect(backend.put('s', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(faulty.calls.put).toBe(1);
  });

  it('applies delays', async () => {
    const faulty = new FaultyBackend(new MemoryBackend(), [{ type: 'delay', op: 'list', ms: 100 }]);
    const started = Date.now();
    for await (const _ of faulty.list('')) void _;
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});

describe('verification wrapper', () => {
  it('fails an upload whose stored bytes differ, names the key, and removes it', async () => {
    const memory = new MemoryBackend();
    const backend = withVerification(
      new FaultyBackend(memory, [{ type: 'corrupt', op: 'put', nth: 1, atByte: 777 }]),
    );
    await expect(backend.put('backups/x.fbk', randomBytes(5000))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('backups/x.fbk'),
    });
    await expect(memory.stat('backups/x.fbk')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('returns the MD5 it read back', async () => {
    const data = Buffer.from('hello');
    const info = await withVerification(new MemoryBackend()).put(
      'h',
      Readable.from([data.subarray(0, 2), data.subarray(2)]),
    );
    expect(info.md5).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(info.size).toBe(5);
  });
});
