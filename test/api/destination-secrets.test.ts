import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher, type Result } from '../../src/shared/api/dispatch.js';
import type { DestinationKind } from '../../src/shared/destination-forms.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { optionsWithSecret } from '../../src/engine/secrets/destination-secrets.js';
import { FileSecretStore, type SecretStore } from '../../src/engine/secrets/secret-store.js';
import { ConfSettingsStore } from '../../src/engine/settings/settings-store.js';
import { createDesktopSecretStore, type SafeStorageLike } from '../../src/main/secrets.js';
import type { Run } from '../../src/shared/jobs.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';

const host = inject('firestoreEmulatorHost');
const s3 = inject('s3Endpoint');
const gcs = inject('gcsEmulatorHost');
const local = { kind: 'local' as const };

const value = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as T;
};

/** Every file of the folder but the secrets file, as raw bytes read as text (SQLite, WAL, JSON). */
async function rawFilesBesideSecrets(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    if (name.startsWith('secrets')) continue;
    try {
      out[name] = (await readFile(path.join(dir, name))).toString('latin1');
    } catch {
      // a folder (backups/): not the catalog or the settings
    }
  }
  return out;
}

/** An app over a catalog, settings and secrets in `dir`, with no AWS/Google credentials in its environment. */
async function app(dir: string, secrets: SecretStore, env: NodeJS.ProcessEnv = {}) {
  const keyring = new Keyring(MasterKey.generate());
  const runtime = createRuntime({
    catalogFile: path.join(dir, 'catalog.sqlite'),
    keyring,
    env,
    secrets,
  });
  const settings = await ConfSettingsStore.open(dir);
  settings.update({ theme: 'dark' }); // a settings file exists to be searched
  const dispatch = createDispatcher(
    createApiHandlers(runtime, keyring, { dataDir: dir, env, settings, secrets }),
  );
  return { runtime, dispatch, settings };
}

