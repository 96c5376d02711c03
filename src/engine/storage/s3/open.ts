/** Builds S3 back ends; loaded only when an s3:// destination is opened (see index.ts). */
import { parseBucketUrl } from '../wrappers/bucket-url.js';
import {
  DEFAULT_RETRY_POLICY,
  remoteStack,
  type RetryPolicy,
  type VerifiedBackend,
} from '../wrappers/index.js';
import { createS3Client } from './client.js';
import { resolveS3Options, S3_EXAMPLE, type S3Options } from './options.js';
import { S3Backend } from './s3-backend.js';

export interface OpenS3Extras {
  env?: NodeJS.ProcessEnv;
  retry?: RetryPolicy;
}

/** The bare S3 back end (no wrappers): for tests and the bench. */
export function openS3Backend(url: URL, options: S3Options, extras: OpenS3Extras = {}): S3Backend {
  const env = extras.env ?? process.env;
  const location = parseBucketUrl(url, S3_EXAMPLE);
  const resolved = resolveS3Options(options, env);
  const secrets = [
    options.secretAccessKey,
    options.sessionToken,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
  ];
  return new S3Backend({
    client: createS3Client(resolved, extras.retry ?? DEFAULT_RETRY_POLICY, secrets),
    location,
    displayUrl: `s3://${location.bucket}/${location.prefix}`,
    partSize: resolved.partSize,
    queueSize: resolved.queueSize,
    secrets,
  });
}

/** An s3:// destination as the engine uses it: verified and retried. */
export function openS3(url: URL, options: S3Options, extras: OpenS3Extras = {}): VerifiedBackend {
  return remoteStack(openS3Backend(url, options, extras), extras.retry);
}
