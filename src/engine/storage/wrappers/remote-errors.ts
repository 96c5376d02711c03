import { Readable, Transform } from 'node:stream';
import { AppError, type ErrorCode } from '../../../shared/errors.js';

/**
 * What a failed remote call told us, in SDK-neutral terms. Each remote back end extracts
 * these from its SDK's error shape; `remoteError` turns them into the one taxonomy, so
 * S3 and GCS agree on what is retryable and what the user should do.
 */
export interface FailureFacts {
  /** HTTP status when the service answered. */
  status?: number | undefined;
  /** Service error code ("NoSuchBucket", "SlowDown") or Node error code ("ECONNRESET"). */
  name?: string | undefined;
  message: string;
  /** The Retry-After header value, if any (seconds or an HTTP date). */
  retryAfter?: string | undefined;
}

/** An AppError that also carries the server's requested wait, for the retry wrapper. */
export class RemoteError extends AppError {
  readonly retryAfterMs: number | undefined;
  constructor(code: ErrorCode, message: string, retryAfterMs?: number) {
    super(code, message);
    this.name = 'RemoteError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** Transport failures: the request may not have reached the service, or its answer was lost. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'NetworkingError',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'RequestTimeout']);
/** The service says the bytes it got do not match the checksum we sent. */
const CHECKSUM_CODES = new Set([
  'BadDigest',
  'InvalidDigest',
  'XAmzContentChecksumMismatch',
  'InvalidChecksum',
]);

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Replaces every secret value in `text` (credentials can echo back in SDK messages). */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/**
 * Maps one failure to an AppError. `what` says what we were doing ("Cannot read x in
 * s3://b/p"); `secrets` are scrubbed from the service's message.
 */
export function remoteError(
  facts: FailureFacts,
  what: string,
  secrets: readonly (string | undefined)[] = [],
): AppError {
  const said = scrubSecrets(facts.message, secrets);
  const retryAfterMs = parseRetryAfter(facts.retryAfter);
  const make = (code: ErrorCode, advice: string): RemoteError =>
    new RemoteError(code, `${what}: ${advice}`, retryAfterMs);
  const { status, name = '' } = facts;

  if (name === 'AbortError') return make('CANCELLED', 'cancelled.');
  if (
    name === 'CredentialsProviderError' ||
    /could not load (the default )?credentials/i.test(said)
  ) {
    return make(
      'PERMISSION_DENIED',
      'no credentials were found. For S3 set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); for Google Cloud Storage set GOOGLE_APPLICATION_CREDENTIALS; or put them in a --destination-config file.',
    );
  }
  if (TIMEOUT_CODES.has(name) || status === 408) {
    return make('DEADLINE_EXCEEDED', `the service did not answer in time (${said}).`);
  }
  if (status === undefined && NETWORK_CODES.has(name)) {
    return make(
      'UNAVAILABLE',
      `network error (${name}: ${said}). Check the connection and endpoint.`,
    );
  }
  if (CHECKSUM_CODES.has(name)) {
    return make(
      'INTEGRITY',
      `the service rejected the data: its checksum did not match (${said}).`,
    );
  }
  if (status === 429 || name === 'SlowDown' || name === 'rateLimitExceeded') {
    return make('RESOURCE_EXHAUSTED', `the service asked us to slow down (${said}).`);
  }
  if (status !== undefined && status >= 500) {
    return make('UNAVAILABLE', `the service failed (HTTP ${status}: ${said}).`);
  }
  if (status === 401 || status === 403) {
    return make(
      'PERMISSION_DENIED',
      `access denied (${name || `HTTP ${status}`}: ${said}). Check the credentials and that they may use this bucket.`,
    );
  }
  if (name === 'NoSuchBucket' || /bucket does not exist/i.test(said)) {
    return make(
      'NOT_FOUND',
      'the bucket does not exist. Check the bucket name in the destination URL.',
    );
  }
  if (status === 404) return make('NOT_FOUND', 'no such object.');
  if (status !== undefined) {
    return make(
      'INVALID_ARGUMENT',
      `the service refused the request (HTTP ${status} ${name}: ${said}).`,
    );
  }
  if (NETWORK_CODES.has(name)) return make('UNAVAILABLE', `network error (${name}: ${said}).`);
  return make('INTERNAL', `unexpected failure (${name || 'error'}: ${said}).`);
}

/**
 * Passes a download through, turning its transport errors into AppErrors (so the retry
 * wrapper can resume) and treating an early end as a broken connection: some HTTP
 * stacks end a body quietly when the socket closes.
 */
export function guardDownload(
  body: Readable,
  expectedBytes: number | undefined,
  toError: (error: unknown) => Error,
): Readable {
  let received = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (expectedBytes !== undefined && received !== expectedBytes) {
        done(
          toError(
            Object.assign(new Error(`got ${received} of ${expectedBytes} bytes`), {
              code: 'ERR_STREAM_PREMATURE_CLOSE',
            }),
          ),
        );
      } else done();
    },
  });
  body.on('error', (error) => out.destroy(toError(error)));
  // If our reader gives up, release the socket too.
  out.on('close', () => body.destroy());
  return body.pipe(out);
}

/**
 * Feeds an upload body to an SDK while remembering whether it was the body itself that
 * failed: such a failure is the caller's (a broken archive writer, a cancelled job) and is
 * rethrown as is, not reported as a storage fault.
 */
export function watchSource(body: Uint8Array | AsyncIterable<Uint8Array>): {
  body: Buffer | Readable;
  failure: () => { error: unknown } | undefined;
} {
  if (body instanceof Uint8Array) {
    return {
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      failure: () => undefined,
    };
  }
  let failed: { error: unknown } | undefined;
  async function* watched(): AsyncGenerator<Uint8Array> {
    try {
      yield* body as AsyncIterable<Uint8Array>;
    } catch (error) {
      failed = { error };
      throw error;
    }
  }
  return { body: Readable.from(watched(), { objectMode: false }), failure: () => failed };
}
