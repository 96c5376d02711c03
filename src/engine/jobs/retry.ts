import { isRetryable } from '../../shared/errors.js';
import type { Clock } from '../clock.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
}

/** Scheduled runs retry transient failures a few times, minutes apart (a flaky network, a busy lock). */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 30_000,
  factor: 4,
  maxDelayMs: 10 * 60_000,
};

export const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 1 };

export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (attempt - 1));
}

/**
 * Runs `fn` until it succeeds, fails for good (isRetryable says no), runs out of
 * attempts, or the signal aborts. `onRetry` sees each failure that will be retried.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    clock: Clock;
    signal?: AbortSignal;
    onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.policy.maxAttempts || !isRetryable(error) || options.signal?.aborted) {
        throw error;
      }
      const delay = backoffDelay(options.policy, attempt);
      options.onRetry?.(error, attempt, delay);
      await options.clock.sleep(delay, options.signal);
    }
  }
}
