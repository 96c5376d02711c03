/**
 * The storage layer's front door. Importing it registers every remote back end kind, so
 * `openDestination('s3://…' | 'gs://…', options)` works; plain paths and file:// are
 * always available.
 */
import './s3/index.js';
import './gcs/index.js';

export { openDestination, backendKinds, schemeOf, type BackendKind } from './registry.js';
export type * from './backend.js';
export { s3OptionsSchema, type S3Options } from './s3/index.js';
export { gcsOptionsSchema, type GcsOptions } from './gcs/index.js';
export {
  redactUrl,
  withRetry,
  withVerification,
  verifyObject,
  digestObject,
  putDigest,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
  type PutResult,
  type ObjectDigest,
  type VerifiedBackend,
} from './wrappers/index.js';
