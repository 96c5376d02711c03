import { mkdtemp, readFile, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretStore, secretName } from '../engine/secrets/secret-store.js';
import { fakeSafeStorage } from '../../test/helpers/fake-safe-storage.js';
import { createDesktopSecretStore } from './secrets.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'fb-secrets-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

const consent = () => {
  let given = false;
  return { given: () => given, give: () => void (given = true) };
};
const KEY = secretName('master-key', 'k1');
const SECRET = '9f'.repeat(32);

describe('the desktop secret store (safeStorage)', () => {
  it('keeps values encrypted in an owner-only file and reads them back', async () => {
    const file = path.join(dir, 'app', 'secrets.desktop.json');
    const store = createDesktopSecretStore({
      file,
      safeStorage: fakeSafeStorage(),
      consent: consent(),
      platform: 'linux',
    });
    expect(store.protection()).toMatchObject({
      backend: 'os',
      encrypted: true,
      needsConsent: false,
    });
    await store.set(KEY, SECRET);
    await store.set(secretName('s3-secret-key', 'd1'), 'wJalrXUtnFEMI');
    expect(await store.get(KEY)).toBe(SECRET);
    expect(await store.names()).toEqual(['master-key:k1', 's3-secret-key:d1']);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('wJalrXUtnFEMI');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await store.delete(KEY)).toBe(true);
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('on Linux without a keyring (basic_text) says so plainly and stores nothing until the person agrees', async () => {
    const store = createDesktopSecretStore({
      file: path.join(dir, 'secrets.desktop.json'),
      safeStorage: fakeSafeStorage('basic_text'),
      consent: consent(),
      platform: 'linux',
    });
    const before = store.protection();
    expect(before).toMatchObject({ backend: 'basic_text', encrypted: false, needsConsent: true });
    expect(before.message).toMatch(/No system keyring/);
    expect(before.message).toMatch(/anyone who can read your files could read them/);
    await expect(store.set(KEY, SECRET)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await store.names()).toEqual([]);

    expect(store.acceptWeakStorage()).toMatchObject({ backend: 'basic_text', needsConsent: false });
    await store.set(KEY, SECRET);
    expect(await store.get(KEY)).toBe(SECRET);
  });

  it('basic_text is a Linux matter: macOS and Windows use the OS store', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const store = createDesktopSecretStore({
        file: path.join(dir, 's.json'),
        safeStorage: fakeSafeStorage('basic_text'),
        consent: consent(),
        platform,
      });
      expect(store.protection()).toMatchObject({ backend: 'os', encrypted: true });
    }
  });

  it('with no encryption at all, refuses to store and agreeing does not change that', async () => {
    const store = createDesktopSecretStore({
      file: path.join(dir, 's.json'),
      safeStorage: fakeSafeStorage('unknown', false),
      consent: consent(),
      platform: 'linux',
    });
    expect(store.acceptWeakStorage()).toMatchObject({ backend: 'unavailable', needsConsent: true });
    await expect(store.set(KEY, SECRET)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/no way to encrypt secrets/),
    });
  });

  it('the CLI store and the desktop store never read each other’s file as their own', async () => {
    const file = path.join(dir, 'secrets.json');
    await new FileSecretStore(file).set(KEY, SECRET);
    const desktop = createDesktopSecretStore({
      file,
      safeStorage: fakeSafeStorage(),
      consent: consent(),
      platform: 'linux',
    });
    await expect(desktop.get(KEY)).rejects.toThrow(/holds plain values; open it with the CLI/);
  });
});

describe('the CLI secret store (owner-only file)', () => {
  it('stores values readable only by the owner and refuses a file others can read', async () => {
    const file = path.join(dir, 'home', 'secrets.json');
    const store = new FileSecretStore(file);
    expect(store.protection()).toMatchObject({
      backend: 'file',
      encrypted: false,
      needsConsent: false,
    });
    await store.set(KEY, SECRET);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await new FileSecretStore(file).get(KEY)).toBe(SECRET);
    await chmod(file, 0o644);
    await expect(store.get(KEY)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/chmod 600/),
    });
  });

  it('a damaged file is an error that says what to do, never an empty store', async () => {
    const file = path.join(dir, 'secrets.json');
    const store = new FileSecretStore(file);
    await store.set(KEY, SECRET);
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(file, '{"format":', { mode: 0o600 }),
    );
    await expect(store.names()).rejects.toThrow(/is damaged/);
    await expect(store.set('other', 'x')).rejects.toThrow(/is damaged/);
  });
});
