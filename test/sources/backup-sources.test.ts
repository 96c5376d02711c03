/**
 * A backup of Firestore, Auth users and Storage files in one archive, through the real
 * CLI against the three emulators; the Auth and Storage sections restored from it into a
 * second project and bucket; and a backup whose Auth source fails midway (after every
 * Firestore document was written), which must fail whole and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { openAuth } from '../../src/engine/sources/auth/connection.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { startCuttingProxy } from '../setup/storage-servers.js';
import { signInWithPassword } from '../helpers/auth-emulator.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const firestoreHost = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');
const auth = useAuthEmulator();

const rand = (): string => randomBytes(4).toString('hex');

describe.skipIf(!firestoreHost || !gcsHost)('backup of Firestore, Auth and Storage', () => {
  const key = MasterKey.generate();
  const keyring = new Keyring(key);

  async function seedProject(): Promise<{ project: string; bucket: string }> {
    const project = testProject('srcs');
    await seedDocuments(firestoreHost, project, { count: 120 });
    const conn = openAuth({ projectId: project, emulatorHost: auth.host });
    await conn.request('POST', `/v1/projects/${project}/accounts:batchCreate`, {
      users: Array.from({ length: 1500 }, (_, i) => ({
        localId: `user-${i}`,
        email: `user${i}@example.com`,
        rawPassword: `pw-${i}`,
      })).slice(0, 1000),
    });
    await conn.request('POST', `/v1/projects/${project}/accounts:batchCreate`, {
      users: Array.from({ length: 500 }, (_, i) => ({ localId: `late-${i}` })),
    });
    const bucket = `bkt-${rand()}`;
    const storage = openStorageSource({ emulatorHost: gcsHost });
    await storage
      .bucket(bucket)
      .file('uploads/a.txt')
      .save(Buffer.from('file a'), {
        resumable: false,
        metadata: { contentType: 'text/plain', metadata: { firebaseStorageDownloadTokens: 't-a' } },
      });
    await storage.bucket(bucket).file('uploads/b.bin').save(randomBytes(1_500_000), {
      resumable: false,
    });
    await storage.bucket(bucket).file('private/skip.txt').save(Buffer.from('not selected'), {
      resumable: false,
    });
    return { project, bucket };
  }

  it('backs up all three through the CLI, and restores the users and files into a second project and bucket', async () => {
    const { project, bucket } = await seedProject();
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-srcs-'));
    const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreHost };
    const run = await runCli(
      [
        'backup',
        ...['--project', project, '--to', dir, '--json'],
        ...['--sources', 'firestore,auth,storage'],
        ...['--auth-emulator', auth.host, '--storage-emulator', gcsHost],
        ...['--buckets', bucket, '--storage-prefix', 'uploads/'],
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Skipping/);
    const result = run.json<{ id: string; sources: string[]; counts: Record<string, number> }>();
    expect(result.sources).toEqual(['firestore', 'auth', 'storage']);
    expect(result.counts).toEqual({
      'firestore.documents': 120,
      'auth.users': 1500,
      'storage.objects': 2,
    });

    const list = await runCli(['list', '--from', dir, '--json'], env);
    expect(
      list.json<Array<{ counts: Record<string, number>; sources: string[] }>>()[0],
    ).toMatchObject({
      sources: ['firestore', 'auth', 'storage'],
      counts: result.counts,
    });
    expect((await runCli(['list', '--from', dir], env)).stdout).toMatch(
      /120, 1,500 users, 2 files/,
    );
    const verify = await runCli(['verify', result.id, '--from', dir], env);
    expect(verify.code, verify.stderr).toBe(0);
    const inspect = await runCli(['inspect', result.id, '--from', dir], env);
    expect(inspect.stdout).toMatch(/Auth: 1,500 users \(password hashes: FIREBASE_AUTH_EMULATOR\)/);
    expect(inspect.stdout).toMatch(new RegExp(`gs://${bucket}: 2 files, 1\\.5 MB`));

    // Into a second project and bucket, through the CLI; a dry run first writes nothing.
    const targetProject = testProject('srcs-to');
    const targetBucket = `dst-${rand()}`;
    const restoreArgs = [
      ...['restore', result.id, '--from', dir, '--to-project', targetProject, '--json'],
      ...['--sources', 'auth,storage', '--auth-emulator', auth.host],
      ...['--storage-emulator', gcsHost, '--to-bucket', targetBucket],
    ];
    const dry = await runCli([...restoreArgs, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toMatchObject({
      auth: { planned: { create: 1500, overwrite: 0, skip: 0 } },
      storage: { planned: { create: 2, overwrite: 0, skip: 0 } },
    });
    const storage = openStorageSource({ emulatorHost: gcsHost });
    expect((await storage.bucket(targetBucket).getFiles())[0]).toEqual([]);

    const restore = await runCli(restoreArgs, env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.json()).toMatchObject({
      auth: { created: 1500, failedCount: 0 },
      storage: { created: 2, bytes: 1_500_006, failedCount: 0 },
    });
    expect(await signInWithPassword(auth.host, targetProject, 'user7@example.com', 'pw-7')).toBe(
      'user-7',
    );
    const [files] = await storage.bucket(targetBucket).getFiles();
    expect(files.map((f) => f.name).sort()).toEqual(['uploads/a.txt', 'uploads/b.bin']);
    const [meta] = await storage.bucket(targetBucket).file('uploads/a.txt').getMetadata();
    expect(meta.metadata).toEqual({ firebaseStorageDownloadTokens: 't-a' });

    // Into another project without --to-bucket: the source project's buckets are not touched.
    const refused = await runCli(
      [
        ...['restore', result.id, '--from', dir, '--to-project', testProject('srcs-x')],
        ...['--sources', 'storage', '--storage-emulator', gcsHost],
      ],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--to-bucket/);

    // Offline: users as JSON lines beside the hash configuration, files with sidecars.
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-srcs-dir-')), 'restored');
    const toDir = await runCli(['restore', result.id, '--from', dir, '--to-dir', out], env);
    expect(toDir.code, toDir.stderr).toBe(0);
    expect(toDir.stdout).toMatch(/120 documents, 1,500 users, 2 files/);
    const users = (await readFile(path.join(out, 'auth/users.ndjson'), 'utf8')).trim().split('\n');
    expect(users).toHaveLength(1500);
    expect(JSON.parse(users[0]!)).toMatchObject({ localId: expect.any(String) });
    expect(
      JSON.parse(await readFile(path.join(out, 'auth/hash-config.json'), 'utf8')),
    ).toMatchObject({
      hashConfig: { algorithm: 'FIREBASE_AUTH_EMULATOR' },
    });
    const objects = path.join(out, 'storage', bucket, 'objects');
    expect((await readdir(objects)).sort()).toEqual(['uploads%2Fa.txt', 'uploads%2Fb.bin']);
    expect(await readFile(path.join(objects, 'uploads%2Fa.txt'), 'utf8')).toBe('file a');
    const sidecar = JSON.parse(
      await readFile(path.join(out, 'storage', bucket, 'metadata', 'uploads%2Fa.txt.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(sidecar).toMatchObject({
      name: 'uploads/a.txt',
      contentType: 'text/plain',
      metadata: { firebaseStorageDownloadTokens: 't-a' },
      file: 'objects/uploads%2Fa.txt',
    });
  });

  it('without --sources, includes the sources whose emulator is given and says which were skipped', async () => {
    const { project } = await seedProject();
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-srcs-'));
    const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreHost };
    const run = await runCli(
      ['backup', '--project', project, '--to', dir, '--auth-emulator', auth.host],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/Skipping storage: emulator host not set: .*--storage-emulator/);
    expect(run.stdout).toMatch(/120 documents, 1,500 users/);
  });

  it('fails whole, leaving nothing, when the Auth source fails after the documents were written', async () => {
    const { project } = await seedProject();
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-srcs-'));
    // Every connection to Auth is cut once 20 kB have come back: the first page of
    // users (1,000) never arrives whole, retries included.
    const proxy = await startCuttingProxy(`http://${auth.host}`, {
      direction: 'down',
      afterBytes: 20_000,
      times: 1000,
    });
    try {
      await expect(
        runBackup({
          destination: new LocalBackend(dir),
          keyring,
          source: { projectId: project, emulatorHost: firestoreHost },
          sources: ['firestore', 'auth'],
          auth: { projectId: project, emulatorHost: proxy.endpoint.replace('http://', '') },
        }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(proxy.cuts).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
    expect((await readdir(dir)).filter((f) => !f.startsWith('.'))).toEqual([]);
  });
});
