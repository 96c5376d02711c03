import { AppError } from '../../../shared/errors.js';
import { redactUrl } from './redact.js';

/** Destinations of the bucket kinds (s3://, gs://) share one URL shape: scheme://bucket/prefix. */
export interface BucketLocation {
  bucket: string;
  /** '' or a prefix ending in '/'. */
  prefix: string;
}

// Bucket naming rules (lowercase, 3–63 characters, no leading/trailing dot or dash).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Bucket and key prefix from s3://bucket/prefix or gs://bucket/prefix. */
export function parseBucketUrl(url: URL, example: string): BucketLocation {
  const shown = redactUrl(url.href);
  const invalid = (why: string): AppError =>
    new AppError(
      'INVALID_ARGUMENT',
      `"${shown}" is not a valid destination: ${why}. It should look like ${example} (${url.protocol}//<bucket>/<optional/prefix>).`,
    );
  if (url.username || url.password) {
    throw invalid('credentials do not belong in the URL; pass them as options or environment');
  }
  if (url.search || url.hash) throw invalid('it has a "?" or "#" part');
  const bucket = url.hostname;
  if (!bucket) throw invalid('the bucket name is missing');
  if (url.port)
    throw invalid(`"${url.host}" has a port; set a custom endpoint as an option instead`);
  if (!BUCKET.test(bucket)) {
    throw invalid(`"${bucket}" is not a bucket name (3–63 lowercase letters, digits, "." or "-")`);
  }
  const parts = decodeURIComponent(url.pathname).split('/').filter(Boolean);
  if (parts.some((p) => p === '.' || p === '..')) throw invalid('the prefix has "." or ".." parts');
  return { bucket, prefix: parts.length ? `${parts.join('/')}/` : '' };
}

export function envFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new AppError('INVALID_ARGUMENT', `Expected true or false, got "${value}".`);
}
