import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfSettingsStore } from '../engine/settings/settings-store.js';
import { DEFAULT_SETTINGS } from '../shared/settings.js';
import { settingsLocation, settingsStore, type ConfLike } from './settings.js';

/**
 * The settings adapter over `conf`, the class electron-store extends (electron-store
 * itself loads only inside Electron): the same options, the same file.
 */
let dir: string;
const env = () => ({ FIREBACKUP_HOME: dir });
const open = () => {
  const { cwd, name } = settingsLocation(env());
  return settingsStore(new Conf({ cwd, configName: name }) as unknown as ConfLike);
};

beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'fb-settings-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('settings shared by every front end', () => {
  it('live in settings.json in the app data folder (beside the catalog)', () => {
    expect(open().path).toBe(path.join(dir, 'settings.json'));
  });

  it('start from the defaults and persist a change that another opener sees', async () => {
    const a = open();
    expect(a.get()).toEqual(DEFAULT_SETTINGS);
    const next = a.update({ startAtLogin: true, notifications: { missedRuns: false } });
    expect(next).toMatchObject({
      startAtLogin: true,
      notifications: { failedRuns: true, missedRuns: false, keyProblems: true },
    });
    expect(open().get()).toEqual(next);
    expect(JSON.parse(await readFile(path.join(dir, 'settings.json'), 'utf8'))).toMatchObject({
      startAtLogin: true,
      version: 1,
    });
  });

  it('refuses invalid input with INVALID_ARGUMENT and leaves the file as it was', () => {
    const s = open();
    s.update({ theme: 'dark' });
    expect(() => s.update({ theme: 'purple' } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => s.update({ version: 9 } as never)).toThrow(/Invalid settings/);
    expect(s.get().theme).toBe('dark');
  });

  it('a hand-edited bad field falls back alone; the other choices stay', async () => {
    await writeFile(
      path.join(dir, 'settings.json'),
      JSON.stringify({ version: 1, startAtLogin: true, theme: 'purple' }),
    );
    expect(open().get()).toMatchObject({ startAtLogin: true, theme: 'system' });
  });

  it("are the same values the CLI and web mode's store reads and writes", async () => {
    const app = open();
    app.update({ theme: 'dark', notifications: { keyProblems: false } });
    const cli = await ConfSettingsStore.open(dir);
    expect(cli.path).toBe(app.path);
    expect(cli.get()).toEqual(app.get());
    cli.update({ startAtLogin: true });
    expect(open().get()).toMatchObject({ startAtLogin: true, theme: 'dark' });
  });
});
