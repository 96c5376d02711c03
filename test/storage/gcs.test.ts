import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { openGcs, openGcsBackend } from '../../src/engine/storage/gcs/open.js';
import { describeStorageConformance } from '../../src/engine/storage/testing/conformance.js';
import { verifyObject } from '../../src/engine/storage/wrappers/index.js';

const emulatorHost = inject('gcsEmulatorHost');
const bucketUrl = (): URL => new URL(`gs://firebackup-test/run-${randomBytes(3).toString('hex')}`);

describe.skipIf(!emulatorHost)('gcs on the Storage emulator', () => {
  describeStorageConformance('gcs (emulator)', async () => ({
    backend: openGcs(bucketUrl(), { emulatorHost }),
  }));

  it('names the object when it is corrupted at rest', async () => {
    const url = bucketUrl();
    const backend = openGcs(url, { emulatorHost });
    const data = randomBytes(50_000);
    const info = await backend.put('backups/b1.fbk', data);
    // Damage it behind the wrappers' back, as bit rot or a bad actor would.
    const flipped = Buffer.from(data);
    flipped[1234] = flipped[1234]! ^ 0x01;
    await openGcsBackend(url, { emulatorHost }).put('backups/b1.fbk', flipped);
    await expect(
      verifyObject(backend, 'backups/b1.fbk', {
        size: info.size,
        sha256: createHash('sha256').update(data).digest('hex'),
      }),
    ).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('backups/b1.fbk'),
    });
  });

  it('says which URL shape is valid for a typo', async () => {
    expect(() => openGcs(new URL('gs://Bad_Bucket/x'), { emulatorHost })).toThrow(
      /gs:\/\/my-bucket\/firebackup/,
    );
  });
});
