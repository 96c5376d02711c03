import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDispatcher, type Result } from '../../src/shared/api/dispatch.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import { catalogFileFor } from '../../src/engine/catalog/location.js';
import { createRuntime, openCatalog, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { FileSecretStore } from '../../src/engine/secrets/secret-store.js';
import { ConfSettingsStore } from '../../src/engine/settings/settings-store.js';
import { followCatalogMoves } from '../../src/engine/jobs/follow-catalog.js';

const local = { kind: 'local' as const };
const value = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as T;
};

let home: string;
let elsewhere: string;
let env: NodeJS.ProcessEnv;
let runtime: Runtime;
let dispatch: ReturnType<typeof createDispatcher>;

/** The app as it runs: catalog found through the settings, in FIREBACKUP_HOME. */
beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'fb-catloc-home-'));
  elsewhere = await mkdtemp(path.join(tmpdir(), 'fb-catloc-new-'));
  env = { FIREBACKUP_HOME: home };
  const keyring = new Keyring(MasterKey.generate());
  runtime = createRuntime({
    env,
    keyring,
    secrets: new FileSecretStore(path.join(home, 'secrets.json')),
  });
  dispatch = createDispatcher(
    createApiHandlers(runtime, keyring, { env, settings: await ConfSettingsStore.open(home) }),
  );
  runtime.catalog.projects.upsert({
    name: 'shop',
    firebaseProjectId: 'demo-shop',
    emulatorHost: '127.0.0.1:1',
  });
  runtime.catalog.destinations.upsert({ name: 'here', url: path.join(home, 'backups') });
});
afterEach(() => runtime?.close());

const settingsOnDisk = async () =>
  JSON.parse(await readFile(path.join(home, 'settings.json'), 'utf8')) as Record<string, unknown>;

describe('where the catalog is (every front end)', () => {
  it('is the app data folder by default, and the settings’ folder once chosen', async () => {
    expect(catalogFileFor({ FIREBACKUP_HOME: home })).toBe(path.join(home, 'catalog.sqlite'));
    const h = await mkdtemp(path.join(tmpdir(), 'fb-catloc-'));
    await writeFile(path.join(h, 'settings.json'), JSON.stringify({ catalogPath: elsewhere }));
    expect(catalogFileFor({ FIREBACKUP_HOME: h })).toBe(path.join(elsewhere, 'catalog.sqlite'));
  });

  it('refuses to guess when the settings file is damaged', async () => {
    const h = await mkdtemp(path.join(tmpdir(), 'fb-catloc-'));
    await writeFile(path.join(h, 'settings.json'), '{ not json');
    expect(() => catalogFileFor({ FIREBACKUP_HOME: h })).toThrow(/settings file .* is damaged/);
  });
});

