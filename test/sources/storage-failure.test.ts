/**
 * A backup whose Storage source fails midway (inside an object, after the Firestore
 * documents and earlier objects were written) fails whole and leaves nothing in the
 * destination: the network to the real Storage emulator is cut mid-download, retries
 * included. (The Auth counterpart is in backup-sources.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { startCuttingProxy } from '../setup/storage-servers.js';

const firestoreHost = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');

describe.skipIf(!firestoreHost || !gcsHost)('a Storage source failing midway', () => {
  it('fails the backup whole and leaves nothing visible', async () => {
    const project = testProject('stfail');
    await seedDocuments(firestoreHost, project, { count: 50 });
    const bucket = `stfail-${randomBytes(4).toString('hex')}`;
    const storage = openStorageSource({ emulatorHost: gcsHost });
    await storage.bucket(bucket).file('a-small.txt').save(Buffer.from('first'), {
      resumable: false,
    });
    await storage.bucket(bucket).file('b-large.bin').save(randomBytes(3_000_000), {
      resumable: false,
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-stfail-'));
    // Every connection is cut once 400 kB have come down: the large object never arrives.
    const proxy = await startCuttingProxy(`http://${gcsHost}`, {
      direction: 'down',
      afterBytes: 400_000,
      times: 1000,
    });
    const progress: string[] = [];
    try {
      await expect(
        runBackup(
          {
            destination: new LocalBackend(dir),
            keyring: new Keyring(MasterKey.generate()),
            source: { projectId: project, emulatorHost: firestoreHost },
            sources: ['firestore', 'storage'],
            storage: {
              projectId: project,
              emulatorHost: proxy.endpoint.replace('http://', ''),
              buckets: [bucket],
            },
          },
          { onProgress: (p) => progress.push(`${p.phase}:${p.items}:${p.unit ?? ''}`) },
        ),
      ).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|INTEGRITY/) });
      expect(proxy.cuts).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
    // It did get midway: the documents and the first object were read before the cut.
    expect(progress.some((p) => /^reading Storage objects:\d+:objects$/.test(p))).toBe(true);
    // Nothing left, not even the hidden temporary the archive was being written into.
    expect(await readdir(dir, { recursive: true })).toEqual([]);
  }, 120_000);
});
