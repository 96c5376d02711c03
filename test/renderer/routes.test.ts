import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { AppStore } from '../../src/renderer/store/index.js';
import { appRoute } from '../../src/shared/routes.js';
import { rendererStore } from '../helpers/renderer-store.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';
import { until } from '../helpers/store-until.js';

const host = inject('firestoreEmulatorHost');

/**
 * A notification's click opens the app at a route (`#/history?run=<id>`, built by the
 * main process with the same appRoute): the renderer opens that screen on that item.
 */
describe.skipIf(!host)('routes from notifications, in the renderer store', () => {
  let runtime: Runtime;
  let store: AppStore;
  let stop: () => void;
  let destinationId: string;
  let runId: string;
  let backupId: string;
  const s = () => store.getState();

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-routes-'));
    const seeded = await seededRuntime(host, dir, 'routes', 10);
    ({ runtime, destinationId } = seeded);
    ({ store, stop } = await rendererStore(runtime, seeded.keyring, dir));
    runId = (await s().jobs.startBackup({ projectId: seeded.projectId, destinationId }))!;
    await until(store, () => s().jobs.byId[runId]?.status === 'succeeded');
    backupId = runtime.catalog.runs.get(runId)!.backupId!;
  });
  afterAll(() => {
    stop?.();
    runtime?.close();
  });

  it('a run route opens History on that run’s detail, whatever the filter', async () => {
    await s().history.setFilter({ status: 'failed' }); // would hide the run
    await s().nav.openRoute(`#${appRoute('history', { run: runId })}`);
    expect(s().nav.screen).toBe('history');
    expect(s().nav.params).toEqual({ run: runId });
    expect(s().history.focused.value).toMatchObject({ id: runId, status: 'succeeded' });
    expect(s().history.filter).toEqual({});
    expect(s().history.runs.value.map((r) => r.id)).toContain(runId);
  });

  it('an unknown run says so on the History screen', async () => {
    await s().nav.openRoute(`#${appRoute('history', { run: 'run_nope' })}`);
    expect(s().nav.screen).toBe('history');
    expect(s().history.focused.value).toBeNull();
    expect(s().history.focused.error?.code).toBe('NOT_FOUND');
  });

  it('a backup route opens that backup’s detail on the Backups screen', async () => {
    await s().nav.openRoute(
      `#${appRoute('backups', { destination: destinationId, backup: backupId })}`,
    );
    expect(s().nav.screen).toBe('backups');
    expect(s().backups.selected).toEqual({ destinationId, backupId });
    expect(s().backups.detail.value).toMatchObject({ id: backupId });
  });

  it('a key route opens Keys for that destination', async () => {
    await s().nav.openRoute(`#${appRoute('keys', { destination: destinationId })}`);
    expect(s().nav.screen).toBe('keys');
    expect(s().nav.params.destination).toBe(destinationId);
  });

  it('leaves the screen as it is for a fragment that is no route', async () => {
    s().nav.go('dashboard');
    await s().nav.openRoute('#screen');
    await s().nav.openRoute('#/no-such-screen');
    expect(s().nav.screen).toBe('dashboard');
    expect(s().nav.params).toEqual({});
  });
});
