import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlushBehind, Writeback } from './flush-behind.js';

const KiB = 1024;

describe('FlushBehind', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-flush-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Writes `chunks` to a real file through a FlushBehind; counts the real fdatasync calls. */
  async function write(chunks: Buffer[], interval: number) {
    const file = path.join(dir, 'out.bin');
    const handle = await open(file, 'wx');
    let flushes = 0;
    const counted = {
      datasync: () => {
        flushes++;
        return handle.datasync();
      },
    };
    const flushing = new FlushBehind(new Writeback(counted, interval));
    try {
      await pipeline(
        Readable.from(chunks),
        flushing,
        createWriteStream('', { fd: handle.fd, autoClose: false }),
      );
      await flushing.settled();
    } finally {
      await handle.close();
    }
    return { flushes, bytes: await readFile(file) };
  }

  it('passes every byte through in order and flushes as the file grows', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * KiB, i));
    const { flushes, bytes } = await write(chunks, 128 * KiB);
    expect(bytes.equals(Buffer.concat(chunks))).toBe(true);
    // 1 MiB in 128 KiB steps: at most 8 flushes (one at a time, so perhaps fewer), but
    // more than one: writeback starts long before the end.
    expect(flushes).toBeGreaterThan(1);
    expect(flushes).toBeLessThanOrEqual(8);
  });

  it('does not flush a file smaller than one interval (the final fsync covers it)', async () => {
    const { flushes, bytes } = await write([Buffer.from('small')], 128 * KiB);
    expect(flushes).toBe(0);
    expect(bytes.toString()).toBe('small');
  });

  it('reports a failed background flush (a full disk found at writeback), never drops it', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const failing = new FlushBehind(new Writeback({ datasync: () => Promise.reject(enospc) }, 4));
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(8));
    const run = pipeline(Readable.from(chunks), failing, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) void chunk;
    });
    // The failure stops the stream at the next chunk if it is known by then, and is
    // rethrown by settled() in any case: the caller (LocalBackend.put) awaits both.
    const outcome = await run.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (outcome !== undefined) expect(outcome).toMatchObject({ code: 'ENOSPC' });
    await expect(failing.settled()).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});
