import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient } from '../../src/shared/api/client.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createMemoryTransport } from '../../src/shared/api/memory-transport.js';
import { createApiEvents } from '../../src/engine/api/events.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { createAppStore, type AppStore } from '../../src/renderer/store/index.js';
import { subscribeEvents } from '../../src/renderer/store/events.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';

const host = inject('firestoreEmulatorHost');

/**
 * The "Back up now" slice over the real engine (in-memory transport): a start that fails
 * shows its error (as data) beside the project; one that starts is followed to its end.
 */
describe.skipIf(!host)('Back up now (renderer slice) over the real engine', () => {
  let runtime: Runtime;
  let store: AppStore;
  let stopEvents: () => void;
  let dir: string;
  const s = () => store.getState();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-backup-now-'));
    const keyring = new Keyring(MasterKey.generate());
    runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
    const dispatch = createDispatcher(createApiHandlers(runtime, keyring, { dataDir: dir }));
    const client = createClient(createMemoryTransport(dispatch, createApiEvents(runtime)));
    store = createAppStore(client);
    stopEvents = subscribeEvents(store, client);
  });
  afterAll(() => {
    stopEvents?.();
    runtime?.close();
  });

  it('shows why a start failed beside that project, then backs up once the destination exists', async () => {
    const firebaseProjectId = testProject('backup-now');
    await seedDocuments(host, firebaseProjectId, { count: 30 });
    const project = runtime.catalog.projects.upsert({
      name: 'Shop',
      firebaseProjectId,
      emulatorHost: host,
    });
    const folder = await mkdtemp(path.join(dir, 'dest-'));
    const gone = runtime.catalog.destinations.upsert({ name: 'gone', url: `${folder}-gone` });
    runtime.catalog.destinations.remove(gone.id);

    expect(await s().backupNow.start(project.id, gone.id)).toBeUndefined();
    const error = s().backupNow.errorByProject[project.id];
    expect(error?.code).toBeTruthy();
    expect(error?.message).toMatch(/destination/i);
    expect(s().backupNow.jobIdByProject[project.id]).toBeUndefined();

    const dest = runtime.catalog.destinations.upsert({ name: 'folder', url: folder });
    const jobId = await s().backupNow.start(project.id, dest.id);
    expect(jobId).toBeTruthy();
    expect(s().backupNow.errorByProject[project.id]).toBeNull();
    expect(s().backupNow.jobIdByProject[project.id]).toBe(jobId);
    const run = await runtime.jobs.get(jobId!)!.done;
    expect(run.status).toBe('succeeded');
    expect((await readdir(folder)).some((f) => f.endsWith('.fbm'))).toBe(true);
  });
});
