import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { bundlePreload } from '../../scripts/build-electron.js';
import { BRIDGE_GLOBAL, BRIDGE_KEYS } from '../../src/shared/api/bridge.js';

/**
 * The real preload as Electron loads it: one CommonJS file run in a sandbox whose
 * `require` knows only `electron`. Evaluated here with a fake `electron` module.
 */
describe('the bundled preload (dist/preload/index.cjs)', () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('requires nothing but electron and exposes exactly the contract', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-preload-'));
    const file = await bundlePreload(path.join(dir, 'index.cjs'));
    const code = await readFile(file, 'utf8');

    const required: string[] = [];
    const exposed: Record<string, Record<string, unknown>> = {};
    const fakeElectron = {
      contextBridge: {
        exposeInMainWorld: (key: string, api: Record<string, unknown>) => (exposed[key] = api),
      },
      ipcRenderer: { invoke: async () => ({ ok: true, value: null }), on: () => {} },
    };
    const module = { exports: {} };
    vm.runInNewContext(code, {
      module,
      exports: module.exports,
      require: (name: string) => {
        required.push(name);
        if (name === 'electron') return fakeElectron;
        throw new Error(`a sandboxed preload cannot require "${name}"`);
      },
    });

    expect(new Set(required)).toEqual(new Set(['electron']));
    expect(Object.keys(exposed)).toEqual([BRIDGE_GLOBAL]);
    expect(Object.keys(exposed[BRIDGE_GLOBAL]!).sort()).toEqual([...BRIDGE_KEYS].sort());
  });
});
