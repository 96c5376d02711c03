import type { StorageBackend } from '../backend.js';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry.js';
import { withVerification, type VerifiedBackend } from './verify.js';

export { redactUrl } from './redact.js';
export {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  retryCall,
  withRetry,
  type RetryPolicy,
} from './retry.js';
export {
  compareDigests,
  digestObject,
  putDigest,
  verifyObject,
  withVerification,
  type ObjectDigest,
  type PutResult,
  type VerifiedBackend,
} from './verify.js';

/**
 * The stack every remote destination gets from `openDestination`: verification on top
 * (so its read-back also enjoys retries), retries beneath it, the back end at the bottom.
 */
export function remoteStack(
  backend: StorageBackend,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): VerifiedBackend {
  return withVerification(withRetry(backend, policy));
}
