import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import type { JobEvent, Run } from '../../src/shared/jobs.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');

/** The typed contract over the real runtime: what the GUI will call, here through the dispatcher. */
describe.skipIf(!host)('the engine API through the contract', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let projectId: string;
  let destinationId: string;
  const local = { kind: 'local' as const };

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-api-'));
    let keyring: Keyring;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'api', 2000));
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
  });
  afterAll(() => runtime?.close());

  it('starts a backup job, pushes its progress, records the run, and lists the backup', async () => {
    const events: JobEvent[] = [];
    const unsubscribe = runtime.jobs.subscribe((e) => events.push(e));
    const started = await dispatch('jobs.startBackup', { projectId, destinationId }, local);
    expect(started).toMatchObject({ ok: true, value: { jobId: expect.any(String) } });
    const jobId = (started as { value: { jobId: string } }).value.jobId;
    const run: Run = await runtime.jobs.get(jobId)!.done;
    unsubscribe();
    expect(run.status).toBe('succeeded');
    expect(
      events.some((e) => e.type === 'progress' && e.jobId === jobId && e.progress.items > 0),
    ).toBe(true);

    const listed = await dispatch('backups.list', { destinationId }, local);
    expect(listed).toMatchObject({
      ok: true,
      value: [expect.objectContaining({ id: run.backupId, documents: 2000 })],
    });
    const history = await dispatch('runs.history', { kind: 'backup' }, local);
    expect(history).toMatchObject({
      ok: true,
      value: [expect.objectContaining({ id: run.id, status: 'succeeded' })],
    });
  });

  it('lets a viewer read but not start a backup, and says so as data', async () => {
    const viewer = { kind: 'member' as const, role: 'viewer' as const };
    expect(await dispatch('backups.list', { destinationId }, viewer)).toMatchObject({ ok: true });
    expect(await dispatch('jobs.startBackup', { projectId, destinationId }, viewer)).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(runtime.jobs.active()).toEqual([]);
  });

  it('cancels a running job', async () => {
    const started = (await dispatch('jobs.startBackup', { projectId, destinationId }, local)) as {
      value: { jobId: string };
    };
    const job = runtime.jobs.get(started.value.jobId)!; // finished jobs leave the manager
    expect(await dispatch('jobs.cancel', { jobId: started.value.jobId }, local)).toEqual({
      ok: true,
      value: { cancelled: true },
    });
    const run = await job.done;
    expect(run.status).toBe('cancelled');
    expect(await dispatch('jobs.cancel', { jobId: 'no-such-job' }, local)).toEqual({
      ok: true,
      value: { cancelled: false },
    });
  });

  it('answers NOT_FOUND for a project that is not in the catalog', async () => {
    expect(
      await dispatch('jobs.startBackup', { projectId: 'nope', destinationId }, local),
    ).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });
});
