/** Builds GCS back ends; loaded only when a gs:// destination is opened (see index.ts). */
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { OAuth2Client } from 'google-auth-library';
import { parseBucketUrl } from '../wrappers/bucket-url.js';
import {
  DEFAULT_RETRY_POLICY,
  remoteStack,
  type RetryPolicy,
  type VerifiedBackend,
} from '../wrappers/index.js';
import { GcsBackend } from './gcs-backend.js';
import {
  GCS_EXAMPLE,
  resolveGcsOptions,
  type GcsOptions,
  type ResolvedGcsOptions,
} from './options.js';

export interface OpenGcsExtras {
  env?: NodeJS.ProcessEnv;
  retry?: RetryPolicy;
}

/** Client options for a bucket; also used by the Storage backup source. */
export function storageOptions(o: ResolvedGcsOptions): StorageOptions {
  // Retries are ours (wrappers/retry.ts), never the library's too.
  const base: StorageOptions = { retryOptions: { autoRetry: false } };
  if (o.emulatorHost) {
    // The emulator skips security rules only for its admin token.
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: 'owner', expiry_date: Date.now() + 10 * 365 * 86_400_000 });
    return {
      ...base,
      apiEndpoint: `http://${o.emulatorHost}`,
      projectId: o.projectId ?? 'demo-firebackup',
      useAuthWithCustomEndpoint: true,
      authClient: auth,
    };
  }
  return {
    ...base,
    ...(o.projectId ? { projectId: o.projectId } : {}),
    ...(o.keyFilename ? { keyFilename: o.keyFilename } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
  };
}

/** The bare GCS back end (no wrappers): for tests. */
export function openGcsBackend(
  url: URL,
  options: GcsOptions,
  extras: OpenGcsExtras = {},
): GcsBackend {
  const location = parseBucketUrl(url, GCS_EXAMPLE);
  const resolved = resolveGcsOptions(options, extras.env ?? process.env);
  const privateKey = resolved.credentials?.private_key;
  return new GcsBackend({
    bucket: new Storage(storageOptions(resolved)).bucket(location.bucket),
    location,
    displayUrl: `gs://${location.bucket}/${location.prefix}`,
    resumable: resolved.resumable,
    chunkSize: resolved.chunkSize,
    retry: extras.retry ?? DEFAULT_RETRY_POLICY,
    secrets: [options.credentialsJson, typeof privateKey === 'string' ? privateKey : undefined],
  });
}

/** A gs:// destination as the engine uses it: verified and retried. */
export function openGcs(
  url: URL,
  options: GcsOptions,
  extras: OpenGcsExtras = {},
): VerifiedBackend {
  return remoteStack(openGcsBackend(url, options, extras), extras.retry);
}
