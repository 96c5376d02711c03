import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { exportDocuments } from '../../src/engine/sources/firestore/export.js';
import { restoreDocuments } from '../../src/engine/sources/firestore/restore.js';
import {
  emulatorJar,
  startFirestoreEmulator,
  type RunningEmulator,
} from '../helpers/firestore-emulator.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';

const host = inject('firestoreEmulatorHost');
const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

describe('opening a connection', () => {
  const secret = '-----BEGIN PRIVATE KEY-----\nMIIsecretsecret\n-----END PRIVATE KEY-----\n';
  const file = async (name: string, content: string): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'fb-creds-'));
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };

  it.each([
    ['missing', async () => '/nonexistent/key.json', /does not exist/],
    ['not JSON', async () => file('k.json', `not json ${secret}`), /not valid JSON/],
    [
      'not a service account',
      async () => file('k.json', JSON.stringify({ type: 'authorized_user', private_key: secret })),
      /not a service-account key/,
    ],
  ])('rejects a credentials file that is %s, without echoing secrets', async (_, make, message) => {
    const credentialsFile = await make();
    const error = await openFirestore({ projectId: 'p', credentialsFile }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message });
    expect(String((error as Error).message)).not.toContain('secret');
    expect(String((error as Error).message)).toContain(credentialsFile);
  });

  it('accepts a service-account file (no network needed to open)', async () => {
    const credentialsFile = await file(
      'k.json',
      JSON.stringify({ type: 'service_account', client_email: 'a@b.iam', private_key: secret }),
    );
    const conn = await openFirestore({ projectId: 'p', databaseId: 'named', credentialsFile });
    expect(conn.documentsRoot).toBe('projects/p/databases/named/documents');
    await conn.close();
  });

  it('rejects bad ids and emulator addresses', async () => {
    await expect(openFirestore({ projectId: 'a/b' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(openFirestore({ projectId: 'p', emulatorHost: 'nohost' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe.skipIf(!host || !emulatorJar())('Firestore going away', () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it('mid-export: fails with UNAVAILABLE naming the host', async () => {
    emulator = await startFirestoreEmulator(emulatorJar() as string);
    const projectId = testProject('gone');
    await seedDocuments(emulator.host, projectId, { count: 3000, docBytes: 200 });
    const conn = await openFirestore({ projectId, emulatorHost: emulator.host });
    let seen = 0;
    const run = (async () => {
      for await (const _ of exportDocuments(conn, { pageSize: 500, retry: FAST_RETRY })) {
        if (++seen === 600) await emulator?.stop();
      }
    })();
    const error = await run.catch((e: unknown) => e);
    await conn.close();
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((error as Error).message).toContain(emulator.host);
    expect((error as Error).message).toMatch(/gave up after 3 tries/);
    expect(seen).toBeGreaterThanOrEqual(600);
    expect(seen).toBeLessThan(3000);
  });

  it('restore into an unreachable database fails with UNAVAILABLE', async () => {
    emulator = await startFirestoreEmulator(emulatorJar() as string);
    const gone = emulator.host;
    await emulator.stop();
    const conn = await openFirestore({ projectId: testProject('gone'), emulatorHost: gone });
    const docs = (async function* () {
      yield { path: 'a/1', createTime: '', updateTime: '', fields: {} };
    })();
    const error = await restoreDocuments(conn, docs, { mode: 'create', retry: FAST_RETRY }).catch(
      (e: unknown) => e,
    );
    await conn.close();
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect((error as Error).message).toContain(gone);
  });
});
