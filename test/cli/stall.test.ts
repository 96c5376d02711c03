import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import {
  emulatorJar,
  startFirestoreEmulator,
  type RunningEmulator,
} from '../helpers/firestore-emulator.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { spawnCli, waitFor } from '../helpers/spawn-cli.js';

/**
 * A Firestore that stops answering (issue 11, item 4): a private emulator, frozen with
 * SIGSTOP, so the shared one is left alone. The backup must fail clearly within its
 * deadline, and Ctrl-C must end the process within seconds.
 */
describe.skipIf(!emulatorJar())('a backup when Firestore stalls', () => {
  const env = {
    ENCRYPTION_KEY: MasterKey.generate().revealHex(),
    FIREBACKUP_FIRESTORE_TIMEOUT_MS: '1500',
  };
  let emulator: RunningEmulator;
  let project: string;

  beforeAll(async () => {
    emulator = await startFirestoreEmulator(emulatorJar()!);
    project = testProject('stall');
    await seedDocuments(emulator.host, project, { count: 50 });
    process.kill(emulator.pid, 'SIGSTOP');
  }, 90_000);

  const spawned: Array<ReturnType<typeof spawnCli>> = [];
  afterAll(async () => {
    for (const run of spawned) run.child.kill('SIGKILL');
    process.kill(emulator.pid, 'SIGCONT');
    await emulator.stop();
  });

  function backup(dir: string, extraEnv: NodeJS.ProcessEnv = {}) {
    const run = spawnCli(
      ['backup', '--project', project, '--emulator', emulator.host, '--to', dir],
      { ...env, ...extraEnv },
    );
    spawned.push(run);
    return run;
  }

  it('fails with a clear message naming the host within its deadline, leaving nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-stall-'));
    const run = backup(dir);
    const result = await run.exited;
    expect(result.code, run.stderr()).toBe(1);
    expect(run.stderr()).toContain(emulator.host);
    expect(run.stderr()).toMatch(/no answer within 1\.5 s/);
    // 3 tries of 1.5 s with backoff in between, plus start-up: well under a minute.
    expect(result.ms).toBeLessThan(30_000);
    expect(await readdir(dir)).toEqual([]);
  }, 60_000);

  it('ends within a few seconds of Ctrl-C', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-stall-int-'));
    const run = backup(dir, { FIREBACKUP_FIRESTORE_TIMEOUT_MS: '600000' });
    await waitFor(() => /Backing up/.test(run.stderr()), 20_000, 'the backup to start');
    await new Promise((r) => setTimeout(r, 1000));
    const sent = Date.now();
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(Date.now() - sent, run.stderr()).toBeLessThan(5000);
    expect(result.code, run.stderr()).toBe(130);
    expect(await readdir(dir)).toEqual([]);
  }, 60_000);
});

describe.skipIf(!inject('firestoreEmulatorHost'))(
  'a destination where no folder can be made',
  () => {
    it('fails fast with a clear message (no endless mkdir on /proc/x)', async () => {
      const host = inject('firestoreEmulatorHost');
      const project = testProject('proc');
      await seedDocuments(host, project, { count: 5 });
      const run = spawnCli(
        ['backup', '--project', project, '--emulator', host, '--to', '/proc/x'],
        {
          ENCRYPTION_KEY: MasterKey.generate().revealHex(),
        },
      );
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      const result = await run.exited;
      clearTimeout(timer);
      expect(result.signal, 'killed after 20 s: the backup hung').toBeNull();
      expect(result.code, run.stderr()).toBe(2);
      expect(run.stderr()).toMatch(
        /Cannot create the folder \/proc\/x: .*Choose another destination/,
      );
    }, 30_000);
  },
);

describe('a restore folder that can never be made', () => {
  it('fails fast with a clear message (no endless mkdir on /proc/x)', async () => {
    const key = MasterKey.generate();
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-proc-restore-'));
    await craftBackup(new LocalBackend(dir), key, sampleDocuments(3));
    const run = spawnCli(['restore', 'latest', '--from', dir, '--to-dir', '/proc/x/restored'], {
      ENCRYPTION_KEY: key.revealHex(),
    });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    const result = await run.exited;
    clearTimeout(timer);
    expect(result.signal, 'killed after 20 s: the restore hung').toBeNull();
    expect(result.ms).toBeLessThan(15_000);
    expect(result.code, run.stderr()).toBe(2);
    expect(run.stderr()).toMatch(/Cannot create the folder .*Choose another destination/);
  }, 30_000);
});

describe('a catalog home where no folder can be made', () => {
  it('fails fast with a clear message (no endless mkdir on FIREBACKUP_HOME=/proc/x)', async () => {
    const run = spawnCli(['history'], { FIREBACKUP_HOME: '/proc/x/home' });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    const result = await run.exited;
    clearTimeout(timer);
    expect(result.signal, 'killed after 20 s: the CLI hung').toBeNull();
    expect(result.ms).toBeLessThan(15_000);
    expect(result.code, run.stderr()).toBe(2);
    expect(run.stderr()).toMatch(/Cannot create the folder \/proc\/x\/home: .*FIREBACKUP_HOME/);
  }, 30_000);
});
