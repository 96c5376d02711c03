import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import type { DestinationRecord, ProjectRecord } from '../../src/engine/catalog/projects.js';
import { ManualClock } from '../../src/engine/clock.js';
import { JobManager } from '../../src/engine/jobs/job-manager.js';
import { MemoryNotifier } from '../../src/engine/notify/notifier.js';
import { occurrencesBetween } from '../../src/engine/scheduler/cron.js';
import { LockManager } from '../../src/engine/scheduler/locks.js';
import { Scheduler } from '../../src/engine/scheduler/scheduler.js';
import { AppError } from '../../src/shared/errors.js';
import type { ScheduleInput } from '../../src/shared/schedules.js';
import { FakeEngine } from '../jobs/fake-engine.js';

let clock: ManualClock;
let catalog: Catalog;
let engine: FakeEngine;
let notifier: MemoryNotifier;
let project: ProjectRecord;
let destination: DestinationRecord;

const retry = { maxAttempts: 2, baseDelayMs: 60_000, factor: 2, maxDelayMs: 60_000 };

function makeScheduler(): Scheduler {
  const locks = new LockManager(catalog.db, { clock, heartbeatMs: 3_600_000 });
  const jobs = new JobManager({ catalog, locks, clock });
  return new Scheduler({ catalog, engine, jobs, clock, notifier, retry });
}

function addSchedule(extra: Partial<ScheduleInput> = {}) {
  return catalog.schedules.add({
    name: 'nightly',
    projectId: project.id,
    destinationId: destination.id,
    cron: '0 2 * * *',
    timeZone: 'UTC',
    verifyAfter: { mode: 'none' },
    ...extra,
  });
}

beforeEach(() => {
  clock = new ManualClock('2024-05-01T00:00:00Z');
  catalog = Catalog.open(':memory:', clock);
  engine = new FakeEngine(clock);
  notifier = new MemoryNotifier();
  project = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
  destination = catalog.destinations.upsert({ name: 'local', url: '/tmp/fb-dest' });
});
afterEach(() => catalog.close());

