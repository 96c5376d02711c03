import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { AppStore } from '../../src/renderer/store/index.js';
import { rendererStore } from '../helpers/renderer-store.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');

/**
 * The "Back up now" slice over the real engine (in-memory transport): a start that fails
 * shows its error (as data) beside the project; one that starts is followed to its end.
 */
describe.skipIf(!host)('Back up now (renderer slice) over the real engine', () => {
  let runtime: Runtime;
  let store: AppStore;
  let stop: () => void;
  let dir: string;
  let projectId: string;
  let destinationId: string;
  const s = () => store.getState();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-backup-now-'));
    const seeded = await seededRuntime(host, dir, 'backup-now', 30);
    ({ runtime, projectId, destinationId } = seeded);
    ({ store, stop } = await rendererStore(runtime, seeded.keyring, dir));
  });
  afterAll(() => {
    stop?.();
    runtime?.close();
  });

  it('shows why a start failed beside that project, then backs up into the chosen destination', async () => {
    const gone = runtime.catalog.destinations.upsert({ name: 'gone', url: path.join(dir, 'gone') });
    runtime.catalog.destinations.remove(gone.id);

    expect(await s().backupNow.start(projectId, gone.id)).toBeUndefined();
    const error = s().backupNow.errorByProject[projectId];
    expect(error?.code).toBeTruthy();
    expect(error?.message).toMatch(/destination/i);
    expect(s().backupNow.jobIdByProject[projectId]).toBeUndefined();

    const jobId = await s().backupNow.start(projectId, destinationId);
    expect(jobId).toBeTruthy();
    expect(s().backupNow.errorByProject[projectId]).toBeNull();
    expect(s().backupNow.jobIdByProject[projectId]).toBe(jobId);
    const run = await runtime.jobs.get(jobId!)!.done;
    expect(run.status).toBe('succeeded');
    expect((await readdir(path.join(dir, 'backups'))).some((f) => f.endsWith('.fbm'))).toBe(true);
  });
});
