/**
 * Which sources a backup holds: without --sources, every source the credentials can read,
 * the others named with the reason they were skipped; with --sources, a source that
 * cannot be read fails the backup before anything is read or written. Real Firestore and
 * Storage emulators; the refusals (no permission, API not enabled) come from a server
 * that answers as Google's APIs do, since the emulators never refuse.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { startRefusingService, type RefusingService } from '../helpers/refusing-service.js';
import { runCli } from '../helpers/run-cli.js';

const firestoreHost = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');

const visible = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((f) => !f.startsWith('.'));

describe.skipIf(!firestoreHost || !gcsHost)('choosing the sources of a backup', () => {
  const key = MasterKey.generate();
  let denied: RefusingService;
  let disabled: RefusingService;
  /** Stands in for Firestore: counts the connections a backup opens to it. */
  let firestoreProbe: Server;
  let firestoreProbeHost = '';
  let firestoreConnections = 0;

  beforeAll(async () => {
    denied = await startRefusingService(403, 'The caller does not have permission');
    disabled = await startRefusingService(
      403,
      'Identity Toolkit API has not been used in project 123 before or it is disabled.',
    );
    firestoreProbe = createServer((socket) => {
      firestoreConnections++;
      socket.destroy();
    });
    await new Promise<void>((r) => firestoreProbe.listen(0, '127.0.0.1', r));
    const address = firestoreProbe.address();
    firestoreProbeHost = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await denied.close();
    await disabled.close();
    await new Promise<void>((r) => firestoreProbe.close(() => r()));
  });

  it('without --sources, backs up what it can read and says why the others were skipped', async () => {
    const project = testProject('choose');
    await seedDocuments(firestoreHost, project, { count: 12 });
    const bucket = `choose-${randomBytes(4).toString('hex')}`;
    await openStorageSource({ emulatorHost: gcsHost })
      .bucket(bucket)
      .file('a.txt')
      .save(Buffer.from('a'), { resumable: false });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-choose-'));
    const run = await runCli(
      [
        'backup',
        ...['--project', project, '--to', dir, '--auth-emulator', denied.host],
        ...['--storage-emulator', gcsHost, '--buckets', bucket],
      ],
      { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreHost },
    );
    expect(run.stderr).toMatch(/Skipping auth: permission denied: .*does not have permission/);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/Skipping storage/);
    expect(run.stdout).toMatch(/12 documents, 1 files/);
    expect(run.stdout).not.toMatch(/users/);
  });

  it('with --sources, an unreadable source fails the backup before anything is read or written', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-choose-'));
    firestoreConnections = 0;
    const run = await runCli(
      [
        'backup',
        ...['--project', 'choose-explicit', '--to', dir, '--sources', 'firestore,auth'],
        ...['--auth-emulator', disabled.host],
      ],
      { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreProbeHost },
    );
    expect(run.stderr).toMatch(/Preflight: the auth source cannot be read \(API not enabled: /);
    expect(run.code).toBe(1);
    expect(disabled.requests).toBeGreaterThan(0);
    expect(firestoreConnections).toBe(0);
    expect(await visible(dir)).toEqual([]);
  });

  it('names a Storage source the credentials may not list, before reading Firestore', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-choose-'));
    firestoreConnections = 0;
    const run = await runCli(
      [
        'backup',
        ...['--project', 'choose-storage', '--to', dir, '--sources', 'firestore,storage'],
        ...['--storage-emulator', denied.host, '--buckets', 'private-bucket'],
      ],
      { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreProbeHost },
    );
    expect(run.stderr).toMatch(
      /Preflight: the storage source cannot be read \(permission denied: /,
    );
    expect(run.code).toBe(1);
    expect(firestoreConnections).toBe(0);
    expect(await visible(dir)).toEqual([]);
  });

  it('refuses a filter for a source left out of --sources', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-choose-'));
    const run = await runCli(
      ['backup', '--project', 'p', '--to', dir, '--sources', 'firestore', '--buckets', 'b'],
      { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreProbeHost },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/buckets selects storage data, .*add "storage" to sources/);
    expect(await visible(dir)).toEqual([]);
  });
});
