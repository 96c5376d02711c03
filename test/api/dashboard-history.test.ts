import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { okValue as value } from '../helpers/api-result.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');
const local = { kind: 'local' as const };

/** The Dashboard's and History's methods over a real backup, schedule and recorded runs. */
describe.skipIf(!host)('dashboard and history through the contract', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let projectId: string;
  let destinationId: string;
  let goodRun: string;
  let scheduleId: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-dash-'));
    let keyring: Keyring;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'dash', 200));
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const { jobId } = value<{ jobId: string }>(
      await dispatch('jobs.startBackup', { projectId, destinationId }, local),
    );
    expect((await runtime.jobs.get(jobId)!.done).status).toBe('succeeded');
    goodRun = jobId;
    const created = value<{ schedule: { id: string } }>(
      await dispatch(
        'schedules.create',
        { name: 'hourly', projectId, destinationId, cron: '0 * * * *' },
        local,
      ),
    );
    scheduleId = created.schedule.id;
    // What the scheduler records when the machine slept, and a run that failed.
    runtime.catalog.runs.create({
      kind: 'backup',
      trigger: 'schedule',
      status: 'missed',
      projectId,
      destinationId,
      scheduleId,
      scheduledFor: new Date(),
      detail: { reason: 'FireBackup was not running then (machine asleep or app closed)' },
    });
    const failed = runtime.catalog.runs.create({
      kind: 'backup',
      trigger: 'catch-up',
      projectId,
      destinationId,
      scheduleId,
    });
    runtime.catalog.runs.update(failed.id, {
      status: 'failed',
      startedAt: new Date(),
      finishedAt: new Date(),
      error: {
        code: 'PERMISSION_DENIED',
        message: 'Firestore refused the service account.',
        fault: 'user',
        retryable: false,
      },
    });
  });
  afterAll(() => runtime?.close());

  it("shows each project's health, next run and failures, and each destination's usage", async () => {
    const overview = value<{
      projects: Array<Record<string, unknown>>;
      destinations: Array<{ backups: number; bytes: number }>;
    }>(await dispatch('dashboard.overview', {}, local));
    expect(overview.projects).toHaveLength(1);
    expect(overview.projects[0]).toMatchObject({
      projectId,
      health: 'failing',
      failuresSinceGood: 2,
      lastGood: { runId: goodRun, backupId: expect.stringMatching(/^bkp_/) },
      lastRun: { status: 'failed', error: { code: 'PERMISSION_DENIED' } },
      nextRun: { scheduleId, scheduleName: 'hourly', at: expect.stringMatching(/:00:00\.000Z$/) },
    });
    expect(overview.destinations[0]!.backups).toBe(1);
    expect(overview.destinations[0]!.bytes).toBeGreaterThan(1000);
  });

  it('gives the time series of size, documents and duration', async () => {
    const series = value<Array<Record<string, unknown>>>(
      await dispatch('dashboard.series', { projectId }, local),
    );
    expect(series).toEqual([
      expect.objectContaining({
        runId: goodRun,
        documents: 200,
        bytes: expect.any(Number),
        durationSeconds: expect.any(Number),
      }),
    ]);
    expect(value(await dispatch('dashboard.series', { projectId: 'prj_other' }, local))).toEqual(
      [],
    );
  });

  it('lists runs with filters, including missed and failed ones with what to do', async () => {
    const all = value<
      Array<{ status: string; advice: string | null; scheduleName: string | null }>
    >(await dispatch('history.runs', { projectId }, local));
    expect(all.map((r) => r.status)).toEqual(['failed', 'missed', 'succeeded']);
    expect(all[0]!.advice).toMatch(/credentials/);
    expect(all[0]!.scheduleName).toBe('hourly');
    expect(all[1]!.advice).toMatch(/not running/);
    expect(all[2]!.advice).toBeNull();
    const missed = value<unknown[]>(await dispatch('history.runs', { status: 'missed' }, local));
    expect(missed).toHaveLength(1);
    expect(value<unknown[]>(await dispatch('history.runs', { kind: 'restore' }, local))).toEqual(
      [],
    );
    expect(await dispatch('history.runs', { status: 'exploded' }, local)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await dispatch('history.run', { runId: goodRun }, local)).toMatchObject({
      ok: true,
      value: { id: goodRun, status: 'succeeded', projectName: 'dash' },
    });
    expect(await dispatch('history.run', { runId: 'run_nope' }, local)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });
});
