import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import type { CheckReport } from '../../src/shared/check.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf, manifestKeyOf } from '../../src/engine/operations/backup-names.js';
import { checkDestination } from '../../src/engine/operations/check.js';
import { restoreToDir } from '../../src/engine/operations/restore.js';
import type { StorageBackend } from '../../src/engine/storage/backend.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { openS3, openS3Backend } from '../../src/engine/storage/s3/open.js';
import { backupKeys, damage, keysOf, type Damaged } from '../helpers/damaged-destination.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';

const s3Endpoint = inject('s3Endpoint');
const DAY = 24 * 60 * 60 * 1000;

function ids(report: CheckReport, category: keyof CheckReport['categories']): string[] {
  return report.categories[category]!.items.map((i) => i.id ?? i.key);
}

/** What every back end must report for the damaged destination, whatever its leftovers. */
function expectFindings(report: CheckReport, d: Damaged): void {
  expect(report.backups).toBe(2);
  expect(ids(report, 'manifests')).toEqual([]);
  expect(ids(report, 'keys')).toEqual([]);
  expect(ids(report, 'digests')).toEqual([d.flipped]);
  expect(ids(report, 'orphanArchives')).toEqual([d.orphanArchive]);
  expect(ids(report, 'orphanManifests')).toEqual([d.orphanManifest]);
}

async function expectGoodRestores(
  destination: StorageBackend,
  keyring: Keyring,
  id: string,
): Promise<void> {
  const directory = path.join(await mkdtemp(path.join(tmpdir(), 'fb-check-restore-')), 'out');
  const report = await restoreToDir({
    backup: { destination, archiveKey: archiveKeyOf(id), id, label: id },
    keyring,
    directory,
  });
  expect(report.documents).toBe(40);
}