describe('scheduler', () => {
  it('fires at the cron time, once', async () => {
    const s = addSchedule();
    const scheduler = makeScheduler();
    clock.set('2024-05-01T01:59:59Z');
    expect(await scheduler.check()).toEqual([]);
    clock.set('2024-05-01T02:00:00.5Z');
    const [job] = await scheduler.check();
    expect(job).toBeDefined();
    expect(await scheduler.check()).toEqual([]);
    await clock.advance(1000);
    const run = await job!.done;
    expect(run).toMatchObject({
      status: 'succeeded',
      trigger: 'schedule',
      scheduleId: s.id,
      scheduledFor: '2024-05-01T02:00:00.000Z',
    });
    expect(notifier.sent).toEqual([]);
  });

  it('uses the schedule time zone', async () => {
    addSchedule({ timeZone: 'America/New_York' }); // 02:00 EDT = 06:00 UTC
    const scheduler = makeScheduler();
    clock.set('2024-05-01T05:59:00Z');
    expect(await scheduler.check()).toEqual([]);
    clock.set('2024-05-01T06:00:10Z');
    const [job] = await scheduler.check();
    expect(catalog.runs.get(job!.id)?.scheduledFor).toBe('2024-05-01T06:00:00.000Z');
  });

  it('after a simulated sleep, records each missed run, reports them, and catches up once', async () => {
    const s = addSchedule();
    const scheduler = makeScheduler();
    // The laptop sleeps from 00:00 on May 1 to 09:00 on May 4: four 02:00 runs missed.
    clock.set('2024-05-04T09:00:00Z');
    const started = await scheduler.check();
    expect(started).toHaveLength(1);
    const missed = catalog.runs.list({ scheduleId: s.id, status: 'missed' });
    expect(missed.map((r) => r.scheduledFor).sort()).toEqual([
      '2024-05-01T02:00:00.000Z',
      '2024-05-02T02:00:00.000Z',
      '2024-05-03T02:00:00.000Z',
      '2024-05-04T02:00:00.000Z',
    ]);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({ kind: 'run.missed', missed: { count: 4 } });
    expect(notifier.sent[0]!.message).toMatch(/missed 4 runs .*Catching up with one run now/);
    await clock.advance(1000);
    expect(await started[0]!.done).toMatchObject({
      status: 'succeeded',
      trigger: 'catch-up',
      scheduledFor: '2024-05-04T02:00:00.000Z',
    });
    // Waking again the same morning finds nothing more to do.
    expect(await scheduler.check()).toEqual([]);
    expect(engine.calls.filter((c) => c.startsWith('backup'))).toHaveLength(1);
  });

  it('a single occurrence found too late counts as missed (app was closed at 02:00)', async () => {
    addSchedule();
    const scheduler = makeScheduler();
    clock.set('2024-05-01T08:00:00Z');
    const [job] = await scheduler.check();
    expect(catalog.runs.get(job!.id)?.trigger).toBe('catch-up');
    expect(catalog.runs.list({ status: 'missed' })).toHaveLength(1);
  });

  it('a new schedule does not count occurrences before it existed as missed', async () => {
    clock.set('2024-05-10T12:00:00Z');
    addSchedule();
    const scheduler = makeScheduler();
    expect(await scheduler.check()).toEqual([]);
    expect(catalog.runs.list()).toEqual([]);
  });

  it('retries a transient failure, then notifies the failure', async () => {
    addSchedule();
    engine.failNext = [
      new AppError('UNAVAILABLE', 'network down'),
      new AppError('UNAVAILABLE', 'still down'),
    ];
    const scheduler = makeScheduler();
    clock.set('2024-05-01T02:00:00Z');
    const [job] = await scheduler.check();
    await clock.advance(1000 + 60_000 + 1000);
    const run = await job!.done;
    expect(run).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'UNAVAILABLE' } });
    await clock.advance(0);
    expect(notifier.sent.map((n) => n.kind)).toEqual(['run.failed']);
    expect(notifier.sent[0]!.message).toMatch(/failed after 2 attempts: still down/);
  });

  it('notifies success only when the schedule asks for it', async () => {
    addSchedule({ notifyOnSuccess: true });
    const scheduler = makeScheduler();
    clock.set('2024-05-01T02:00:00Z');
    const [job] = await scheduler.check();
    await clock.advance(1000);
    await job!.done;
    await clock.advance(0);
    expect(notifier.sent.map((n) => n.kind)).toEqual(['run.succeeded']);
  });

  it('two schedulers sharing one catalog never both run the same occurrence', async () => {
    addSchedule();
    const a = makeScheduler();
    const b = makeScheduler();
    clock.set('2024-05-01T02:00:00Z');
    const started = [...(await a.check()), ...(await b.check())];
    expect(started).toHaveLength(1);
  });

  it('an occurrence that comes while the previous run is still going is recorded missed, not stacked', async () => {
    addSchedule({ cron: '*/10 * * * *' });
    engine.durationMs = 15 * 60_000;
    const scheduler = makeScheduler();
    clock.set('2024-05-01T00:10:00Z');
    const [first] = await scheduler.check();
    await clock.advance(10 * 60_000);
    expect(await scheduler.check()).toEqual([]);
    const missed = catalog.runs.list({ status: 'missed' });
    expect(missed).toHaveLength(1);
    expect(missed[0]!.detail).toMatchObject({ reason: expect.stringMatching(/still going/) });
    await clock.advance(5 * 60_000);
    expect((await first!.done).status).toBe('succeeded');
  });

  it('runs a verify schedule over the least recently verified backups', async () => {
    addSchedule(); // the nightly backup, verifying nothing after itself
    addSchedule({ name: 'weekly-verify', kind: 'verify', cron: '0 3 * * 0', verifyBatch: 2 });
    const scheduler = makeScheduler();
    for (let i = 0; i < 3; i++) {
      const job = scheduler.runNow('nightly');
      await clock.advance(1000);
      await job.done;
    }
    const run = await scheduler.runNow('weekly-verify').done;
    expect(run).toMatchObject({ kind: 'verify', status: 'succeeded', trigger: 'manual' });
    expect(engine.calls.filter((c) => c.startsWith('verify'))).toEqual([
      'verify:bkp_0001:1',
      'verify:bkp_0002:1',
    ]);
    await scheduler.runNow('weekly-verify').done;
    // Next time the never-verified one comes first, then the oldest verification.
    expect(engine.calls.filter((c) => c.startsWith('verify')).slice(2)).toEqual([
      'verify:bkp_0003:1',
      'verify:bkp_0001:1',
    ]);
  });
});

describe('cron', () => {
  it('enumerates occurrences across a DST change without inventing extra ones', () => {
    const { occurrences, total } = occurrencesBetween(
      '0 2 * * *',
      'Europe/Paris',
      new Date('2024-03-30T00:00:00Z'),
      new Date('2024-04-02T00:00:00Z'),
    );
    expect(total).toBe(4);
    expect(occurrences.map((d) => d.toISOString())).toEqual([
      '2024-03-30T01:00:00.000Z',
      '2024-03-31T01:00:00.000Z', // 02:00 does not exist that night: 03:00 CEST
      '2024-04-01T00:00:00.000Z',
      '2024-04-02T00:00:00.000Z',
    ]);
  });

  it('keeps the newest occurrences when there are more than the limit', () => {
    const { occurrences, total } = occurrencesBetween(
      '0 * * * *',
      'UTC',
      new Date('2024-01-01T00:00:00Z'),
      new Date('2024-01-02T00:00:00Z'),
      3,
    );
    expect(total).toBe(24);
    expect(occurrences.at(-1)?.toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(occurrences).toHaveLength(3);
  });

  it('rejects a bad cron expression with a message that shows a good one', () => {
    expect(() =>
      catalog.schedules.add({
        name: 'x',
        projectId: project.id,
        destinationId: destination.id,
        cron: '61 * * * *',
      }),
    ).toThrow(/Invalid cron expression.*"0 2 \* \* \*"/);
  });
});
