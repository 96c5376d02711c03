import { mkdtemp, readdir, rm, chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeStorageConformance } from '../testing/conformance.js';
import { LocalBackend } from './local-backend.js';

describeStorageConformance('local', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fb-local-'));
  return {
    backend: new LocalBackend(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

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
