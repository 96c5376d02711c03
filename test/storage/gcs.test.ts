import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { expectCorruptionAtRestNamed } from '../helpers/corruption-at-rest.js';
import { openGcs, openGcsBackend } from '../../src/engine/storage/gcs/open.js';
import { describeStorageConformance } from '../../src/engine/storage/testing/conformance.js';

const emulatorHost = inject('gcsEmulatorHost');
const bucketUrl = (): URL => new URL(`gs://firebackup-test/run-${randomBytes(3).toString('hex')}`);

describe.skipIf(!emulatorHost)('gcs on the Storage emulator', () => {
  describeStorageConformance('gcs (emulator)', async () => ({
    backend: openGcs(bucketUrl(), { emulatorHost }),
  }));

  it('names the object when it is corrupted at rest', async () => {
    const url = bucketUrl();
    await expectCorruptionAtRestNamed(
      openGcs(url, { emulatorHost }),
      openGcsBackend(url, { emulatorHost }),
    );
  });

  it('says which URL shape is valid for a typo', async () => {
    expect(() => openGcs(new URL('gs://Bad_Bucket/x'), { emulatorHost })).toThrow(
      /gs:\/\/my-bucket\/firebackup/,
    );
  });
});
