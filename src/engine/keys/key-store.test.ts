import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { parseDuration } from '../util/duration.js';
import { KeyStore } from './key-store.js';
import { loadKeyring } from './keyring.js';
import { MasterKey } from './master-key.js';

const DAY = 86_400_000;

async function storeFile(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'fb-keystore-')), 'keys.json');
}

describe('the key store', () => {
  it('rotates: a new current key, the old ones kept, owner-only, logged', async () => {
    const file = await storeFile();
    const first = MasterKey.generate();
    const store = new KeyStore(file);
    const r1 = await store.rotate('manual', [first]);
    expect(r1.previousKeyId).toBe(first.id);
    const r2 = await store.rotate();
    expect(r2.previousKeyId).toBe(r1.current.id);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const ring = await store.keyring();
    expect(ring.current().id).toBe(r2.current.id);
    expect(ring.ids.sort()).toEqual([first.id, r1.current.id, r2.current.id].sort());
    expect((await store.log()).map((e) => e.event)).toEqual(['imported', 'rotated', 'rotated']);
    // The file never shows up in a listing of a key id only: it holds the keys themselves.
    expect(await readFile(file, 'utf8')).toContain(first.revealHex());
  });

  it('refuses a store other users can read, and a damaged one, saying what to do', async () => {
    const file = await storeFile();
    await new KeyStore(file).rotate();
    await chmod(file, 0o644);
    await expect(new KeyStore(file).keyring()).rejects.toMatchObject({
      code: 'KEY_INVALID',
      message: expect.stringContaining('chmod 600'),
    });
    await writeFile(file, '{"format":"firebackup-keys/1"', { mode: 0o600 });
    await chmod(file, 0o600);
    await expect(new KeyStore(file).keyring()).rejects.toMatchObject({
      code: 'KEY_INVALID',
      message: expect.stringContaining('damaged'),
    });
  });

  it('a write that fails before it replaces the store leaves every key and no temporary', async () => {
    const file = await storeFile();
    await new KeyStore(file).rotate();
    const before = await readFile(file, 'utf8');
    const failing = new KeyStore(file, undefined, () => {
      throw new Error('disk gone');
    });
    await expect(failing.rotate()).rejects.toThrow();
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await readdir(path.dirname(file))).toEqual(['keys.json']);
  });

  it('a process killed in the middle of writing the store loses no key, and its lock does not block', async () => {
    const file = await storeFile();
    const store = new KeyStore(file);
    await store.rotate();
    await store.rotate();
    const keysBefore = (await store.keyring()).ids.sort();
    // A child that stops between writing the temporary and renaming it, then is SIGKILLed.
    const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'key-store.ts');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { KeyStore } = await import(${JSON.stringify(module)});
         await new KeyStore(${JSON.stringify(file)}, undefined, () => {
           process.stdout.write('written\\n');
           return new Promise(() => {});
         }).rotate();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    expect((await store.keyring()).ids.sort()).toEqual(keysBefore);
    // The dead process's lock is stale; the next rotation goes ahead and keeps all keys.
    const after = await store.rotate();
    expect((await store.keyring()).ids.sort()).toEqual([...keysBefore, after.current.id].sort());
    // The killed write's temporary (a key no backup used) is swept by the next write.
    expect(await readdir(path.dirname(file))).toEqual(['keys.json']);
  });

  it('scheduled rotation: once when the interval passes, not twice when two processes both find it due', async () => {
    const file = await storeFile();
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const daemon = new KeyStore(file, clock);
    const cli = new KeyStore(file, clock);
    const first = await daemon.rotate();
    const interval = parseDuration('90d', 'ENCRYPTION_KEY_ROTATION_INTERVAL');

    clock.set(new Date(Date.parse('2026-01-01T00:00:00Z') + 89 * DAY));
    expect((await daemon.rotateIfDue(interval)).rotated).toBe(false);

    clock.set(new Date(Date.parse('2026-01-01T00:00:00Z') + 91 * DAY));
    const results = await Promise.all([daemon.rotateIfDue(interval), cli.rotateIfDue(interval)]);
    expect(results.filter((r) => r.rotated)).toHaveLength(1);
    const ring = await cli.keyring();
    expect(ring.ids).toHaveLength(2);
    expect(results.map((r) => r.current.id)).toEqual([ring.current().id, ring.current().id]);
    expect(ring.find(first.current.id)).toBeDefined();
  });
});

describe('keys from the store and the environment together', () => {
  it('uses the store; accepts ENCRYPTION_KEY only when the store holds it', async () => {
    const file = await storeFile();
    const old = MasterKey.generate();
    const store = new KeyStore(file);
    const { current } = await store.rotate('manual', [old]);
    // A stale ENCRYPTION_KEY (the key before the rotation) is fine: the store decides.
    const ring = await loadKeyring({ env: { ENCRYPTION_KEY: old.revealHex() }, keyStore: file });
    expect(ring.current().id).toBe(current.id);
    expect(ring.find(old.id)).toBeDefined();
    // A key the store does not hold: which key would new backups get? Refused.
    await expect(
      loadKeyring({ env: { ENCRYPTION_KEY: MasterKey.generate().revealHex() }, keyStore: file }),
    ).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining(file) });
    // Old keys from the environment are added for reading.
    const extra = MasterKey.generate();
    const withOld = await loadKeyring({
      env: { ENCRYPTION_OLD_KEYS: extra.revealHex() },
      keyStore: file,
    });
    expect(withOld.find(extra.id)).toBeDefined();
    expect(withOld.current().id).toBe(current.id);
  });
});

describe('durations', () => {
  it('parses d/h/m and refuses anything else with a clear message', () => {
    expect(parseDuration('90d', 'X')).toBe(90 * DAY);
    expect(parseDuration('1d12h', 'X')).toBe(36 * 3_600_000);
    expect(parseDuration('30m', 'X')).toBe(1_800_000);
    for (const bad of ['', '90', '0d', '5 days', '-1d', '1w', 'd'])
      expect(() => parseDuration(bad, 'ENCRYPTION_KEY_ROTATION_INTERVAL')).toThrow(
        /ENCRYPTION_KEY_ROTATION_INTERVAL must be a duration like 90d/,
      );
  });
});
