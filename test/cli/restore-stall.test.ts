import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import {
  emulatorJar,
  startFirestoreEmulator,
  type RunningEmulator,
} from '../helpers/firestore-emulator.js';
import { testProject } from '../helpers/firestore-seed.js';
import { spawnCli } from '../helpers/spawn-cli.js';

/** Documents in the archive: enough that the restore is still running when frozen. */
const DOCUMENTS = 20_000;
/**
 * Index of a document of the sixth batch of 500 (`users/d2601`): once it exists, at least
 * two earlier batches have come back (the restore keeps 4 batches in flight), so the
 * restore's own counts are not zero when the emulator is frozen.
 */
const SIXTH_BATCH_DOC = 'users/d2601';

/**
 * A Firestore that stops answering during a restore (issue 11, item 4 for the restore
 * path): a private emulator frozen with SIGSTOP part-way through. The restore must fail
 * clearly within its deadline, saying what it wrote and how to finish, and Ctrl-C must
 * end it within seconds.
 */
describe.skipIf(!emulatorJar())('a restore when Firestore stalls', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex(), FIREBACKUP_FIRESTORE_TIMEOUT_MS: '8000' };
  let emulator: RunningEmulator;
  let dir: string;
  let backupId: string;
  let frozen = false;

  beforeAll(async () => {
    emulator = await startFirestoreEmulator(emulatorJar()!);
    dir = await mkdtemp(path.join(tmpdir(), 'fb-restore-stall-'));
    ({ id: backupId } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(DOCUMENTS), {
      blockSize: 64 * 1024,
    }));
  }, 90_000);

  const spawned: Array<ReturnType<typeof spawnCli>> = [];
  afterEach(() => {
    for (const run of spawned.splice(0)) run.child.kill('SIGKILL');
    if (frozen) process.kill(emulator.pid, 'SIGCONT');
    frozen = false;
  });
  afterAll(async () => {
    await emulator.stop();
  });

  async function exists(project: string, docPath: string): Promise<boolean> {
    const url = `http://${emulator.host}/v1/projects/${project}/databases/(default)/documents/${docPath}`;
    const response = await fetch(url, { headers: { Authorization: 'Bearer owner' } });
    return response.ok;
  }

  /** Starts a restore into a fresh project and freezes the emulator once it is under way. */
  async function restoreThenFreeze(extraEnv: NodeJS.ProcessEnv = {}) {
    const project = testProject('rstall');
    const run = spawnCli(
      ['restore', backupId, '--from', dir, '--to-project', project, '--emulator', emulator.host],
      { ...env, ...extraEnv },
    );
    spawned.push(run);
    const deadline = Date.now() + 30_000;
    while (!(await exists(project, SIXTH_BATCH_DOC))) {
      if (Date.now() > deadline) throw new Error(`the restore did not start: ${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(emulator.pid, 'SIGSTOP');
    frozen = true;
    return run;
  }

  it('fails within its deadline, saying what it wrote and the command that finishes it', async () => {
    const run = await restoreThenFreeze();
    const frozenAt = Date.now();
    const result = await run.exited;
    const stderr = run.stderr();
    expect(result.code, stderr).toBe(1);
    // 3 tries of 8 s (generous: a loaded emulator takes seconds per batch of 500) with
    // backoff in between: far less than 3 tries of gax's 120 s default.
    expect(Date.now() - frozenAt, stderr).toBeLessThan(40_000);
    expect(stderr).toContain(emulator.host);
    expect(stderr).toMatch(/deadline|no answer/i);
    const written = /The restore stopped part-way: ([\d,]+) documents were written/.exec(stderr);
    expect(written, stderr).not.toBeNull();
    expect(Number(written![1]!.replace(/,/g, ''))).toBeGreaterThanOrEqual(1000);
    expect(stderr).toContain(`To finish, run: firebackup restore ${backupId}`);
  }, 100_000);

  it('ends within a few seconds of Ctrl-C, with exit 130', async () => {
    const run = await restoreThenFreeze({ FIREBACKUP_FIRESTORE_TIMEOUT_MS: '600000' });
    await new Promise((r) => setTimeout(r, 500));
    const sent = Date.now();
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(Date.now() - sent, run.stderr()).toBeLessThan(5000);
    expect(result.code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/To finish, run:/);
  }, 60_000);
});
