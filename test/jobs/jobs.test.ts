import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import type { DestinationRecord, ProjectRecord } from '../../src/engine/catalog/projects.js';
import { ManualClock } from '../../src/engine/clock.js';
import { JobManager } from '../../src/engine/jobs/job-manager.js';
import { DEFAULT_RETRY } from '../../src/engine/jobs/retry.js';
import { backupJob, pruneJob, verifyJob } from '../../src/engine/jobs/specs.js';
import { LockManager } from '../../src/engine/scheduler/locks.js';
import { AppError } from '../../src/shared/errors.js';
import type { JobEvent } from '../../src/shared/jobs.js';
import { FakeEngine } from './fake-engine.js';

let clock: ManualClock;
let catalog: Catalog;
let engine: FakeEngine;
let jobs: JobManager;
let project: ProjectRecord;
let destination: DestinationRecord;
let events: JobEvent[];

beforeEach(() => {
  clock = new ManualClock('2024-05-01T00:00:00Z');
  catalog = Catalog.open(':memory:', clock);
  engine = new FakeEngine(clock);
  // A long heartbeat keeps lock beats out of the way of the clock in these tests.
  jobs = new JobManager({
    catalog,
    locks: new LockManager(catalog.db, { clock, heartbeatMs: 3_600_000 }),
    clock,
  });
  project = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
  destination = catalog.destinations.upsert({ name: 'local', url: '/tmp/fb-dest' });
  events = [];
  jobs.subscribe((e) => events.push(e));
});
afterEach(() => catalog.close());

const deps = () => ({ catalog, engine });
/** Manual full backups of the demo project: what backupJob without a schedule makes. */
const manualFull = {
  firebaseProjectId: 'demo',
  databaseId: '(default)',
  scheduleId: null,
  selection: { collections: [], exclude: [] },
};

