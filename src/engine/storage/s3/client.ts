import { S3Client } from '@aws-sdk/client-s3';
import { retryCall, type RetryPolicy } from '../wrappers/retry.js';
import { s3Error } from './errors.js';
import type { ResolvedS3Options } from './options.js';

/**
 * The requests lib-storage sends for one upload. Their bodies are buffered parts, so
 * sending one again is safe; retrying here means a dropped part costs one part, not the
 * whole (unreplayable) archive stream.
 */
const UPLOAD_COMMANDS = new Set([
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
  'AbortMultipartUploadCommand',
]);

export function createS3Client(
  options: ResolvedS3Options,
  retry: RetryPolicy,
  secrets: readonly (string | undefined)[],
): S3Client {
  // The SDK warns on every run under Node 20 about its own future releases. That is a
  // note for whoever upgrades the pinned SDK, not for a user taking a backup.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    // Retries are ours (wrappers/retry.ts and the middleware below), never the SDK's too.
    maxAttempts: 1,
    // Streamed bodies with automatic checksums get aws-chunked framing, which
    // S3-compatible servers (s3rver) store verbatim: corrupt, no error. We set
    // ChecksumAlgorithm on uploads explicitly instead, and verify reads by SHA-256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (!UPLOAD_COMMANDS.has(command)) return next(args);
      const key = (args.input as { Key?: string }).Key ?? '';
      const attempt = retryCall(
        () =>
          next(args).catch((error: unknown) => {
            throw s3Error(error, `Cannot upload ${key}`, secrets);
          }),
        retry,
      );
      if (command !== 'AbortMultipartUploadCommand') return attempt;
      // lib-storage throws a failed abort instead of the failure that caused it, hiding
      // the real reason. The parts left behind are invisible and swept later by
      // abortAbandonedUploads, so a failed abort is not worth reporting.
      return attempt.catch(() => ({ output: { $metadata: {} }, response: {} }) as never);
    },
    // Before signing, so every attempt is signed afresh.
    { step: 'finalizeRequest', priority: 'high', name: 'firebackupUploadRetry' },
  );
  return client;
}
