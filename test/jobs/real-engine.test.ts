import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import type { DestinationRecord, ProjectRecord } from '../../src/engine/catalog/projects.js';
import { rebuildCatalog } from '../../src/engine/catalog/rebuild.js';
import { systemClock } from '../../src/engine/clock.js';
import { createEngineOps } from '../../src/engine/jobs/engine-adapter.js';
import { JobManager } from '../../src/engine/jobs/job-manager.js';
import { backupJob, restoreJob, type JobDeps } from '../../src/engine/jobs/specs.js';
import type { EngineOps } from '../../src/engine/jobs/types.js';
import { loadKeyring } from '../../src/engine/keys/keyring.js';
import { isPidAlive, LockManager } from '../../src/engine/scheduler/locks.js';
import { seedDocuments } from '../helpers/firestore-seed.js';

/**
 * Jobs over the real engine: a local folder destination and the Firestore emulator.
 */
const host = inject('firestoreEmulatorHost');
const childScript = fileURLToPath(new URL('./fixtures/backup-child.ts', import.meta.url));
const KEY = randomBytes(32).toString('hex');
const PROJECT_ID = `jobs-it-${randomBytes(3).toString('hex')}`;

let dir: string;
let catalogFile: string;
let destDir: string;
let catalog: Catalog;
let engine: EngineOps;
let jobs: JobManager;
let deps: JobDeps;
let project: ProjectRecord;
let destination: DestinationRecord;

describe.skipIf(!host)('jobs with the real engine', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fb-jobs-it-'));
    catalogFile = path.join(dir, 'catalog.sqlite');
    destDir = path.join(dir, 'dest');
    catalog = Catalog.open(catalogFile);
    engine = createEngineOps({ keyring: await loadKeyring({ env: { ENCRYPTION_KEY: KEY } }) });
    jobs = new JobManager({ catalog, locks: new LockManager(catalog.db), clock: systemClock });
    deps = { catalog, engine };
    project = catalog.projects.upsert({
      name: 'it',
      firebaseProjectId: PROJECT_ID,
      emulatorHost: host,
    });
    destination = catalog.destinations.upsert({ name: 'local', url: destDir });
    // Enough documents that a backup is still running when we kill or cancel it.
    await seedDocuments(host, PROJECT_ID, {
      count: 6000,
      withSubcollections: true,
      docBytes: 1500,
    });
  });
  afterAll(() => {
    catalog?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const visibleIds = async (): Promise<string[]> =>
    (await engine.list(destination)).map((b) => b.id).sort();

  it('a backup process killed with SIGKILL leaves no partial backup, and the next run succeeds', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, catalogFile, 'it', destDir, KEY],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // Kill it once it is well into reading documents.
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        for (;;) {
          const nl = buffer.indexOf('\n');
          if (nl < 0) break;
          const event = JSON.parse(buffer.slice(0, nl)) as {
            type: string;
            progress?: { items: number };
          };
          buffer = buffer.slice(nl + 1);
          if (event.type === 'done')
            reject(new Error('the backup finished before it could be killed'));
          if (event.type === 'progress' && (event.progress?.items ?? 0) >= 500) {
            child.kill('SIGKILL');
            resolve();
          }
        }
      });
      child.once('exit', () => resolve());
    });
    await exited;
    expect(child.signalCode).toBe('SIGKILL');

    expect(await visibleIds()).toEqual([]);
    // The killed run is found and recorded as failed, not left "running" forever.
    const abandoned = catalog.runs.failAbandoned(isPidAlive, {
      code: 'ABORTED',
      message: 'The process running this job stopped unexpectedly.',
      fault: 'system',
      retryable: true,
    });
    expect(abandoned).toBe(1);

    // Its lock does not block the next run (its pid is dead).
    const run = await jobs.start(backupJob(deps, { project, destination })).done;
    expect(run).toMatchObject({ status: 'succeeded', error: null });
    expect(run.counts?.['firestore.documents']).toBe(6000);
    expect(await visibleIds()).toEqual([run.backupId]);
    expect(catalog.backups.get(destination.id, run.backupId!)?.verifyStatus).toBe('ok');
  });

  it('a cancelled backup leaves nothing visible', async () => {
    const before = await visibleIds();
    const temporaries = (): string[] => readdirSync(destDir).filter((f) => f.startsWith('.fbtmp-'));
    // The process killed above could not clean up after itself; this one must.
    const earlierTemporaries = temporaries();
    const job = jobs.start(backupJob(deps, { project, destination }));
    const unsubscribe = jobs.subscribe((e) => {
      if (e.type === 'progress' && e.jobId === job.id && e.progress.items > 0) job.cancel();
    });
    const run = await job.done;
    unsubscribe();
    expect(run.status).toBe('cancelled');
    expect(await visibleIds()).toEqual(before);
    // No stray archive and no new temporary: every other file belongs to a listed backup.
    expect(temporaries()).toEqual(earlierTemporaries);
    expect(
      readdirSync(destDir)
        .filter((f) => !f.startsWith('.fbtmp-'))
        .sort(),
    ).toEqual(before.flatMap((id) => [`${id}.fbk`, `${id}.fbm`, `${id}.fbx`]).sort());
  });

  it('runs a restore as a job, recorded with its counts', async () => {
    const backup = await jobs.start(backupJob(deps, { project, destination })).done;
    const out = path.join(dir, `restored-${randomBytes(3).toString('hex')}`);
    const keyring = await loadKeyring({ env: { ENCRYPTION_KEY: KEY } });
    const { LocalBackend } = await import('../../src/engine/storage/local/local-backend.js');
    const { resolveBackup } = await import('../../src/engine/operations/resolve-backup.js');
    const run = await jobs.start(
      restoreJob(deps, {
        destination,
        options: {
          target: 'dir',
          backup: await resolveBackup(backup.backupId!, new LocalBackend(destDir)),
          keyring,
          directory: out,
        },
      }),
    ).done;
    expect(run.status).toBe('succeeded');
    expect(run.counts).toEqual({ 'firestore.documents': 6000 });
    expect(readdirSync(out)).toContain('backup.json');
  });

  it('retention after a backup deletes per policy and records it; rebuild gives the same list', async () => {
    const run = await jobs.start(
      backupJob(deps, { project, destination, retention: { keepLast: 1 } }),
    ).done;
    expect(run.status).toBe('succeeded');
    expect(await visibleIds()).toEqual([run.backupId]);
    expect(catalog.backups.deletions().length).toBeGreaterThanOrEqual(1);
    // One more, kept alongside.
    const second = await jobs.start(backupJob(deps, { project, destination })).done;
    const listed = catalog.backups
      .list()
      .map(({ destinationId: _d, verifiedAt: _v, verifyStatus: _s, verifyError: _e, ...b }) => b);
    expect(listed.map((b) => b.id).sort()).toEqual([run.backupId, second.backupId].sort());

    // A brand-new catalog, pointed at the same destination, rebuilt from its manifests.
    const fresh = Catalog.open(path.join(dir, 'rebuilt.sqlite'));
    try {
      fresh.destinations.upsert({ name: 'local', url: destDir });
      const report = await rebuildCatalog(fresh, (d) => engine.list(d));
      expect(report.destinations[0]).toMatchObject({ backups: 2, added: 2, removed: 0 });
      const rebuilt = fresh.backups
        .list()
        .map(({ destinationId: _d, verifiedAt: _v, verifyStatus: _s, verifyError: _e, ...b }) => b);
      expect(rebuilt).toEqual(listed);
    } finally {
      fresh.close();
    }
  });
});
