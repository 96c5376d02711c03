import { randomBytes } from 'node:crypto';
import { describe, inject } from 'vitest';
import { openS3 } from '../../src/engine/storage/s3/index.js';
import { describeStorageConformance } from '../../src/engine/storage/testing/conformance.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';

const endpoint = inject('s3Endpoint');

describe.skipIf(!endpoint)('s3 on s3rver', () => {
  describeStorageConformance('s3 (s3rver)', async () => ({
    backend: openS3(new URL(`s3://${TEST_BUCKET}/conf-${randomBytes(3).toString('hex')}`), {
      endpoint,
      ...S3RVER_CREDENTIALS,
      // Small parts so the suite's streamed bodies take the multipart path too.
      partSizeMiB: 5,
    }),
  }));
});