describe('jobs', () => {
  it('a backup job pushes progress, records the run and the backup, verifies it', async () => {
    const job = jobs.start(backupJob(deps(), { project, destination }));
    await clock.advance(1000);
    const run = await job.done;
    expect(run).toMatchObject({
      kind: 'backup',
      status: 'succeeded',
      trigger: 'manual',
      projectId: project.id,
      attempts: 1,
      backupId: 'bkp_0001',
      counts: { 'firestore.documents': 100 },
      bytes: 1234,
      startedAt: '2024-05-01T00:00:00.000Z',
      finishedAt: '2024-05-01T00:00:01.000Z',
      error: null,
    });
    expect(
      events.filter((e) => e.type === 'state').map((e) => e.type === 'state' && e.status),
    ).toEqual(['queued', 'running', 'succeeded']);
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e.progress] : []));
    expect(progress.some((p) => p.itemsTotal === 100 && p.etaSeconds === 0.5)).toBe(true);
    expect(catalog.backups.get(destination.id, 'bkp_0001')).toMatchObject({ verifyStatus: 'ok' });
    expect(engine.calls).toContain('verify:bkp_0001:1');
    expect(catalog.runs.get(job.id)?.status).toBe('succeeded');
  });

  it('a cancelled backup leaves nothing visible and is recorded as cancelled', async () => {
    const job = jobs.start(backupJob(deps(), { project, destination }));
    await clock.advance(600);
    job.cancel();
    await clock.advance(1000);
    const run = await job.done;
    expect(run.status).toBe('cancelled');
    expect(run.error?.code).toBe('CANCELLED');
    expect(engine.visible(destination.id)).toEqual([]);
    expect(catalog.backups.list()).toEqual([]);
  });

  it('a backup that completes just as it is cancelled is taken away again', async () => {
    const job = jobs.start(
      backupJob(
        {
          catalog,
          engine: Object.assign(Object.create(engine) as FakeEngine, {
            // An operation that ignores the signal and completes anyway.
            backup: (
              req: Parameters<FakeEngine['backup']>[0],
              ctx: Parameters<FakeEngine['backup']>[1],
            ) => engine.backup(req, { ...ctx, signal: new AbortController().signal }),
          }),
        },
        { project, destination },
      ),
    );
    await clock.advance(100);
    job.cancel();
    await clock.advance(2000);
    expect((await job.done).status).toBe('cancelled');
    expect(engine.visible(destination.id)).toEqual([]);
  });

  it('retries transient failures with backoff and records the attempts', async () => {
    engine.failNext = [new AppError('UNAVAILABLE', 'network down')];
    const job = jobs.start(backupJob(deps(), { project, destination, retry: DEFAULT_RETRY }));
    await clock.advance(1000); // first attempt fails
    expect(job.status()).toBe('running');
    expect(catalog.runs.get(job.id)?.error?.code).toBe('UNAVAILABLE');
    await clock.advance(DEFAULT_RETRY.baseDelayMs + 1000);
    const run = await job.done;
    expect(run).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
  });

  it('does not retry failures that cannot get better', async () => {
    engine.failNext = [new AppError('PERMISSION_DENIED', 'bucket refused')];
    const job = jobs.start(backupJob(deps(), { project, destination, retry: DEFAULT_RETRY }));
    await clock.advance(1000);
    expect(await job.done).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'PERMISSION_DENIED' },
    });
  });

  it('runs one backup per project at a time, in order', async () => {
    const other = catalog.projects.upsert({ name: 'other', firebaseProjectId: 'other' });
    const a = jobs.start(backupJob(deps(), { project, destination }));
    const b = jobs.start(backupJob(deps(), { project, destination }));
    const c = jobs.start(backupJob(deps(), { project: other, destination }));
    await clock.advance(1000);
    expect(a.status()).toBe('succeeded');
    expect(b.status()).toBe('running');
    await clock.advance(1000);
    await Promise.all([a.done, b.done, c.done]);
    // demo's two ran one after the other; "other" ran beside the first.
    expect(engine.maxConcurrent).toBe(2);
    expect((await b.done).startedAt).toBe('2024-05-01T00:00:01.000Z');
  });

  it('a backup that fails verification fails the run, is marked bad and skips pruning', async () => {
    // bkp_0002 will be corrupt.
    engine.corrupt.add('bkp_0002');
    const first = jobs.start(backupJob(deps(), { project, destination }));
    await clock.advance(1000);
    await first.done;
    const second = jobs.start(
      backupJob(deps(), { project, destination, retention: { keepLast: 1 } }),
    );
    await clock.advance(1000);
    const run = await second.done;
    expect(run).toMatchObject({
      status: 'failed',
      backupId: 'bkp_0002',
      error: { code: 'INTEGRITY' },
    });
    expect(run.detail).toMatchObject({ verify: { ok: false } });
    expect(catalog.backups.get(destination.id, 'bkp_0002')?.verifyStatus).toBe('failed');
    expect(engine.visible(destination.id)).toEqual(['bkp_0001', 'bkp_0002']);
  });

  it('applies retention after a good backup and records the deletions', async () => {
    for (let i = 0; i < 3; i++) {
      const job = jobs.start(
        backupJob(deps(), { project, destination, retention: { keepLast: 2 } }),
      );
      await clock.advance(1000);
      await job.done;
    }
    expect(engine.visible(destination.id)).toEqual(['bkp_0002', 'bkp_0003']);
    expect(catalog.backups.deletions().map((d) => d.backupId)).toEqual(['bkp_0001']);
  });

  const runBackup = async (o: Partial<Parameters<typeof backupJob>[1]> = {}) => {
    const job = jobs.start(backupJob(deps(), { project, destination, ...o }));
    await clock.advance(1000);
    return job.done;
  };

  it("a schedule's retention only considers that schedule's backups, and logs each deletion by id", async () => {
    await runBackup(); // manual, full: bkp_0001
    await runBackup({ scope: { collections: ['users'] } }); // manual, users only: bkp_0002
    await runBackup({ scheduleId: 'sch_other', retention: { keepLast: 1 } }); // bkp_0003
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await runBackup({ scheduleId: 'sch_mine', retention: { keepLast: 1 } }));
    }
    // Only sch_mine's older backups went; manual ones and the other schedule's stayed.
    expect(engine.visible(destination.id)).toEqual([
      'bkp_0001',
      'bkp_0002',
      'bkp_0003',
      'bkp_0006',
    ]);
    expect(runs.map((r) => (r.detail as { pruned: { deleted: string[] } }).pruned.deleted)).toEqual(
      [[], ['bkp_0004'], ['bkp_0005']],
    );
    expect(runs[1]!.detail).toMatchObject({
      pruned: { scope: expect.stringMatching(/made by schedule sch_mine/) },
    });
    expect(catalog.backups.deletions().map((d) => [d.backupId, d.runId])).toEqual([
      ['bkp_0005', runs[2]!.id],
      ['bkp_0004', runs[1]!.id],
    ]);
  });

  it('a manual prune considers only manual backups of exactly the named selection', async () => {
    await runBackup(); // full: 0001
    await runBackup({ scope: { collections: ['users'] } }); // 0002
    await runBackup({ scope: { collections: ['users'] } }); // 0003
    await runBackup({ scheduleId: 'sch_a' }); // 0004
    const run = await jobs.start(
      pruneJob(deps(), {
        project,
        destination,
        scope: { ...manualFull, selection: { collections: ['users'], exclude: [] } },
        policy: { keepLast: 1 },
      }),
    ).done;
    expect(run.detail).toMatchObject({ deleted: ['bkp_0002'], keep: [{ id: 'bkp_0003' }] });
    expect(engine.visible(destination.id)).toEqual(['bkp_0001', 'bkp_0003', 'bkp_0004']);
  });

  it('backups without a recorded scope (older manifests) are never pruned', async () => {
    await runBackup({ scheduleId: 'sch_a' }); // 0001
    await runBackup({ scheduleId: 'sch_a' }); // 0002
    await runBackup(); // 0003
    // Make 0001 and 0003 look like backups from before scopes were recorded.
    for (const id of ['bkp_0001', 'bkp_0003']) {
      const facts = engine.stored.get(destination.id)!.get(id)!;
      engine.stored.get(destination.id)!.set(id, {
        ...facts,
        scheduleId: null,
        selection: null,
      });
    }
    await runBackup({ scheduleId: 'sch_a', retention: { keepLast: 1 } }); // 0004
    await jobs.start(
      pruneJob(deps(), { project, destination, scope: manualFull, policy: { keepLast: 1 } }),
    ).done;
    expect(engine.visible(destination.id)).toEqual(['bkp_0001', 'bkp_0003', 'bkp_0004']);
  });

  it('an unexpected empty scheduled backup fails the run, and never pushes a real backup out', async () => {
    await runBackup({ scheduleId: 'sch_a', retention: { keepLast: 1 } }); // 0001, 100 docs
    engine.documentsNext = [0];
    const empty = await runBackup({ scheduleId: 'sch_a', retention: { keepLast: 1 } }); // 0002
    expect(empty).toMatchObject({
      status: 'failed',
      backupId: 'bkp_0002',
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/holds no documents/) },
    });
    // A later prune of the schedule's backups still keeps the real one, not the empty one.
    const prune = await jobs.start(
      pruneJob(deps(), {
        project,
        destination,
        scope: { ...manualFull, scheduleId: 'sch_a' },
        policy: { keepLast: 1 },
      }),
    ).done;
    expect(prune.detail).toMatchObject({ keep: [{ id: 'bkp_0001' }], emptyIgnored: ['bkp_0002'] });
    expect(engine.visible(destination.id)).toEqual(['bkp_0001', 'bkp_0002']);
  });

  it('with allowEmpty, an empty backup is an ordinary backup', async () => {
    await runBackup({ scheduleId: 'sch_a', retention: { keepLast: 1 }, allowEmpty: true });
    engine.documentsNext = [0];
    const run = await runBackup({
      scheduleId: 'sch_a',
      retention: { keepLast: 1 },
      allowEmpty: true,
    });
    expect(run.status).toBe('succeeded');
    expect(engine.visible(destination.id)).toEqual(['bkp_0002']);
  });

  it('prune --dry-run reports what would go and deletes nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const job = jobs.start(
        backupJob(deps(), { project, destination, verifyAfter: { mode: 'none' } }),
      );
      await clock.advance(1000);
      await job.done;
    }
    const run = await jobs.start(
      pruneJob(deps(), {
        project,
        destination,
        scope: manualFull,
        policy: { keepLast: 1 },
        dryRun: true,
      }),
    ).done;
    expect(run.detail).toMatchObject({
      dryRun: true,
      remove: ['bkp_0002', 'bkp_0001'],
      deleted: [],
    });
    expect(engine.visible(destination.id)).toHaveLength(3);
  });

  it('a verify job re-checks the least recently verified backups and records each result', async () => {
    for (let i = 0; i < 3; i++) {
      const job = jobs.start(
        backupJob(deps(), { project, destination, verifyAfter: { mode: 'none' } }),
      );
      await clock.advance(1000);
      await job.done;
    }
    catalog.backups.recordVerification(destination.id, 'bkp_0001', true);
    engine.corrupt.add('bkp_0003');
    const run = await jobs.start(verifyJob(deps(), { destination, project, batch: 2, sample: 0.1 }))
      .done;
    expect(engine.calls.filter((c) => c.startsWith('verify'))).toEqual([
      'verify:bkp_0002:0.1',
      'verify:bkp_0003:0.1',
    ]);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'INTEGRITY' } });
    expect(catalog.backups.get(destination.id, 'bkp_0002')?.verifyStatus).toBe('ok');
    expect(catalog.backups.get(destination.id, 'bkp_0003')?.verifyStatus).toBe('failed');
  });

  it('cancelAll cancels queued and running jobs and waits for them to be recorded', async () => {
    const a = jobs.start(backupJob(deps(), { project, destination }));
    const b = jobs.start(backupJob(deps(), { project, destination }));
    await clock.advance(100);
    await jobs.cancelAll('The daemon is stopping.');
    expect((await a.done).status).toBe('cancelled');
    expect((await b.done).status).toBe('cancelled');
    expect((await b.done).error?.message).toBe('The daemon is stopping.');
    expect(jobs.active()).toEqual([]);
  });
});
