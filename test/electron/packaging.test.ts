import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

/**
 * electron-builder.yml, checked without packaging (which needs Electron's binary): valid
 * for the installed electron-builder, and carrying the security decisions of
 * docs/desktop.md.
 */
const require = createRequire(import.meta.url);
const load = async () =>
  YAML.parse(await readFile('electron-builder.yml', 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as {
      DebugLogger: new (on: boolean) => unknown;
    };
    await expect(
      validateConfiguration(await load(), new DebugLogger(false)),
    ).resolves.toBeUndefined();
  });

  it('sets the fuses: no RunAsNode, no NODE_OPTIONS, no inspect flags, app only from asar, cookies encrypted', async () => {
    expect((await load()).electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('pins the installed Electron, packs into asar, rebuilds better-sqlite3 for Electron', async () => {
    const c = await load();
    const installed = (
      JSON.parse(await readFile('package.json', 'utf8')) as {
        optionalDependencies: Record<string, string>;
      }
    ).optionalDependencies.electron;
    expect(c.electronVersion).toBe(installed);
    expect(c.asar).toBe(true);
    expect(c.asarUnpack).toContain('**/node_modules/better-sqlite3/**');
    expect(c.npmRebuild).toBe(true);
    expect(c.files).toContain('!node_modules/electron/**');
  });

  it('targets AppImage and deb, a hardened and notarised dmg, and nsis, with icons from resources/', async () => {
    const c = await load();
    expect(c.linux.target).toEqual(['AppImage', 'deb']);
    expect(c.mac).toMatchObject({ target: ['dmg'], hardenedRuntime: true, notarize: true });
    expect(c.win.target).toEqual(['nsis']);
    for (const icon of [c.linux.icon, c.mac.icon, c.win.icon, c.mac.entitlements])
      expect(existsSync(path.resolve(icon)), icon).toBe(true);
  });

  it('the package entry is the built main process', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/main/index.js');
  });
});