describe('a destination’s secret: which credentials win (pure)', () => {
  const d = {
    name: 'S3',
    url: 's3://b/p',
    options: { endpoint: 'http://x', accessKeyId: 'AKIA1' },
  };
  it('the stored secret fills its option', () => {
    expect(optionsWithSecret(d, 'stored', {})).toEqual({ ...d.options, secretAccessKey: 'stored' });
  });
  it('credentials in the environment win, whole (the stored access key id is not mixed in)', () => {
    expect(
      optionsWithSecret(d, 'stored', { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' }),
    ).toEqual({ endpoint: 'http://x' });
    // Half a pair in the environment is not a credential: the stored one is used.
    expect(optionsWithSecret(d, 'stored', { AWS_SECRET_ACCESS_KEY: 'S' })).toMatchObject({
      secretAccessKey: 'stored',
    });
  });
  it('an access key id without its secret says what to do', () => {
    expect(() => optionsWithSecret(d, undefined, {})).toThrow(
      /No secret access key is saved for the destination "S3".*Destinations screen.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });
  it('a GCS key file named by the environment wins over the stored key', () => {
    const g = { name: 'G', url: 'gs://b/p', options: { projectId: 'p' } };
    expect(optionsWithSecret(g, '{"k":1}', {})).toEqual({
      projectId: 'p',
      credentialsJson: '{"k":1}',
    });
    expect(optionsWithSecret(g, '{"k":1}', { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' })).toEqual({
      projectId: 'p',
    });
  });
  it('folders take no secret', () => {
    const f = { name: 'F', url: '/backups', options: {} };
    expect(optionsWithSecret(f, undefined, {})).toEqual({});
  });
});

describe.skipIf(!host || !s3)('destination secrets in the SecretStore (s3rver)', () => {
  let dir: string;
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let secrets: FileSecretStore;
  const WRONG = `wrong-${randomBytes(8).toString('hex')}`;
  const url = `s3://${TEST_BUCKET}/secrets-${randomBytes(3).toString('hex')}`;
  const options = {
    endpoint: s3,
    region: 'us-east-1',
    accessKeyId: S3RVER_CREDENTIALS.accessKeyId,
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-dest-secrets-'));
    secrets = new FileSecretStore(path.join(dir, 'secrets.json'));
    ({ runtime, dispatch } = await app(dir, secrets));
  });
  afterAll(() => runtime?.close());

  it('the S3 form offers the secret access key as a stored secret, and the access key id as an option', async () => {
    const kinds = value<DestinationKind[]>(await dispatch('destinations.kinds', {}, local));
    const fields = kinds.find((k) => k.kind === 's3')!.fields;
    expect(fields.find((f) => f.name === 'secretAccessKey')).toMatchObject({
      secret: true,
      stored: true,
    });
    expect(fields.find((f) => f.name === 'accessKeyId')).toMatchObject({ secret: false });
    // A session token is temporary: it still comes from the environment only.
    expect(fields.find((f) => f.name === 'sessionToken')).toMatchObject({ secret: true });
    expect(fields.find((f) => f.name === 'sessionToken')?.stored).toBeFalsy();
    const gsFields = kinds.find((k) => k.kind === 'gs')!.fields;
    expect(gsFields.find((f) => f.name === 'credentialsJson')).toMatchObject({ stored: true });
  });

  it('tests a draft with the secret given; without it, says what to give', async () => {
    value(await dispatch('destinations.test', { url, options, secret: 'S3RVER' }, local));
    const missing = await dispatch('destinations.test', { url, options }, local);
    expect(missing).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/secretAccessKey/) },
    });
  });

  let destinationId: string;
  it('keeps the secret in the SecretStore only: the catalog and settings files never hold it', async () => {
    const added = value<Record<string, unknown> & { id: string }>(
      await dispatch(
        'destinations.add',
        { name: 'S3 with secret', url, options, secret: WRONG },
        local,
      ),
    );
    destinationId = added.id;
    expect(added).toMatchObject({ secretSaved: true, options });
    expect(JSON.stringify(added)).not.toContain(WRONG);
    const listed = value<unknown[]>(await dispatch('destinations.list', {}, local));
    expect(JSON.stringify(listed)).not.toContain(WRONG);
    expect(await secrets.names()).toEqual([`s3-secret-key:${destinationId}`]);
    expect(await readFile(secrets.file, 'utf8')).toContain(WRONG);
    const files = await rawFilesBesideSecrets(dir);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['catalog.sqlite', 'settings.json']));
    for (const [name, text] of Object.entries(files)) {
      expect(text.includes(WRONG), `${name} holds the secret`).toBe(false);
    }
  });

  // s3rver checks the access key id but not SigV4 signatures, so a wrong secret is not
  // refused here: what shows the stored secret is used is that without one the backup
  // cannot even start (an access key id alone is refused), and with it, it succeeds.
  it('a backup opens the destination with the stored secret (refused while none is saved)', async () => {
    const firebaseProjectId = testProject('dest-secret');
    await seedDocuments(host, firebaseProjectId, { count: 5 });
    const projectId = runtime.catalog.projects.upsert({
      name: 'secret-project',
      firebaseProjectId,
      emulatorHost: host,
    }).id;
    // As a catalog shared with another machine's store would have it: no secret here.
    const bare = runtime.catalog.destinations.upsert({ name: 'S3 bare', url: `${url}-b`, options });
    const backUp = async (to: string): Promise<Run> => {
      const { jobId } = value<{ jobId: string }>(
        await dispatch('jobs.startBackup', { projectId, destinationId: to }, local),
      );
      return runtime.jobs.get(jobId)!.done;
    };
    const refused = await backUp(bare.id);
    expect(refused).toMatchObject({
      status: 'failed',
      error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/Destinations screen/) },
    });

    const updated = value<Record<string, unknown>>(
      await dispatch(
        'destinations.update',
        { destinationId: bare.id, options, secret: 'S3RVER' },
        local,
      ),
    );
    expect(updated).toMatchObject({ secretSaved: true });
    value(await dispatch('destinations.test', { destinationId: bare.id }, local));
    expect((await backUp(bare.id)).status).toBe('succeeded');

    // Editing other options keeps the saved secret.
    value(
      await dispatch(
        'destinations.update',
        { destinationId: bare.id, options: { ...options, queueSize: 2 } },
        local,
      ),
    );
    expect((await backUp(bare.id)).status).toBe('succeeded');
    value(await dispatch('destinations.remove', { destinationId: bare.id }, local));
  });

  it('removing the destination deletes its secret', async () => {
    value(await dispatch('destinations.remove', { destinationId }, local));
    expect(await secrets.names()).toEqual([]);
  });

  it('refuses a secret for a folder, and an access key id saved without its secret', async () => {
    expect(
      await dispatch(
        'destinations.add',
        { name: 'F', url: path.join(dir, 'f'), secret: 'x' },
        local,
      ),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    // An access key id alone is refused at once (it would fail every backup).
    expect(
      await dispatch('destinations.add', { name: 'No secret', url: `${url}-2`, options }, local),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
});

describe.skipIf(!gcs)('a GCS destination’s service-account key in the SecretStore', () => {
  it('keeps the key out of the catalog and settings, and forgets it with the destination', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-dest-gcs-'));
    const secrets = new FileSecretStore(path.join(dir, 'secrets.json'));
    const { runtime, dispatch } = await app(dir, secrets);
    try {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const key = JSON.stringify({
        type: 'service_account',
        private_key: pem,
        client_email: 'b@demo.iam.gserviceaccount.com',
      });
      const added = value<{ id: string; secretSaved: boolean }>(
        await dispatch(
          'destinations.add',
          {
            name: 'GCS',
            url: `gs://firebackup-test/secrets-${randomBytes(3).toString('hex')}`,
            options: { emulatorHost: gcs },
            secret: key,
          },
          local,
        ),
      );
      expect(added.secretSaved).toBe(true);
      value(await dispatch('destinations.test', { destinationId: added.id }, local));
      const body = pem.split('\n')[1]!;
      for (const [name, text] of Object.entries(await rawFilesBesideSecrets(dir))) {
        expect(text.includes(body), `${name} holds the key`).toBe(false);
      }
      expect(await secrets.names()).toEqual([`gcs-service-account:${added.id}`]);
      expect(
        await dispatch(
          'destinations.add',
          { name: 'Bad', url: 'gs://firebackup-test/x', secret: 'not json' },
          local,
        ),
      ).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT', message: expect.not.stringContaining('not json') },
      });
      value(await dispatch('destinations.remove', { destinationId: added.id }, local));
      expect(await secrets.names()).toEqual([]);
    } finally {
      runtime.close();
    }
  });
});

