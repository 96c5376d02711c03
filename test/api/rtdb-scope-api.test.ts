/**
 * RTDB paths and instances through the contract (the dispatcher over the real runtime):
 * jobs.startBackup reads only the chosen paths from the Realtime Database stand-in
 * (test/setup/rtdb-server.ts, named by the daemon's FIREBASE_DATABASE_EMULATOR_HOST as
 * for scheduled backups of emulator projects) and records them as the selection;
 * retention over manual backups keeps selections apart; bad filters are refused as data.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import type { Run } from '../../src/shared/jobs.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { openRtdb } from '../../src/engine/sources/rtdb/connection.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');
const rtdbHost = inject('rtdbHost');

describe.skipIf(!host || !rtdbHost)('RTDB selections through the contract', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let projectId: string;
  let destinationId: string;
  const local = { kind: 'local' as const };
  // The stand-in keeps one tree for every instance: work under a key of our own.
  const root = `/t${randomBytes(4).toString('hex')}`;
  const saved = { ...process.env };

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-api-rtdb-'));
    let keyring: Keyring;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'apirtdb', 6));
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const firebaseProjectId = runtime.catalog.projects.get(projectId).firebaseProjectId;
    const conn = await openRtdb({ projectId: firebaseProjectId, emulatorHost: rtdbHost });
    try {
      const db = await conn.instance(`${firebaseProjectId}-default-rtdb`);
      await db.set(root, { a: { n: 1 }, b: { n: 2 } });
    } finally {
      await conn.close();
    }
    process.env.FIREBASE_DATABASE_EMULATOR_HOST = rtdbHost;
  });
  afterAll(() => {
    process.env = saved;
    runtime?.close();
  });

  const backup = async (scope: Record<string, unknown>): Promise<Run> => {
    const started = await dispatch(
      'jobs.startBackup',
      { projectId, destinationId, sources: ['firestore', 'rtdb'], ...scope },
      local,
    );
    expect(started).toMatchObject({ ok: true, value: { jobId: expect.any(String) } });
    const run = await runtime.jobs.get((started as { value: { jobId: string } }).value.jobId)!.done;
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    return run;
  };
  const listed = async (): Promise<Array<Record<string, unknown>>> =>
    ((await dispatch('backups.list', { destinationId }, local)) as { value: [] }).value;

  it('reads only the chosen paths and records them as the selection', async () => {
    const onlyA = await backup({ rtdbPaths: [`${root}/a`] });
    const whole = await backup({ rtdbPaths: [`${root}/a`, `${root}/b`] });
    const counts = (id: string | null) =>
      listed().then((l) => l.find((b) => b.id === id)!.counts as Record<string, number>);
    // Fewer RTDB records for one path than for two.
    expect((await counts(onlyA.backupId))['rtdb.records']).toBeLessThan(
      (await counts(whole.backupId))['rtdb.records']!,
    );
    expect((await listed()).find((b) => b.id === onlyA.backupId)).toMatchObject({
      sources: ['firestore', 'rtdb'],
      selection: { sources: ['firestore', 'rtdb'], rtdb: { paths: [`${root}/a`] } },
    });

    // Retention over manual backups: each path selection is its own scope, so keeping
    // the last one of /a and /b never deletes the only backup of /a alone.
    const preview = async (scope: Record<string, unknown>) =>
      (await dispatch(
        'schedules.retentionPreview',
        {
          retention: { keepLast: 1 },
          projectId,
          destinationId,
          scope: { sources: ['firestore', 'rtdb'], ...scope },
        },
        local,
      )) as { ok: true; value: { keep: Array<{ id: string }>; prune: Array<{ id: string }> } };
    const both = await preview({ rtdbPaths: [`${root}/b`, `${root}/a`] });
    expect(both.value.keep.map((k) => k.id)).toEqual([whole.backupId]);
    expect(both.value.prune).toEqual([]);
    const a = await preview({ rtdbPaths: [`${root}/a`] });
    expect(a.value.keep.map((k) => k.id)).toEqual([onlyA.backupId]);
    // Whole trees: neither backup is in that scope.
    expect((await preview({})).value.keep).toEqual([]);
  });

  it('refuses RTDB filters without the rtdb source, and a bad path, as data', async () => {
    expect(
      await dispatch(
        'jobs.startBackup',
        { projectId, destinationId, rtdbPaths: ['/a'], rtdbInstances: ['x'] },
        local,
      ),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/rtdbInstances and rtdbPaths select rtdb data.*add "rtdb"/),
      },
    });
    expect(
      await dispatch(
        'jobs.startBackup',
        { projectId, destinationId, sources: ['rtdb'], rtdbPaths: ['/users/a.b'] },
        local,
      ),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(runtime.jobs.active()).toEqual([]);
  });

  it('keeps RTDB paths in a schedule made through the contract, and refuses them without rtdb', async () => {
    const schedule = (name: string, scope: Record<string, unknown>) =>
      dispatch(
        'schedules.create',
        { name, projectId, destinationId, cron: '0 2 * * *', scope },
        local,
      );
    expect(
      await schedule('rtdb-users', { sources: ['firestore', 'rtdb'], rtdbPaths: ['/users'] }),
    ).toMatchObject({
      ok: true,
      value: { schedule: { scope: { sources: ['firestore', 'rtdb'], rtdbPaths: ['/users'] } } },
    });
    // Every run would ignore the paths: refused when the schedule is made, and when edited.
    expect(await schedule('no-rtdb', { rtdbPaths: ['/users'] })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/add "rtdb" to sources/) },
    });
    const id = runtime.catalog.schedules.get('rtdb-users').id;
    expect(
      await dispatch(
        'schedules.update',
        { id, changes: { scope: { rtdbPaths: ['/users'] } } },
        local,
      ),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
});