describe('moving the catalog from the Settings screen', () => {
  it('copies, verifies and switches: this app, the CLI and a daemon started later all use the new file', async () => {
    const moved = value<{ file: string; copied: boolean; keptAs: string | null }>(
      await dispatch('settings.moveCatalog', { folder: elsewhere }, local),
    );
    const file = path.join(elsewhere, 'catalog.sqlite');
    expect(moved).toMatchObject({ file, copied: true });
    expect((await settingsOnDisk()).catalogPath).toBe(elsewhere);
    // This process switched: what it writes now lands in the new file.
    expect(runtime.catalog.db.name).toBe(file);
    runtime.catalog.projects.upsert({ name: 'after', firebaseProjectId: 'demo-after' });
    // A process started now (the CLI, a daemon) finds it through the shared settings.
    expect(catalogFileFor(env)).toBe(file);
    const cli = openCatalog(env);
    try {
      expect(cli.db.name).toBe(file);
      expect(
        cli.projects
          .list()
          .map((p) => p.name)
          .sort(),
      ).toEqual(['after', 'shop']);
      expect(cli.destinations.list().map((d) => d.name)).toEqual(['here']);
    } finally {
      cli.close();
    }
    // The old file is kept, renamed aside so nothing opens it by mistake.
    expect(existsSync(path.join(home, 'catalog.sqlite'))).toBe(false);
    expect(moved.keptAs).toMatch(/catalog\.sqlite\.moved-/);
    const old = new Catalog(Catalog.open(moved.keptAs!).db);
    try {
      expect(old.projects.list().map((p) => p.name)).toEqual(['shop']);
    } finally {
      old.close();
    }
    // Nothing else was left in the new folder (no temporary).
    expect((await readdir(elsewhere)).filter((n) => !n.startsWith('catalog.sqlite'))).toEqual([]);
  });

  it('refuses a folder it cannot create, and changes nothing', async () => {
    const answer = await dispatch(
      'settings.moveCatalog',
      { folder: '/proc/firebackup-cannot-write-here' },
      local,
    );
    expect(answer).toMatchObject({
      ok: false,
      error: {
        message: expect.stringMatching(
          /firebackup-cannot-write-here.*the catalog stays where it is/,
        ),
      },
    });
    await expectUnchanged();
  });

  // Root writes through any mode bits, so as root (CI) the folder is /sys, where the kernel
  // refuses new files to everyone; as anyone else, a folder of mode 500.
  it('refuses a folder it cannot write to, and changes nothing', async () => {
    const asRoot = process.getuid?.() === 0;
    const locked = asRoot ? '/sys' : path.join(elsewhere, 'locked');
    if (!asRoot) {
      await mkdir(locked);
      await chmod(locked, 0o500);
    }
    try {
      const answer = await dispatch('settings.moveCatalog', { folder: locked }, local);
      expect(answer).toMatchObject({
        ok: false,
        error: { code: 'PERMISSION_DENIED', message: expect.stringMatching(/cannot write in/) },
      });
    } finally {
      if (!asRoot) await chmod(locked, 0o700);
    }
    await expectUnchanged();
  });

  it('refuses a folder holding another catalog, then opens that one when asked', async () => {
    const other = Catalog.open(path.join(elsewhere, 'catalog.sqlite'));
    other.projects.upsert({ name: 'theirs', firebaseProjectId: 'demo-theirs' });
    other.close();
    const refused = await dispatch('settings.moveCatalog', { folder: elsewhere }, local);
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'ALREADY_EXISTS',
        message: expect.stringMatching(/Open that catalog instead/),
      },
    });
    await expectUnchanged();

    const opened = value<{ copied: boolean; keptAs: string | null }>(
      await dispatch('settings.moveCatalog', { folder: elsewhere, useExisting: true }, local),
    );
    expect(opened).toMatchObject({ copied: false, keptAs: null });
    expect(runtime.catalog.projects.list().map((p) => p.name)).toEqual(['theirs']);
    // This catalog stays where it was, whole: the person may come back to it.
    const mine = Catalog.open(path.join(home, 'catalog.sqlite'));
    try {
      expect(mine.projects.list().map((p) => p.name)).toEqual(['shop']);
    } finally {
      mine.close();
    }
  });

  it('refuses while a job runs, saying so', async () => {
    const run = runtime.catalog.runs.create({ kind: 'backup', trigger: 'manual' } as never);
    runtime.catalog.runs.update(run.id, { status: 'running' } as never);
    const answer = await dispatch('settings.moveCatalog', { folder: elsewhere }, local);
    expect(answer).toMatchObject({
      ok: false,
      error: { code: 'ABORTED', message: expect.stringMatching(/job\(s\) are running/) },
    });
    await expectUnchanged();
  });

  it('refuses a relative folder; settings.update moves too (never saves a folder without the catalog in it)', async () => {
    expect(await dispatch('settings.moveCatalog', { folder: 'rel/dir' }, local)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    value(await dispatch('settings.update', { catalogPath: elsewhere }, local));
    expect(runtime.catalog.db.name).toBe(path.join(elsewhere, 'catalog.sqlite'));
    // And back to the default folder.
    value(await dispatch('settings.update', { catalogPath: null }, local));
    expect(runtime.catalog.db.name).toBe(path.join(home, 'catalog.sqlite'));
    expect(runtime.catalog.projects.list().map((p) => p.name)).toEqual(['shop']);
    expect((await settingsOnDisk()).catalogPath).toBeNull();
  });
});

/** The failure left the settings, the catalog's place and its content as they were. */
async function expectUnchanged(): Promise<void> {
  expect(existsSync(path.join(home, 'settings.json'))).toBe(
    existsSync(path.join(home, 'settings.json')),
  );
  if (existsSync(path.join(home, 'settings.json')))
    expect((await settingsOnDisk()).catalogPath ?? null).toBeNull();
  expect(runtime.catalog.db.name).toBe(path.join(home, 'catalog.sqlite'));
  expect(runtime.catalog.projects.list().map((p) => p.name)).toEqual(['shop']);
  expect(catalogFileFor(env)).toBe(path.join(home, 'catalog.sqlite'));
}

describe('a daemon or app already running', () => {
  it('follows a catalog another front end moved, at its next check', async () => {
    const other = createRuntime({
      env,
      keyring: new Keyring(MasterKey.generate()),
      secrets: new FileSecretStore(path.join(home, 'secrets.json')),
    });
    const logged: string[] = [];
    const stop = followCatalogMoves(other, env, (m) => logged.push(m), 20);
    try {
      value(await dispatch('settings.moveCatalog', { folder: elsewhere }, local));
      const file = path.join(elsewhere, 'catalog.sqlite');
      await expect.poll(() => other.catalog.db.name).toBe(file);
      expect(other.catalog.projects.list().map((p) => p.name)).toEqual(['shop']);
      expect(logged.join('\n')).toMatch(/The catalog moved to/);
    } finally {
      stop();
      other.close();
    }
  });
});
