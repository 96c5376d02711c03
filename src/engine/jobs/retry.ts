import { retrying, type BackoffPolicy } from '../util/backoff.js';
import type { Clock } from '../clock.js';

export type RetryPolicy = BackoffPolicy;

/**
 * Scheduled runs retry transient failures a few times, minutes apart (a flaky network,
 * a busy lock): on a timetable, exactly (no jitter).
 */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 30_000,
  factor: 4,
  maxDelayMs: 10 * 60_000,
  jitter: false,
};

export const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 1 };

/**
 * Runs `fn` until it succeeds, fails for good (isRetryable says no), runs out of
 * attempts, or the signal aborts; waits on the job clock. `fn` gets the attempt number
 * from 1; `onRetry` sees each failure that will be retried.
 */
export function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    clock: Clock;
    signal?: AbortSignal;
    onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  },
): Promise<T> {
  return retrying((attempt) => fn(attempt + 1), {
    policy: options.policy,
    ...(options.signal ? { signal: options.signal } : {}),
    sleep: (ms, signal) => options.clock.sleep(ms, signal),
    ...(options.onRetry
      ? { onRetry: (e, attempt, delay) => options.onRetry!(e, attempt + 1, delay) }
      : {}),
  });
}
