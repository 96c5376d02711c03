import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { BackupIndex } from '../../src/engine/browse/backup-index.js';
import { BackupIndexCache } from '../../src/engine/browse/index-cache.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { resolveBackup } from '../../src/engine/operations/resolve-backup.js';
import type { StorageBackend } from '../../src/engine/storage/backend.js';
import { openGcs } from '../../src/engine/storage/gcs/open.js';
import { openDestination } from '../../src/engine/storage/index.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { flipBitAtRest } from '../helpers/corruption-at-rest.js';

const s3 = inject('s3Endpoint');
const gcs = inject('gcsEmulatorHost');
const key = MasterKey.generate();
const keyring = new Keyring(key);
const run = (): string => `browse-${randomBytes(3).toString('hex')}`;

/**
 * The browse directory read from remote destinations: the directory and the archive's
 * header by plain and ranged reads, each document's segment by a ranged read through
 * the destination's wrappers (retry, verification), on s3rver and the GCS emulator.
 */
function browsesThroughRanges(open: () => Promise<StorageBackend>): void {
  it('pages from the directory and opens documents from their segments', async () => {
    const dest = await open();
    const { id } = await craftBackup(dest, key, sampleDocuments(400), { directory: true });
    const backup = await resolveBackup(id, dest);
    const index = await new BackupIndexCache(keyring).get(id, async () => backup);
    const full = await BackupIndex.build(backup, keyring);
    expect(index.collections('')).toEqual(full.collections(''));
    expect(index.page('users', undefined, 50)).toEqual(full.page('users', undefined, 50));
    for (const path of [
      'users/d1',
      'products/d396',
      'users/u2/orders/o2',
      'users/u395/orders/o395',
    ]) {
      expect(await index.document(path)).toEqual(await full.document(path));
    }
  });

  it('refuses a document whose segment was tampered with', async () => {
    const dest = await open();
    const { id } = await craftBackup(dest, key, sampleDocuments(400), { directory: true });
    const index = await new BackupIndexCache(keyring).get(id, () => resolveBackup(id, dest));
    await flipBitAtRest(dest, archiveKeyOf(id));
    const ids = index.page('products', undefined, 1000).ids;
    const results = await Promise.allSettled(ids.map((d) => index.document(`products/${d}`)));
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) expect(r.reason).toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });
}

describe.skipIf(!s3)('browse directory on S3 (s3rver)', () => {
  browsesThroughRanges(() =>
    openDestination(`s3://${TEST_BUCKET}/${run()}`, {
      endpoint: s3,
      ...S3RVER_CREDENTIALS,
      region: 'us-east-1',
    }),
  );
});

describe.skipIf(!gcs)('browse directory on the GCS emulator', () => {
  browsesThroughRanges(async () =>
    openGcs(new URL(`gs://firebackup-test/${run()}`), { emulatorHost: gcs }),
  );
});
