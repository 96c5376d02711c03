import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import type { AppStore } from '../../src/renderer/store/index.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { rendererStore } from '../helpers/renderer-store.js';
import { until } from '../helpers/store-until.js';

const host = inject('firestoreEmulatorHost');

/**
 * The renderer's store (slices, actions, the events module) over the real engine through
 * the in-memory transport: what the screens do, without a browser. The first-run guide's
 * path from an empty catalog to a verified backup, driven by job events.
 */
describe.skipIf(!host)('the renderer store over the real engine', () => {
  let runtime: Runtime;
  let store: AppStore;
  let dir: string;
  let stopEvents: () => void;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-store-'));
    const keyring = new Keyring(undefined);
    runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
    ({ store, stop: stopEvents } = await rendererStore(runtime, keyring, dir));
  });
  afterAll(() => {
    stopEvents?.();
    runtime?.close();
  });

  it('walks the first run: empty catalog → key and kit → project → folder → backup → verify', async () => {
    const s = () => store.getState();
    expect(await s().firstRun.detect()).toBe(true);
    expect(s().nav.screen).toBe('first-run');

    const keyId = await s().keys.generate();
    expect(keyId).toMatch(/^k[0-9a-f]+$/);
    const kit = await s().keys.recoveryKit();
    expect(kit?.text).toContain(keyId);
    expect(s().keys.kitSavedAt).not.toBeNull();

    const firebaseProjectId = testProject('store-first-run');
    await seedDocuments(host, firebaseProjectId, { count: 50 });
    const project = await s().projects.add({
      name: 'First',
      firebaseProjectId,
      connection: { kind: 'emulator', host },
    });
    expect(project).toBeDefined();
    expect(s().projects.list.value.map((p) => p.name)).toEqual(['First']);
    expect(await s().projects.test(project!.id)).toMatchObject({ state: 'ok' });
    s().firstRun.chooseProject(project!.id);

    await s().destinations.load();
    const local = s().destinations.kinds.value.find((k) => k.kind === 'local')!;
    expect(local.suggestedUrl).toBe(path.join(dir, 'backups'));
    expect(await s().destinations.test({ url: local.suggestedUrl!, options: {} })).toMatchObject({
      state: 'ok',
    });
    const destination = await s().destinations.add({
      name: 'Here',
      url: local.suggestedUrl!,
      options: {},
    });
    s().firstRun.chooseDestination(destination!.id);

    await s().firstRun.backUp();
    const backupJob = s().firstRun.backupJobId!;
    await until(store, () => s().jobs.byId[backupJob]?.status === 'succeeded');
    expect(s().jobs.byId[backupJob]).toMatchObject({ kind: 'backup', error: null });
    expect(s().jobs.byId[backupJob]?.run?.counts).toMatchObject({ 'firestore.documents': 50 });

    await s().firstRun.verify();
    const verifyJob = s().firstRun.verifyJobId!;
    await until(store, () => s().jobs.byId[verifyJob]?.status === 'succeeded');

    await s().keys.load();
    expect(s().keys.overview.value?.keys[0]).toMatchObject({ id: keyId, backupCount: 1 });
    expect(await s().firstRun.detect()).toBe(false); // not a first run any more
  });

  it('keeps errors as data in the slice that asked, for the screen to show', async () => {
    const s = () => store.getState();
    const again = await s().projects.add({
      name: 'First',
      firebaseProjectId: 'demo-other',
      connection: { kind: 'emulator', host },
    });
    expect(again).toBeUndefined();
    expect(s().projects.actionError).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await s().keys.generate()).toBeUndefined();
    expect(s().keys.actionError).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await s().settings.update({ theme: 'dark' })).toBe(true);
    expect(s().settings.value.theme).toBe('dark');
  });

  it('cancels a backup from the jobs slice and keeps nothing', async () => {
    const s = () => store.getState();
    const firebaseProjectId = testProject('store-cancel');
    await seedDocuments(host, firebaseProjectId, { count: 4000, withSubcollections: true });
    const project = await s().projects.add({
      name: 'Big',
      firebaseProjectId,
      connection: { kind: 'emulator', host },
    });
    const url = path.join(dir, 'cancel-backups');
    const destination = await s().destinations.add({ name: 'Cancel', url, options: {} });
    const jobId = (await s().jobs.startBackup({
      projectId: project!.id,
      destinationId: destination!.id,
    }))!;
    await until(store, () => (s().jobs.byId[jobId]?.progress?.items ?? 0) > 0);
    await s().jobs.cancel(jobId);
    await until(store, () => s().jobs.byId[jobId]?.status === 'cancelled');
    expect(s().jobs.byId[jobId]?.run?.status).toBe('cancelled');
    expect(await readdir(url).catch(() => [])).toEqual([]);
  });
});
