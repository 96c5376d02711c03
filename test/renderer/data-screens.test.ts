import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { AppStore } from '../../src/renderer/store/index.js';
import { testProject } from '../helpers/firestore-seed.js';
import { rendererStore } from '../helpers/renderer-store.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';
import { until } from '../helpers/store-until.js';

const host = inject('firestoreEmulatorHost');

/**
 * The Backups, Restore, Schedules, History and Dashboard slices over the real engine and
 * emulator through the in-memory transport: what those screens do, without a browser.
 */
describe.skipIf(!host)('the data screens’ store over the real engine', () => {
  let runtime: Runtime;
  let store: AppStore;
  let stopEvents: () => void;
  let projectId: string;
  let destinationId: string;
  const s = () => store.getState();

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-data-screens-'));
    const seeded = await seededRuntime(host, dir, 'screens', 120);
    ({ runtime, projectId, destinationId } = seeded);
    ({ store, stop: stopEvents } = await rendererStore(runtime, seeded.keyring, dir));
    const jobId = (await s().jobs.startBackup({ projectId, destinationId }))!;
    await until(store, () => s().jobs.byId[jobId]?.status === 'succeeded');
  });
  afterAll(() => {
    stopEvents?.();
    runtime?.close();
  });

  it('Backups: lists, filters, opens the detail, browses to a document, refuses a wrong delete', async () => {
    await s().backups.load();
    const rows = s().backups.rows.value;
    expect(rows).toHaveLength(1);
    s().backups.setFilter({ text: 'nothing-like-this' });
    expect(s().backups.filter).toEqual({ text: 'nothing-like-this' });
    s().backups.setFilter({ text: '' });
    expect(s().backups.filter).toEqual({});

    await s().backups.select({ destinationId, backupId: rows[0]!.id });
    expect(s().backups.detail.value).toMatchObject({ id: rows[0]!.id, sources: ['firestore'] });
    await s().backups.openParent('');
    expect(s().backups.browser.collections.value.map((c) => c.id)).toEqual([
      'orders',
      'products',
      'users',
    ]);
    await s().backups.openCollection('users');
    const first = s().backups.browser.documents.value[0]!;
    await s().backups.openDocument(first.path);
    expect(s().backups.browser.document.value?.document.fields.name).toMatchObject({
      stringValue: expect.stringMatching(/^user number/),
    });
    expect(await s().backups.remove('not the id')).toBe(false);
    expect(s().backups.actionError?.code).toBe('INVALID_ARGUMENT');
  });

  it('Restore: plans, refuses a wrong confirmation, restores into the emulator', async () => {
    const backupId = s().backups.rows.value[0]!.id;
    await s().restore.chooseBackup(destinationId, backupId);
    expect(s().restore.collections.value).toHaveLength(3);
    // The sources offered are those the manifest names, with its counts.
    expect(s().restore.held.value).toEqual({
      sources: ['firestore'],
      counts: { 'firestore.documents': 120 },
    });
    const target = testProject('screens-restore');
    s().restore.setTarget({ kind: 'emulator', host, firebaseProjectId: target });
    s().restore.next(); // backup → selection
    s().restore.setDraft({ sources: [] });
    s().restore.next(); // nothing ticked: stays
    expect(s().restore.step).toBe('selection');
    s().restore.setDraft({ sources: null });
    s().restore.next();
    expect(s().restore.step).toBe('target');
    await s().restore.runPlan();
    expect(s().restore.plan.value).toMatchObject({
      confirmWith: target,
      planned: { create: 120 },
      sources: [
        {
          source: 'firestore',
          items: 120,
          included: true,
          planned: { create: 120, overwrite: 0, merge: 0, skip: 0 },
        },
      ],
    });
    expect(await s().restore.start('wrong')).toBe(false);
    expect(s().restore.startError?.code).toBe('INVALID_ARGUMENT');
    expect(await s().restore.start(target)).toBe(true);
    const jobId = s().restore.jobId!;
    await until(store, () => s().jobs.byId[jobId]?.status === 'succeeded');
    expect(s().restore.step).toBe('progress');
  });

  it('Schedules: creates from the editor, previews runs, follows schedule.changed', async () => {
    s().schedules.edit(null);
    s().schedules.setDraft({ name: 'nightly', projectId, destinationId, timeZone: 'UTC' });
    await s().schedules.previewRuns();
    expect(s().schedules.nextRuns.value).toHaveLength(5);
    expect(await s().schedules.save()).toBe(true);
    expect(s().schedules.list.value.map((x) => x.name)).toEqual(['nightly']);
    const id = s().schedules.list.value[0]!.id;
    await s().schedules.setEnabled(id, false);
    await until(store, () => s().schedules.list.value[0]?.enabled === false);
    s().schedules.edit(s().schedules.list.value[0]!);
    await s().schedules.previewRetention();
    expect(s().schedules.retention.value).toMatchObject({ keep: [], prune: [] });
  });

  it('History and Dashboard: runs with advice, health and series', async () => {
    await s().history.load();
    expect(s().history.runs.value.map((r) => r.kind)).toEqual(
      expect.arrayContaining(['backup', 'restore']),
    );
    await s().history.setFilter({ kind: 'restore' });
    expect(s().history.runs.value.every((r) => r.kind === 'restore')).toBe(true);
    await s().dashboard.load();
    expect(s().dashboard.overview.value.projects[0]).toMatchObject({ projectId, health: 'ok' });
    expect(s().dashboard.series.value).toHaveLength(1);
  });
});
