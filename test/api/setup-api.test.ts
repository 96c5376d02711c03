import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher, type Result } from '../../src/shared/api/dispatch.js';
import type { DestinationKind } from '../../src/shared/destination-forms.js';
import type { KeysOverview } from '../../src/shared/api/methods/keys.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { KeyStore } from '../../src/engine/keys/key-store.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { ConfSettingsStore } from '../../src/engine/settings/settings-store.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { TEST_BUCKET, S3RVER_CREDENTIALS } from '../setup/storage-servers.js';

const host = inject('firestoreEmulatorHost');
const s3 = inject('s3Endpoint');
const local = { kind: 'local' as const };

/** A fake but well-formed service-account key (a real RSA key, no real account). */
function serviceAccountJson(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return JSON.stringify({
    type: 'service_account',
    project_id: 'demo-sa',
    private_key_id: 'abc',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'backup@demo-sa.iam.gserviceaccount.com',
  });
}

const value = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as T;
};

/**
 * The set-up screens' methods (projects, destinations, keys, settings) through the
 * dispatcher over the real engine: a catalog and key store in a temporary folder, the
 * Firestore emulator and s3rver.
 */
describe.skipIf(!host)('projects, destinations, keys and settings through the contract', () => {
  let dir: string;
  let runtime: Runtime;
  let keyring: Keyring;
  let dispatch: ReturnType<typeof createDispatcher>;
  let keyStoreFile: string;
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const signalListeners = { before: [] as number[], after: [] as number[] };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-setup-api-'));
    keyring = new Keyring(undefined); // first run: no key yet
    runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
    keyStoreFile = path.join(dir, 'keys.json');
    signalListeners.before = signals.map((s) => process.listenerCount(s));
    const settings = await ConfSettingsStore.open(dir);
    signalListeners.after = signals.map((s) => process.listenerCount(s));
    dispatch = createDispatcher(
      createApiHandlers(runtime, keyring, {
        dataDir: dir,
        keyStore: new KeyStore(keyStoreFile),
        settings,
      }),
    );
  });
  afterAll(() => runtime?.close());

  describe('projects', () => {
    it('adds an emulator project, tests its connection, lists it, and removes it', async () => {
      const firebaseProjectId = testProject('setup-api');
      await seedDocuments(host, firebaseProjectId, { count: 3 });
      const added = value<{ id: string; connection: string }>(
        await dispatch(
          'projects.add',
          { name: 'Emu', firebaseProjectId, connection: { kind: 'emulator', host } },
          local,
        ),
      );
      expect(added).toMatchObject({ connection: 'emulator', emulatorHost: host });
      const tested = value<{ rootCollections: string[] }>(
        await dispatch('projects.test', { projectId: added.id }, local),
      );
      expect(tested.rootCollections.length).toBeGreaterThan(0);
      expect(value<unknown[]>(await dispatch('projects.list', {}, local))).toHaveLength(1);

      expect(
        await dispatch(
          'projects.add',
          { name: 'Emu', firebaseProjectId, connection: { kind: 'emulator', host } },
          local,
        ),
      ).toMatchObject({ ok: false, error: { code: 'ALREADY_EXISTS' } });

      expect(await dispatch('projects.remove', { projectId: added.id }, local)).toEqual({
        ok: true,
        value: { removed: true },
      });
      expect(value<unknown[]>(await dispatch('projects.list', {}, local))).toHaveLength(0);
    });

    it('keeps a service-account key in an owner-only file and never sends it back', async () => {
      const json = serviceAccountJson();
      const answer = await dispatch(
        'projects.add',
        {
          name: 'Prod',
          firebaseProjectId: 'demo-sa',
          connection: { kind: 'service-account', json },
        },
        local,
      );
      const added = value<{ id: string }>(answer);
      expect(added).toMatchObject({
        connection: 'service-account',
        serviceAccountEmail: 'backup@demo-sa.iam.gserviceaccount.com',
      });
      const listed = await dispatch('projects.list', {}, local);
      for (const text of [JSON.stringify(answer), JSON.stringify(listed)]) {
        expect(text).not.toContain('PRIVATE KEY');
        expect(text).not.toContain('credentials'); // not even the path
      }
      const files = await readdir(path.join(dir, 'credentials'));
      expect(files).toHaveLength(1);
      const file = path.join(dir, 'credentials', files[0]!);
      expect(await readFile(file, 'utf8')).toBe(json);
      if (process.platform !== 'win32') expect((await stat(file)).mode & 0o077).toBe(0);

      // Removing the project removes the copy of the key it made.
      value(await dispatch('projects.remove', { projectId: added.id }, local));
      expect(await readdir(path.join(dir, 'credentials'))).toEqual([]);
    });

    it('refuses a file that is not a service-account key without echoing it', async () => {
      const secret = `{"type":"user","private_key":"-----BEGIN PRIVATE KEY-----${randomBytes(8).toString('hex')}"}`;
      const answer = await dispatch(
        'projects.add',
        {
          name: 'Bad',
          firebaseProjectId: 'demo-bad',
          connection: { kind: 'service-account', json: secret },
        },
        local,
      );
      expect(answer).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      expect(JSON.stringify(answer)).not.toContain('BEGIN PRIVATE KEY');
      expect(value<unknown[]>(await dispatch('projects.list', {}, local))).toEqual([]);
    });

    it('says plainly when the emulator does not answer', async () => {
      const added = value<{ id: string }>(
        await dispatch(
          'projects.add',
          {
            name: 'Gone',
            firebaseProjectId: 'demo-gone',
            connection: { kind: 'emulator', host: '127.0.0.1:1' },
          },
          local,
        ),
      );
      const tested = await dispatch('projects.test', { projectId: added.id }, local);
      expect(tested).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', retryable: true } });
      if (!tested.ok) expect(tested.error.message).toMatch(/127\.0\.0\.1:1/);
      value(await dispatch('projects.remove', { projectId: added.id }, local));
    });
  });

  describe('destinations', () => {
    it('describes each kind’s options from its back end’s schema, secrets marked', async () => {
      const kinds = value<DestinationKind[]>(await dispatch('destinations.kinds', {}, local));
      expect(kinds.map((k) => k.kind)).toEqual(['local', 's3', 'gs']);
      expect(kinds[0]!.suggestedUrl).toBe(path.join(dir, 'backups'));
      const s3Kind = kinds.find((k) => k.kind === 's3')!;
      expect(s3Kind.fields.find((f) => f.name === 'endpoint')).toMatchObject({
        type: 'string',
        format: 'uri',
        secret: false,
      });
      expect(s3Kind.fields.find((f) => f.name === 'secretAccessKey')).toMatchObject({
        secret: true,
      });
      expect(s3Kind.fields.find((f) => f.name === 'partSizeMiB')).toMatchObject({
        type: 'integer',
        minimum: 5,
        maximum: 512,
      });
    });

    it('tests a folder before adding it (write, read back, delete), adds, lists and removes it', async () => {
      const url = path.join(dir, 'backups');
      const tested = value<{ displayUrl: string }>(
        await dispatch('destinations.test', { url, options: {} }, local),
      );
      expect(tested.displayUrl).toContain(url);
      expect(await readdir(url)).toEqual([]); // the probe object is gone again
      const added = value<{ id: string; kind: string }>(
        await dispatch('destinations.add', { name: 'Here', url }, local),
      );
      expect(added.kind).toBe('local');
      expect(
        value(await dispatch('destinations.test', { destinationId: added.id }, local)),
      ).toBeTruthy();
      expect(await dispatch('destinations.add', { name: 'Again', url }, local)).toMatchObject({
        ok: false,
        error: { code: 'ALREADY_EXISTS' },
      });
      value(await dispatch('destinations.remove', { destinationId: added.id }, local));
      expect(value<unknown[]>(await dispatch('destinations.list', {}, local))).toEqual([]);
    });

    it('refuses a relative folder, bad options and secrets, each with what to do', async () => {
      expect(
        await dispatch('destinations.add', { name: 'Rel', url: 'backups' }, local),
      ).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/full path/) },
      });
      const bad = await dispatch(
        'destinations.add',
        { name: 'S3', url: `s3://${TEST_BUCKET}/x`, options: { partSizeMiB: 1 } },
        local,
      );
      expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      const secret = await dispatch(
        'destinations.add',
        { name: 'S3', url: `s3://${TEST_BUCKET}/x`, options: { secretAccessKey: 'S3RVER' } },
        local,
      );
      expect(secret).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      if (!secret.ok) expect(secret.error.message).toMatch(/environment/);
    });

    it('reports a destination that cannot be written as an error, as data', async () => {
      const answer = await dispatch(
        'destinations.test',
        { url: '/proc/firebackup-cannot-write-here', options: {} },
        local,
      );
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.error.message).toMatch(/Preflight: could not write/);
    });

    it.skipIf(!s3)(
      'tests and adds an S3 destination (credentials from the environment)',
      async () => {
        const saved = {
          id: process.env.AWS_ACCESS_KEY_ID,
          secret: process.env.AWS_SECRET_ACCESS_KEY,
        };
        process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
        try {
          const url = `s3://${TEST_BUCKET}/setup-${randomBytes(3).toString('hex')}`;
          const options = { endpoint: s3, region: 'us-east-1' };
          value(await dispatch('destinations.test', { url, options }, local));
          const added = value<{ id: string; options: unknown }>(
            await dispatch('destinations.add', { name: 'S3 here', url, options }, local),
          );
          expect(added.options).toEqual(options);
          const updated = value<{ options: unknown }>(
            await dispatch(
              'destinations.update',
              { destinationId: added.id, options: { ...options, queueSize: 2 } },
              local,
            ),
          );
          expect(updated.options).toEqual({ ...options, queueSize: 2 });
          value(await dispatch('destinations.remove', { destinationId: added.id }, local));
        } finally {
          for (const [k, v] of [
            ['AWS_ACCESS_KEY_ID', saved.id],
            ['AWS_SECRET_ACCESS_KEY', saved.secret],
          ] as const) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
          }
        }
      },
    );
  });

  describe('keys', () => {
    it('makes the first key, backs up with it, shows which backups it reads, rotates, and gives a recovery kit', async () => {
      expect(await dispatch('keys.recoveryKit', {}, local)).toMatchObject({
        ok: false,
        error: { code: 'KEY_NOT_FOUND' },
      });
      const { keyId } = value<{ keyId: string }>(await dispatch('keys.generate', {}, local));
      expect(keyring.currentKey?.id).toBe(keyId);
      expect(await dispatch('keys.generate', {}, local)).toMatchObject({
        ok: false,
        error: { code: 'ALREADY_EXISTS' },
      });

      // A backup made with it (the running app's engine picked the new key up).
      const firebaseProjectId = testProject('setup-keys');
      await seedDocuments(host, firebaseProjectId, { count: 5 });
      const project = value<{ id: string }>(
        await dispatch(
          'projects.add',
          { name: 'K', firebaseProjectId, connection: { kind: 'emulator', host } },
          local,
        ),
      );
      const destination = value<{ id: string }>(
        await dispatch('destinations.add', { name: 'K', url: path.join(dir, 'k-backups') }, local),
      );
      const { jobId } = value<{ jobId: string }>(
        await dispatch(
          'jobs.startBackup',
          { projectId: project.id, destinationId: destination.id },
          local,
        ),
      );
      const run = await runtime.jobs.get(jobId)!.done;
      expect(run.status).toBe('succeeded');

      const rotated = value<{ keyId: string; previousKeyId: string }>(
        await dispatch('keys.rotate', {}, local),
      );
      expect(rotated.previousKeyId).toBe(keyId);
      const overview = value<KeysOverview>(await dispatch('keys.list', {}, local));
      expect(overview.keyStore).toEqual({ file: keyStoreFile, exists: true });
      expect(overview.keys.map((k) => [k.id, k.current, k.backupCount])).toEqual([
        [rotated.keyId, true, 0],
        [keyId, false, 1],
      ]);
      expect(overview.keys[1]!.backups[0]).toMatchObject({
        backupId: run.backupId,
        destinationName: 'K',
      });

      const kit = value<{ fileName: string; text: string }>(
        await dispatch('keys.recoveryKit', {}, local),
      );
      expect(kit.fileName).toMatch(/^firebackup-recovery-kit-\d{4}-\d\d-\d\d\.txt$/);
      for (const id of [keyId, rotated.keyId]) {
        expect(kit.text).toContain(id);
        expect(kit.text).toContain(keyring.find(id)!.revealHex());
      }
    });

    it('imports an older key for reading and refuses a malformed one without echoing it', async () => {
      const old = MasterKey.generate();
      expect(
        value<{ current: boolean }>(await dispatch('keys.import', { key: old.revealHex() }, local)),
      ).toEqual({ keyId: old.id, current: false });
      expect(keyring.find(old.id)).toBeDefined();
      expect((await new KeyStore(keyStoreFile).list()).map((k) => k.id)).toContain(old.id);
      const bad = await dispatch('keys.import', { key: 'zz'.repeat(32) }, local);
      expect(bad).toMatchObject({ ok: false, error: { code: 'KEY_INVALID' } });
      expect(JSON.stringify(bad)).not.toContain('zz'.repeat(32));
    });
  });

  describe('settings', () => {
    it('opening the settings leaves Ctrl-C to the app (conf would hook the signals)', () => {
      // Measured around the first open (in beforeAll), when conf is first imported.
      expect(signalListeners.after).toEqual(signalListeners.before);
    });

    it('answers defaults, keeps an update in the settings file, and refuses bad values', async () => {
      expect(value(await dispatch('settings.get', {}, local))).toMatchObject({
        version: 1,
        theme: 'system',
        startAtLogin: false,
        notifications: { failedRuns: true },
      });
      const updated = value<{ theme: string }>(
        await dispatch(
          'settings.update',
          { theme: 'dark', notifications: { missedRuns: false } },
          local,
        ),
      );
      expect(updated).toMatchObject({
        theme: 'dark',
        notifications: { failedRuns: true, missedRuns: false },
      });
      // Another process (the Electron app, the CLI) reads the same file.
      expect((await ConfSettingsStore.open(dir)).get()).toEqual(updated);
      expect(JSON.parse(await readFile(path.join(dir, 'settings.json'), 'utf8'))).toEqual(updated);
      expect(await dispatch('settings.update', { theme: 'pink' }, local)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' },
      });
      expect(await dispatch('settings.update', { version: 9 }, local)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' },
      });
    });
  });
});
