import { isAppError, type AppError } from '../../../shared/errors.js';
import { remoteError, type FailureFacts } from '../wrappers/remote-errors.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** What an AWS SDK v3 error (or a raw Node socket error under it) says. */
export function s3Facts(error: unknown): FailureFacts {
  const e = (error ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  // Node socket errors keep the useful part in `code`; service errors in `name`.
  const name = e.code && !status ? e.code : e.name;
  return {
    status,
    name,
    message: e.message || name || 'no details',
    retryAfter: e.$response?.headers?.['retry-after'],
  };
}

export function s3Error(
  error: unknown,
  what: string,
  secrets: readonly (string | undefined)[],
): AppError {
  if (isAppError(error)) return error as AppError;
  return remoteError(s3Facts(error), what, secrets);
}
