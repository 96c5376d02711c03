import { describe, expect, it } from 'vitest';
import { Grpc, toAppError } from './retry.js';

const ctx = {
  endpoint: 'firestore.googleapis.com:443',
  database: 'projects/p/databases/(default)',
  action: 'reading documents',
};

describe('Firestore errors for users', () => {
  it('says how to give credentials when none were found', () => {
    const error = toAppError(
      new Error('Could not load the default credentials. Browse to https://…'),
      ctx,
    );
    expect(error).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/--credentials.*GOOGLE_APPLICATION_CREDENTIALS.*--emulator/),
    });
  });

  it('names the host when it cannot be reached, and marks it retryable', () => {
    const error = toAppError(
      Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
        code: Grpc.UNAVAILABLE,
      }),
      ctx,
    );
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining(ctx.endpoint),
    });
  });

  it('explains a refused permission', () => {
    const error = toAppError(
      Object.assign(new Error('7 PERMISSION_DENIED: Missing or insufficient permissions.'), {
        code: Grpc.PERMISSION_DENIED,
      }),
      ctx,
    );
    expect(error).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('Cloud Datastore User'),
    });
  });
});
