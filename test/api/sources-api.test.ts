/**
 * The sources of a backup through the contract (the dispatcher over the real runtime):
 * which sources a project can read, a backup with chosen sources and filters, its
 * per-source counts in backups.list, and selections refused as data. Real Firestore and
 * Storage emulators; the daemon's environment names the Storage emulator, as for
 * scheduled backups of emulator projects.
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
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');

describe.skipIf(!host || !gcsHost)('sources through the contract', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let projectId: string;
  let destinationId: string;
  const local = { kind: 'local' as const };
  const bucket = `api-${randomBytes(4).toString('hex')}`;
  const saved = { ...process.env };

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-api-src-'));
    let keyring: Keyring;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'apisrc', 40));
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const storage = openStorageSource({ emulatorHost: gcsHost });
    for (const name of ['keep/a.txt', 'keep/b.txt', 'other/c.txt']) {
      await storage.bucket(bucket).file(name).save(Buffer.from(name), { resumable: false });
    }
    delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
    delete process.env.FIREBASE_DATABASE_EMULATOR_HOST;
    process.env.FIREBASE_STORAGE_EMULATOR_HOST = gcsHost;
  });
  afterAll(() => {
    process.env = saved;
    runtime?.close();
  });

  const finished = async (started: unknown): Promise<Run> => {
    expect(started).toMatchObject({ ok: true, value: { jobId: expect.any(String) } });
    return runtime.jobs.get((started as { value: { jobId: string } }).value.jobId)!.done;
  };

  it('says which sources the project can read, and why not the others', async () => {
    expect(await dispatch('sources.probe', { projectId }, local)).toEqual({
      ok: true,
      value: {
        sources: ['firestore', 'storage'],
        // No FIREBASE_DATABASE_EMULATOR_HOST either: the Realtime Database is skipped too.
        skipped: [
          { source: 'auth', reason: expect.stringMatching(/^emulator host not set/) },
          { source: 'rtdb', reason: expect.stringMatching(/^emulator host not set/) },
        ],
      },
    });
  });

  it('backs up the sources and filters asked for, and lists per-source counts', async () => {
    const run = await finished(
      await dispatch(
        'jobs.startBackup',
        {
          projectId,
          destinationId,
          sources: ['firestore', 'storage'],
          buckets: [bucket],
          storagePrefix: 'keep/',
        },
        local,
      ),
    );
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    // The run's detail carries the cross-checks (the seeded documents name no object).
    expect(run.detail).toMatchObject({
      crossChecks: { missingStorageObjects: { checked: 0, missing: 0, notChecked: 0 } },
    });
    const listed = (await dispatch('backups.list', { destinationId }, local)) as {
      value: Array<Record<string, unknown>>;
    };
    expect(listed.value.find((b) => b.id === run.backupId)).toMatchObject({
      documents: 40,
      sources: ['firestore', 'storage'],
      counts: { 'firestore.documents': 40, 'storage.objects': 2 },
      selection: {
        sources: ['firestore', 'storage'],
        storage: { buckets: [bucket], prefix: 'keep/' },
      },
    });
  });

  it('refuses a filter for a source the backup leaves out, and an unknown source, as data', async () => {
    expect(
      await dispatch('jobs.startBackup', { projectId, destinationId, buckets: [bucket] }, local),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/add "storage" to sources/),
      },
    });
    expect(
      await dispatch(
        'jobs.startBackup',
        { projectId, destinationId, sources: ['firestore', 'ftp'] },
        local,
      ),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(runtime.jobs.active()).toEqual([]);
  });

  it('fails a backup whose chosen source cannot be read before writing anything', async () => {
    const before = ((await dispatch('backups.list', { destinationId }, local)) as { value: [] })
      .value.length;
    delete process.env.FIREBASE_STORAGE_EMULATOR_HOST;
    try {
      const run = await finished(
        await dispatch(
          'jobs.startBackup',
          { projectId, destinationId, sources: ['firestore', 'storage'], buckets: [bucket] },
          local,
        ),
      );
      expect(run.status).toBe('failed');
      expect(run.error?.message).toMatch(/Preflight: the storage source cannot be read/);
    } finally {
      process.env.FIREBASE_STORAGE_EMULATOR_HOST = gcsHost;
    }
    const after = ((await dispatch('backups.list', { destinationId }, local)) as { value: [] })
      .value.length;
    expect(after).toBe(before);
  });
});