describe('firebackup check on a local folder', () => {
  const key = MasterKey.generate();
  const keyring = new Keyring(key);

  async function setUp(): Promise<{
    backend: LocalBackend;
    root: string;
    d: Damaged;
    temp: string;
  }> {
    const root = await mkdtemp(path.join(tmpdir(), 'fb-check-'));
    const backend = new LocalBackend(root);
    const d = await damage(backend, backend, key);
    // A temporary a killed backup left behind (named as LocalBackend names them).
    const temp = `.fbtmp-0123456789ab-${archiveKeyOf(d.good).replace('bkp_', 'bkp_x')}`;
    await writeFile(path.join(root, temp), randomBytes(100));
    return { backend, root, d, temp };
  }

  it('reports each kind of damage and leftover exactly, and removes nothing without --repair', async () => {
    const { backend, d, temp } = await setUp();
    const before = await keysOf(backend);
    const report = await checkDestination(
      backend,
      keyring,
      {},
      {
        catalogIds: [d.good, d.flipped, 'bkp_20200101T000000000Z_00000000'],
      },
    );
    expectFindings(report, d);
    expect(report.categories.data.items).toEqual([]); // no read-data asked
    expect(report.categories.temporaries.items.map((i) => i.key)).toEqual([
      archiveKeyOf(d.good).replace('bkp_', 'bkp_x'),
    ]);
    expect(report.categories.temporaries.items[0]!.message).toContain(temp);
    expect(report.categories.uploads.status).toBe('not-applicable');
    expect(ids(report, 'catalogMissing')).toEqual(['bkp_20200101T000000000Z_00000000']);
    expect(ids(report, 'catalogUnknown')).toEqual([]);
    expect(report.damage).toBe(2); // the flipped archive, the lost one
    expect(report.notices).toBe(3);
    expect(await keysOf(backend)).toEqual(before);
  });

  it('with read-data 1 decrypts every archive and names the flipped one (the digest check too)', async () => {
    const { backend, d } = await setUp();
    const report = await checkDestination(backend, keyring, {}, { readData: 1 });
    expect(report.readData.ids).toEqual([d.good, d.flipped].sort());
    expect(ids(report, 'data')).toEqual([d.flipped]);
    expect(ids(report, 'digests')).toEqual([d.flipped]);
    expect(report.categories.catalogMissing.status).toBe('not-checked');
  });

  it('reads a sample: read-data 0.1 of two backups decrypts one', async () => {
    const { backend, d } = await setUp();
    const report = await checkDestination(backend, keyring, {}, { readData: 0.1, pick: () => 0 });
    expect(report.readData.ids).toEqual([[d.good, d.flipped].sort()[0]]);
  });

  it('with --repair removes old orphans and temporaries and nothing else; young ones stay', async () => {
    const { backend, root, d, temp } = await setUp();
    // A temporary being written right now must survive a repair.
    const young = '.fbtmp-ba9876543210-bkp_young.fbk';
    await writeFile(path.join(root, young), randomBytes(10));
    const old = new Date(Date.now() - 2 * DAY);
    for (const file of [temp, archiveKeyOf(d.orphanArchive), manifestKeyOf(d.orphanManifest)])
      await utimes(path.join(root, file), old, old);

    const report = await checkDestination(backend, keyring, {}, { repair: true });
    expect(report.categories.orphanArchives.items[0]).toMatchObject({ removed: true });
    expect(report.categories.orphanManifests.items[0]).toMatchObject({ removed: true });
    const temps = report.categories.temporaries.items;
    expect(temps.find((i) => i.message.includes(temp))).toMatchObject({ removed: true });
    expect(temps.find((i) => i.message.includes(young))).toMatchObject({
      kept: expect.any(String),
    });

    expect(await keysOf(backend)).toEqual(backupKeys(d));
    expect((await readdir(root)).filter((n) => n.startsWith('.fbtmp-'))).toEqual([young]);
    await expectGoodRestores(backend, keyring, d.good);

    const again = await checkDestination(backend, keyring);
    expect(again.notices).toBe(1); // the young temporary
    expect(ids(again, 'digests')).toEqual([d.flipped]);
  });

  it('files backups under a key not given as key problems, not damage', async () => {
    const { backend } = await setUp();
    const report = await checkDestination(backend, new Keyring(MasterKey.generate()));
    expect(report.keyProblems).toBe(2);
    expect(report.categories.keys.items[0]!.message).toMatch(key.id);
  });

  it('refuses a read-data share outside 0–1', async () => {
    const { backend } = await setUp();
    await expect(checkDestination(backend, keyring, {}, { readData: 1.5 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe.skipIf(!s3Endpoint)('firebackup check on s3rver', () => {
  const key = MasterKey.generate();
  const keyring = new Keyring(key);
  const options = { endpoint: s3Endpoint, ...S3RVER_CREDENTIALS, partSizeMiB: 5 };

  it('reports the same findings; --repair removes the orphans and nothing else', async () => {
    const prefix = `check-${randomBytes(3).toString('hex')}`;
    const url = new URL(`s3://${TEST_BUCKET}/${prefix}`);
    const wrapped = openS3(url, options);
    const bare = openS3Backend(url, options);
    const d = await damage(wrapped, bare, key);
    // An upload a crashed backup started and never finished.
    const client = new S3Client({
      endpoint: s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    const upload = await client.send(
      new CreateMultipartUploadCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/bkp_upload.fbk` }),
    );

    const report = await checkDestination(wrapped, keyring, {}, { readData: 1 });
    expectFindings(report, d);
    expect(ids(report, 'data')).toEqual([d.flipped]);
    expect(report.categories.temporaries.status).toBe('not-applicable');
    const uploads = report.categories.uploads;
    // s3rver may not implement ListMultipartUploads: then "not checked", never a failure.
    if (uploads.status === 'checked')
      expect(uploads.items.map((i) => i.key)).toEqual(['bkp_upload.fbk']);
    else expect(uploads.status).toBe('not-checked');

    // Everything just made is young: a repair "two days later" may remove it.
    const later = () => new Date(Date.now() + 2 * DAY);
    const repaired = await checkDestination(wrapped, keyring, {}, { repair: true, now: later });
    expect(repaired.categories.orphanArchives.items[0]).toMatchObject({ removed: true });
    expect(repaired.categories.orphanManifests.items[0]).toMatchObject({ removed: true });
    expect(await keysOf(wrapped)).toEqual(backupKeys(d));
    await expectGoodRestores(wrapped, keyring, d.good);
    await client
      .send(
        new AbortMultipartUploadCommand({
          Bucket: TEST_BUCKET,
          Key: `${prefix}/bkp_upload.fbk`,
          UploadId: upload.UploadId,
        }),
      )
      .catch(() => undefined);
    client.destroy();
  });
});