/** safeStorage on Linux without a keyring: Chromium's built-in key (basic_text). */
const basicText: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  encryptString: (s) => Buffer.from(Buffer.from(s).map((b) => b ^ 0x33)),
  decryptString: (b) => Buffer.from(b.map((x) => x ^ 0x33)).toString(),
  getSelectedStorageBackend: () => 'basic_text',
};

describe('on Linux without a keyring, a destination’s secret waits for consent', () => {
  it('refuses to save it (and the destination) until the person agrees, then keeps it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-dest-consent-'));
    let given = false;
    const secrets = createDesktopSecretStore({
      file: path.join(dir, 'secrets.desktop.json'),
      safeStorage: basicText,
      consent: { given: () => given, give: () => void (given = true) },
      platform: 'linux',
    });
    const { runtime, dispatch } = await app(dir, secrets);
    try {
      const input = {
        name: 'S3',
        url: `s3://${TEST_BUCKET}/consent`,
        options: { endpoint: 'http://127.0.0.1:1', accessKeyId: 'AKIA' },
        secret: 'the-secret-1',
      };
      const refused = await dispatch('destinations.add', input, local);
      expect(refused).toMatchObject({
        ok: false,
        error: { code: 'PERMISSION_DENIED', message: expect.stringMatching(/No system keyring/) },
      });
      // Nothing half-done: no destination without its secret.
      expect(value<unknown[]>(await dispatch('destinations.list', {}, local))).toEqual([]);
      value(await dispatch('secrets.acceptWeakStorage', {}, local));
      const added = value<{ id: string; secretSaved: boolean }>(
        await dispatch('destinations.add', input, local),
      );
      expect(added.secretSaved).toBe(true);
      expect(await secrets.get(`s3-secret-key:${added.id}`)).toBe('the-secret-1');
    } finally {
      runtime.close();
    }
  });
});
