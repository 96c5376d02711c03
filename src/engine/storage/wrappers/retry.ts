import { Readable } from 'node:stream';
import { AppError, isAppError, isRetryable } from '../../../shared/errors.js';
import { backoffDelay, retrying, sleep, type BackoffPolicy } from '../../util/backoff.js';
import type {
  GetOptions,
  ObjectInfo,
  PutBody,
  PutOptions,
  StorageBackend,
  StorageHousekeeping,
} from '../backend.js';

/**
 * The one place that decides how often and how long to retry a remote call. Back ends
 * run with their SDK's own retries off, so attempts never multiply; which failures are
 * worth retrying is `isRetryable` (timeouts, 408/429/5xx, network errors — see
 * remote-errors.ts), never other 4xx.
 */
export interface RetryPolicy extends BackoffPolicy {
  /** A server's Retry-After is honoured up to this long; longer waits fail instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
};

export { backoffDelay };

function retryAfterOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}

/** Retryable, unless the server asks for a longer wait than the policy accepts. */
function worthRetrying(policy: RetryPolicy): (error: unknown) => boolean {
  return (error) => isRetryable(error) && !((retryAfterOf(error) ?? 0) > policy.maxRetryAfterMs);
}

/**
 * Runs `op` until it succeeds, fails with a non-retryable error, or attempts run out,
 * waiting at least what a Retry-After asked. Only for idempotent operations: it may run
 * `op` more than once.
 */
export function retryCall<T>(
  op: () => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  return retrying(op, {
    policy,
    ...(signal ? { signal } : {}),
    shouldRetry: worthRetrying(policy),
    floorMs: retryAfterOf,
  });
}

/**
 * Wraps a back end so its idempotent operations are retried under `policy`:
 * stat, delete, list (restarted, skipping keys already yielded) and get (reopened with a
 * range at the byte where a dropped download stopped). `put` passes through once: a
 * streamed body cannot be replayed here, and remote back ends already retry each request
 * of an upload whose bytes they hold in memory (an S3 part, a GCS body in bytes) with
 * `retryCall` — retrying here too would multiply attempts.
 */
export function withRetry(
  backend: StorageBackend,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): StorageBackend {
  return new RetryingBackend(backend, policy);
}

class RetryingBackend implements StorageBackend {
  readonly kind: string;
  readonly displayUrl: string;
  readonly capabilities: StorageBackend['capabilities'];
  readonly housekeeping?: StorageHousekeeping;

  constructor(
    private readonly inner: StorageBackend,
    private readonly policy: RetryPolicy,
  ) {
    this.kind = inner.kind;
    this.displayUrl = inner.displayUrl;
    this.capabilities = inner.capabilities;
    // Housekeeping is maintenance of what lies beneath; wrappers pass it through as is.
    if (inner.housekeeping) this.housekeeping = inner.housekeeping;
  }

  put(key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo> {
    return this.inner.put(key, body, options);
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const start = options?.range?.start ?? 0;
    const end = options?.range?.end;
    const open = (from: number): Promise<Readable> =>
      retryCall(
        () =>
          this.inner.get(key, {
            ...options,
            range: { start: from, ...(end !== undefined ? { end } : {}) },
          }),
        this.policy,
        options?.signal,
      );
    const first = await open(start);
    if (!this.inner.capabilities.rangeReads) return first;
    return Readable.from(this.resume(first, start, open, options?.signal), { objectMode: false });
  }

  stat(key: string): Promise<ObjectInfo> {
    return retryCall(() => this.inner.stat(key), this.policy);
  }

  delete(key: string): Promise<void> {
    return retryCall(() => this.inner.delete(key), this.policy);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const seen = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        for await (const info of this.inner.list(prefix)) {
          if (seen.has(info.key)) continue;
          seen.add(info.key);
          yield info;
        }
        return;
      } catch (error) {
        if (!worthRetrying(this.policy)(error) || attempt + 1 >= this.policy.maxAttempts)
          throw error;
        await sleep(backoffDelay(attempt, this.policy, retryAfterOf(error)));
      }
    }
  }

  /**
   * Streams from `stream`; when it breaks with a retryable error, reopens at the next
   * byte. Backups are immutable once written, so the bytes after a reopen are the same
   * object's.
   */
  private async *resume(
    stream: Readable,
    start: number,
    open: (from: number) => Promise<Readable>,
    signal?: AbortSignal,
  ): AsyncGenerator<Buffer> {
    let offset = start;
    let current = stream;
    for (let attempt = 0; ;) {
      try {
        for await (const chunk of current) {
          offset += (chunk as Buffer).length;
          attempt = 0; // progress was made: a later break gets a fresh budget
          yield chunk as Buffer;
        }
        return;
      } catch (error) {
        current.destroy();
        if (
          !worthRetrying(this.policy)(error) ||
          ++attempt >= this.policy.maxAttempts ||
          signal?.aborted
        ) {
          throw isAppError(error)
            ? error
            : new AppError('UNAVAILABLE', `Reading ${this.displayUrl} broke off.`, {
                cause: error,
              });
        }
        await sleep(backoffDelay(attempt, this.policy, retryAfterOf(error)), signal);
        current = await open(offset);
      }
    }
  }
}
