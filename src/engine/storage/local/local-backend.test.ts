import { writeSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { canMountTinyDisk, mountTinyDisk } from '../../../../test/helpers/tiny-disk.js';
import { describeStorageConformance } from '../testing/conformance.js';
import { LocalBackend } from './local-backend.js';

describeStorageConformance('local', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
  return {
    backend: new LocalBackend(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('local back end', () => {
  it('leaves no temporary behind after a failed write', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
    const backend = new LocalBackend(dir);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.alloc(10);
      throw new Error('boom');
    }
    await expect(backend.put('x/y.bin', failing())).rejects.toThrow();
    expect(await readdir(path.join(dir, 'x'))).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows an object written in place only once committed, and nothing after an abort', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
    const backend = new LocalBackend(dir);
    const file = await backend.openFile('x/in-place.bin');
    writeSync(file.fd, Buffer.from('world'), 0, 5, 6);
    writeSync(file.fd, Buffer.from('hello '), 0, 6, 0);
    file.wrote(11);
    await expect(backend.stat('x/in-place.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await collect(backend.list('x/'))).toEqual([]);
    expect(await file.commit()).toMatchObject({ key: 'x/in-place.bin', size: 11 });
    expect(await readFile(path.join(dir, 'x', 'in-place.bin'), 'utf8')).toBe('hello world');
    await expect(file.commit()).rejects.toThrow(/already ended/);

    const dropped = await backend.openFile('x/dropped.bin');
    writeSync(dropped.fd, Buffer.from('partial'));
    await dropped.abort();
    await dropped.abort(); // idempotent
    expect(await readdir(path.join(dir, 'x'))).toEqual(['in-place.bin']);
    await rm(dir, { recursive: true, force: true });
  });

  it('removes temporaries that processes killed long ago left behind, and only those', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
    const stale = path.join(dir, '.fbtmp-aaaaaaaaaaaa-bkp_old.fbk');
    const fresh = path.join(dir, '.fbtmp-bbbbbbbbbbbb-bkp_running.fbk');
    await writeFile(stale, 'left by a killed process');
    await writeFile(fresh, 'another process is writing this now');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    await new LocalBackend(dir).put('new.bin', Buffer.from('x'));
    expect((await readdir(dir)).sort()).toEqual(['.fbtmp-bbbbbbbbbbbb-bkp_running.fbk', 'new.bin']);
  });

  it.runIf(canMountTinyDisk)('says NO_SPACE on a full disk and leaves nothing behind', async () => {
    const disk = mountTinyDisk(64)!;
    try {
      const backend = new LocalBackend(disk.dir);
      const chunks = Array.from({ length: 20 }, () => randomBytes(16 * 1024));
      await expect(backend.put('big.fbk', Readable.from(chunks))).rejects.toMatchObject({
        code: 'NO_SPACE',
        message: expect.stringContaining('disk is full'),
      });
      expect(await readdir(disk.dir)).toEqual([]);
      await backend.put('small', Buffer.from('still works once there is room'));
    } finally {
      disk.unmount();
    }
  });

  it('says PERMISSION_DENIED for a folder it may not write', async () => {
    // Root ignores mode bits, so as root use sysfs, which refuses everyone.
    let target = '/sys/firebackup-test';
    if (process.getuid?.() !== 0) {
      const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
      await mkdir(path.join(dir, 'ro'));
      await chmod(path.join(dir, 'ro'), 0o500);
      target = path.join(dir, 'ro');
    }
    await expect(new LocalBackend(target).put('a', Buffer.from('x'))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('permission denied'),
    });
  });

  it('says what to do when the destination is not a folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
    const file = path.join(dir, 'file');
    await new LocalBackend(dir).put('file', Buffer.from('x'));
    await expect(new LocalBackend(file).put('a', Buffer.from('x'))).rejects.toMatchObject({
      code: expect.stringMatching(/INVALID_ARGUMENT|NOT_FOUND/),
    });
  });
});
