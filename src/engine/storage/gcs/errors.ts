import { isAppError, type AppError } from '../../../shared/errors.js';
import { remoteError, type FailureFacts } from '../wrappers/remote-errors.js';

interface GcsErrorShape {
  name?: string;
  code?: number | string;
  message?: string;
  errors?: { reason?: string }[];
  response?: { headers?: Record<string, string | undefined> };
}

/** Integrity failures the client library reports after comparing crc32c/md5. */
const MISMATCH_CODES = new Set([
  'FILE_NO_UPLOAD',
  'CONTENT_DOWNLOAD_MISMATCH',
  'FILE_NO_UPLOAD_DELETE',
]);

/** What a @google-cloud/storage ApiError (or a raw socket error under it) says. */
export function gcsFacts(error: unknown): FailureFacts {
  const e = (error ?? {}) as GcsErrorShape;
  const status = typeof e.code === 'number' ? e.code : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = MISMATCH_CODES.has(code ?? '')
    ? 'BadDigest'
    : (code ?? e.errors?.[0]?.reason ?? e.name);
  return {
    status,
    name,
    message: e.message || name || 'no details',
    retryAfter: e.response?.headers?.['retry-after'],
  };
}

export function gcsError(
  error: unknown,
  what: string,
  secrets: readonly (string | undefined)[],
): AppError {
  if (isAppError(error)) return error as AppError;
  return remoteError(gcsFacts(error), what, secrets);
}
