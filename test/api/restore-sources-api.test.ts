/**
 * The Restore wizard's methods with every source (the dispatcher over the real runtime):
 * a backup of Firestore, Auth users, Storage files and a Realtime Database subtree, taken
 * through the contract, planned (per-source counts) and restored into another project of
 * the emulators, each source checked there; unticked sources are left alone; choices the
 * target cannot take are refused as data. Real Firestore, Auth and Storage emulators and
 * the RTDB stand-in, named by the daemon's environment as for emulator projects.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import type { RestorePlan } from '../../src/shared/api/methods/restore.js';
import type { Run } from '../../src/shared/jobs.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { openAuth } from '../../src/engine/sources/auth/connection.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { openRtdb } from '../../src/engine/sources/rtdb/connection.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { okValue as value } from '../helpers/api-result.js';
import { signInWithPassword } from '../helpers/auth-emulator.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';
import { readAllRaw, testProject } from '../helpers/firestore-seed.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');
const rtdbHost = inject('rtdbHost');
const auth = useAuthEmulator();
const local = { kind: 'local' as const };

describe.skipIf(!host || !gcsHost || !rtdbHost)(
  'restore of every source through the contract',
  () => {
    let runtime: Runtime;
    let dispatch: ReturnType<typeof createDispatcher>;
    let destinationId: string;
    let backupId: string;
    let from: string;
    const bucket = `rsrc-${randomBytes(4).toString('hex')}`;
    // The stand-in keeps one tree for every instance: work under a key of our own.
    const root = `/t${randomBytes(4).toString('hex')}`;
    const tree = { a: { n: 1, s: 'x' }, b: { deep: { er: true } } };
    const saved = { ...process.env };
    const ref = () => ({ destinationId, backupId });
    const rtdb = async <T>(
      fn: (db: Awaited<ReturnType<Awaited<ReturnType<typeof openRtdb>>['instance']>>) => Promise<T>,
    ) => {
      const conn = await openRtdb({ projectId: from, emulatorHost: rtdbHost });
      try {
        return await fn(await conn.instance(`${from}-default-rtdb`));
      } finally {
        await conn.close();
      }
    };

    beforeAll(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fb-api-rsrc-'));
      let keyring: Keyring;
      let projectId: string;
      ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'rsrc', 20));
      dispatch = createDispatcher(createApiHandlers(runtime, keyring));
      from = runtime.catalog.projects.get(projectId).firebaseProjectId;
      await openAuth({ projectId: from, emulatorHost: auth.host }).request(
        'POST',
        `/v1/projects/${from}/accounts:batchCreate`,
        {
          users: Array.from({ length: 30 }, (_, i) => ({
            localId: `u${i}`,
            email: `u${i}@example.com`,
            rawPassword: `pw-${i}`,
          })),
        },
      );
      const storage = openStorageSource({ emulatorHost: gcsHost });
      for (const name of ['a.txt', 'dir/b.txt']) {
        await storage
          .bucket(bucket)
          .file(name)
          .save(Buffer.from(`content of ${name}`), {
            resumable: false,
            metadata: { contentType: 'text/plain' },
          });
      }
      await rtdb((db) => db.set(root, tree));
      process.env.FIREBASE_AUTH_EMULATOR_HOST = auth.host;
      process.env.FIREBASE_STORAGE_EMULATOR_HOST = gcsHost;
      process.env.FIREBASE_DATABASE_EMULATOR_HOST = rtdbHost;
      const { jobId } = value<{ jobId: string }>(
        await dispatch(
          'jobs.startBackup',
          {
            projectId,
            destinationId,
            sources: ['firestore', 'auth', 'rtdb', 'storage'],
            buckets: [bucket],
            rtdbPaths: [root],
          },
          local,
        ),
      );
      const run = await runtime.jobs.get(jobId)!.done;
      expect(run.error).toBeNull();
      backupId = run.backupId!;
    }, 180_000);
    afterAll(() => {
      process.env = saved;
      runtime?.close();
    });

    const restoreInto = async (input: Record<string, unknown>): Promise<Run> => {
      const started = value<{ jobId: string }>(await dispatch('restore.start', input, local));
      return runtime.jobs.get(started.jobId)!.done;
    };

    it('plans every source the backup holds, restores each into another project, and leaves unticked ones alone', async () => {
      const other = testProject('rsrc-to');
      const target = { kind: 'emulator' as const, host, firebaseProjectId: other };
      // The stand-in is one tree: clear the subtree so the restore has something to create.
      await rtdb((db) => db.set(root, null));

      const plan = value<RestorePlan>(await dispatch('restore.plan', { ...ref(), target }, local));
      expect(plan.sources).toEqual([
        {
          source: 'firestore',
          items: 20,
          included: true,
          planned: expect.objectContaining({ create: 20 }),
        },
        {
          source: 'auth',
          items: 30,
          included: true,
          planned: { create: 30, overwrite: 0, merge: 0, skip: 0 },
        },
        {
          source: 'rtdb',
          items: expect.any(Number),
          included: true,
          planned: { create: 1, overwrite: 0, merge: 0, skip: 0 },
        },
        {
          source: 'storage',
          items: 2,
          included: true,
          planned: { create: 2, overwrite: 0, merge: 0, skip: 0 },
        },
      ]);
      // The dry run wrote nothing.
      expect(await rtdb((db) => db.read(root))).toBeNull();

      // Only some sources: the others are listed, not planned.
      const some = value<RestorePlan>(
        await dispatch('restore.plan', { ...ref(), target, sources: ['auth', 'storage'] }, local),
      );
      expect(some.sources.map((s) => [s.source, s.included, s.planned === null])).toEqual([
        ['firestore', false, true],
        ['auth', true, false],
        ['rtdb', false, true],
        ['storage', true, false],
      ]);
      expect(some.documents).toBe(0);

      const run = await restoreInto({ ...ref(), target, confirm: other });
      expect(run.error).toBeNull();
      expect(run.status).toBe('succeeded');
      expect(run.counts).toMatchObject({
        created: 20,
        'auth.created': 30,
        'rtdb.created': 1,
        'storage.created': 2,
      });

      // Firestore documents.
      const fs = await openFirestore({ projectId: other, emulatorHost: host });
      try {
        expect((await readAllRaw(fs)).size).toBe(20);
      } finally {
        await fs.close();
      }
      // Auth users, their passwords working in the other project.
      for (const i of [0, 29]) {
        expect(await signInWithPassword(auth.host, other, `u${i}@example.com`, `pw-${i}`)).toBe(
          `u${i}`,
        );
      }
      // Storage files: into the other project's default bucket (the emulator's naming).
      const [files] = await openStorageSource({ emulatorHost: gcsHost })
        .bucket(`${other}.firebasestorage.app`)
        .getFiles();
      expect(files.map((f) => f.name).sort()).toEqual(['a.txt', 'dir/b.txt']);
      const [content] = await files.find((f) => f.name === 'a.txt')!.download();
      expect(content.toString()).toBe('content of a.txt');
      // The Realtime Database subtree.
      expect(await rtdb((db) => db.read(root))).toEqual(tree);
    });

    it('takes a chosen bucket and RTDB paths, and refuses what the target cannot take as data', async () => {
      const other = testProject('rsrc-to2');
      const target = { kind: 'emulator' as const, host, firebaseProjectId: other };
      const toBucket = `chosen-${randomBytes(4).toString('hex')}`;
      await rtdb((db) => db.set(root, { a: { changed: true } }));
      const run = await restoreInto({
        ...ref(),
        target,
        sources: ['rtdb', 'storage'],
        toBucket,
        rtdbPaths: [`${root}/b`],
        mode: 'create',
        confirm: other,
      });
      expect(run.error).toBeNull();
      const [files] = await openStorageSource({ emulatorHost: gcsHost })
        .bucket(toBucket)
        .getFiles();
      expect(files).toHaveLength(2);
      // Only /b came back; /a was left as it was.
      expect(await rtdb((db) => db.read(root))).toEqual({ a: { changed: true }, b: tree.b });

      // Mirror deletes what the backup lacks: Firestore only.
      expect(
        await dispatch('restore.plan', { ...ref(), target, mode: 'mirror' }, local),
      ).toMatchObject({
        ok: false,
        error: {
          code: 'INVALID_ARGUMENT',
          message: expect.stringMatching(/mirror is for Firestore/),
        },
      });
      // An emulator target needs each source's emulator.
      delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
      try {
        expect(
          await dispatch('restore.plan', { ...ref(), target, sources: ['auth'] }, local),
        ).toMatchObject({
          ok: false,
          error: {
            code: 'INVALID_ARGUMENT',
            message: expect.stringMatching(/FIREBASE_AUTH_EMULATOR_HOST/),
          },
        });
      } finally {
        process.env.FIREBASE_AUTH_EMULATOR_HOST = auth.host;
      }
    });
  },
);
