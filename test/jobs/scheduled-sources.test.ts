/**
 * A scheduled backup whose scope names Auth and Storage: the job adapter passes the
 * sources, the scope's buckets and (for an emulator project) the daemon's emulators to
 * the engine, against the Firestore, Auth and Storage emulators.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import { createEngineOps, otherSourcesOf } from '../../src/engine/jobs/engine-adapter.js';
import { loadKeyring } from '../../src/engine/keys/keyring.js';
import { openAuth } from '../../src/engine/sources/auth/connection.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';

const firestoreHost = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');
const auth = useAuthEmulator();

describe.skipIf(!firestoreHost || !gcsHost)('scheduled backups of Auth and Storage', () => {
  it('backs up the sources its scope names, from the emulators of the daemon', async () => {
    const projectId = testProject('sched-srcs');
    await seedDocuments(firestoreHost, projectId, { count: 30 });
    await openAuth({ projectId, emulatorHost: auth.host }).request(
      'POST',
      `/v1/projects/${projectId}/accounts:batchCreate`,
      { users: [{ localId: 'a' }, { localId: 'b' }, { localId: 'c' }] },
    );
    const bucket = `sched-${randomBytes(4).toString('hex')}`;
    await openStorageSource({ emulatorHost: gcsHost })
      .bucket(bucket)
      .file('f.txt')
      .save(Buffer.from('scheduled'), { resumable: false });

    const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-sched-srcs-'));
    const catalog = Catalog.open(path.join(dir, 'catalog.sqlite'));
    try {
      const project = catalog.projects.upsert({
        name: 'sched',
        firebaseProjectId: projectId,
        emulatorHost: firestoreHost,
      });
      const destination = catalog.destinations.upsert({ name: 'local', url: path.join(dir, 'd') });
      const scope = {
        sources: ['firestore' as const, 'auth' as const, 'storage' as const],
        buckets: [bucket],
      };
      const env = {
        FIREBASE_AUTH_EMULATOR_HOST: auth.host,
        FIREBASE_STORAGE_EMULATOR_HOST: gcsHost,
      };
      expect(otherSourcesOf(project, scope, env)).toEqual({
        sources: ['firestore', 'auth', 'storage'],
        auth: { projectId, emulatorHost: auth.host },
        storage: { projectId, emulatorHost: gcsHost, buckets: [bucket] },
        // No FIREBASE_DATABASE_EMULATOR_HOST: an emulator project then names no RTDB host.
        rtdb: { projectId },
      });
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const engine = createEngineOps({
          keyring: await loadKeyring({ env: { ENCRYPTION_KEY: randomBytes(32).toString('hex') } }),
        });
        const outcome = await engine.backup({ project, destination, scope }, {});
        expect(outcome.counts).toMatchObject({
          'firestore.documents': 30,
          'auth.users': 3,
          'storage.objects': 1,
        });
        // The run's detail carries the cross-checks: the 10 seeded users/* documents have no user.
        expect(outcome.crossChecks?.uidsWithoutUser).toMatchObject({ checked: 10, missing: 10 });
      } finally {
        process.env = saved;
      }
      // Without sources in the scope, a schedule stays a Firestore backup.
      expect(otherSourcesOf(project, {}, env)).toEqual({});
    } finally {
      catalog.close();
    }
  });
});
