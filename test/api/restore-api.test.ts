import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import type { RestorePlan } from '../../src/shared/api/methods/restore.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { readAllRaw, testProject, writeRaw } from '../helpers/firestore-seed.js';
import { okValue as value } from '../helpers/api-result.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');
const local = { kind: 'local' as const };

async function documentsOf(project: string): Promise<string[]> {
  const conn = await openFirestore({ projectId: project, emulatorHost: host });
  try {
    return [...(await readAllRaw(conn)).keys()].sort();
  } finally {
    await conn.close();
  }
}

/** The Restore wizard's methods: plan (dry run) and run, over the real engine and emulator. */
describe.skipIf(!host)('restore through the contract', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let destinationId: string;
  let backupId: string;
  let dir: string;
  let source: string[];
  const other = testProject('restore-target');
  const target = { kind: 'emulator' as const, host, firebaseProjectId: other };
  const ref = () => ({ destinationId, backupId });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-restore-api-'));
    let keyring: Keyring;
    let projectId: string;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'rapi', 300));
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const { jobId } = value<{ jobId: string }>(
      await dispatch('jobs.startBackup', { projectId, destinationId }, local),
    );
    const run = await runtime.jobs.get(jobId)!.done;
    backupId = run.backupId!;
    source = await documentsOf(runtime.catalog.projects.get(projectId).firebaseProjectId);
  });
  afterAll(() => runtime?.close());

  it('plans a restore into an empty project: everything created, counts per collection', async () => {
    const plan = value<RestorePlan>(await dispatch('restore.plan', { ...ref(), target }, local));
    expect(plan).toMatchObject({
      target: `${other}/(default)`,
      confirmWith: other,
      mode: 'create',
      documents: 300,
      planned: { create: 300, overwrite: 0, skip: 0, delete: 0 },
    });
    expect(plan.collections).toEqual([
      { collection: 'orders', documents: 100 },
      { collection: 'products', documents: 100 },
      { collection: 'users', documents: 100 },
    ]);
    expect(await documentsOf(other)).toEqual([]);
    const users = value<RestorePlan>(
      await dispatch('restore.plan', { ...ref(), target, collections: ['users'] }, local),
    );
    expect(users.collections).toEqual([{ collection: 'users', documents: 100 }]);
    expect(users.planned.create).toBe(100);
  });

  it('refuses to run without the target project id typed, then restores as a job', async () => {
    for (const confirm of ['', 'yes', runtime.catalog.projects.list()[0]!.firebaseProjectId]) {
      expect(await dispatch('restore.start', { ...ref(), target, confirm }, local)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' },
      });
    }
    expect(await documentsOf(other)).toEqual([]);
    const { jobId } = value<{ jobId: string }>(
      await dispatch('restore.start', { ...ref(), target, confirm: other }, local),
    );
    const run = await runtime.jobs.get(jobId)!.done;
    expect(run).toMatchObject({ kind: 'restore', status: 'succeeded', counts: { created: 300 } });
    expect(await documentsOf(other)).toEqual(source);
  });

  it('plans a mirror that deletes what the backup lacks, and a create that skips', async () => {
    const conn = await openFirestore({ projectId: other, emulatorHost: host });
    await writeRaw(conn, [{ path: 'users/extra', fields: { x: { stringValue: 'y' } } }]);
    await conn.close();
    const mirror = value<RestorePlan>(
      await dispatch('restore.plan', { ...ref(), target, mode: 'mirror' }, local),
    );
    expect(mirror.planned).toMatchObject({
      overwrite: 300,
      delete: 1,
      deletePaths: ['users/extra'],
    });
    const create = value<RestorePlan>(await dispatch('restore.plan', { ...ref(), target }, local));
    expect(create.planned).toMatchObject({ create: 0, skip: 300 });
    expect(await documentsOf(other)).toContain('users/extra');
  });

  it('restores into a folder, confirmed with the folder', async () => {
    const folder = path.join(dir, 'restored');
    const into = { kind: 'folder' as const, directory: folder };
    const plan = value<RestorePlan>(
      await dispatch('restore.plan', { ...ref(), target: into }, local),
    );
    expect(plan).toMatchObject({ jobId: null, confirmWith: null, planned: { create: 300 } });
    expect(
      await dispatch('restore.plan', { ...ref(), target: into, mode: 'mirror' }, local),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const { jobId } = value<{ jobId: string }>(
      await dispatch('restore.start', { ...ref(), target: into, confirm: folder }, local),
    );
    expect((await runtime.jobs.get(jobId)!.done).status).toBe('succeeded');
    expect((await readdir(folder)).sort()).toContain('backup.json');
  });

  it('rejects a malformed target as INVALID_ARGUMENT', async () => {
    for (const bad of [
      { kind: 'emulator', host: 'no port', firebaseProjectId: other },
      { kind: 'cloud' },
      { kind: 'project' },
    ]) {
      expect(await dispatch('restore.plan', { ...ref(), target: bad }, local)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' },
      });
    }
  });
});
