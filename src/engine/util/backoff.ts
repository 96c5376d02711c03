import { AppError, isRetryable } from '../../shared/errors.js';

/**
 * How often and how long to retry. One shape for every retry in the engine: Firestore
 * pages and batches, storage requests, scheduled jobs.
 */
export interface BackoffPolicy {
  /** Tries in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Growth of the delay cap per retry. Default 2. */
  factor?: number;
  /**
   * Full jitter (a random wait below the cap) spreads out clients that failed together;
   * false waits exactly the cap (jobs retried minutes apart on a timetable). Default true.
   */
  jitter?: boolean;
  /** For tests: a deterministic jitter source in [0, 1). */
  random?: () => number;
}

/** The wait before retry number `retry` (0 for the first retry); never below `floorMs`. */
export function backoffDelay(retry: number, policy: BackoffPolicy, floorMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * (policy.factor ?? 2) ** retry);
  const delay = policy.jitter === false ? cap : Math.floor((policy.random ?? Math.random)() * cap);
  return floorMs === undefined ? delay : Math.max(floorMs, delay);
}

/** Waits `ms`, or less if `signal` aborts (the caller then sees the abort and stops). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  policy: BackoffPolicy;
  signal?: AbortSignal;
  /** Which failures are worth another try. Default: the taxonomy's `isRetryable`. */
  shouldRetry?: (error: unknown) => boolean;
  /** A wait the failure itself asks for (an HTTP Retry-After), used as a floor. */
  floorMs?: (error: unknown) => number | undefined;
  /** Default: a real timer; jobs pass their injectable clock's. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `op` until it succeeds, fails in a way not worth retrying, runs out of attempts,
 * or `signal` aborts. `op` is told its attempt number (from 0) so it can resume rather
 * than redo. Only for idempotent work: `op` may run more than once.
 */
export async function retrying<T>(
  op: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { policy, signal } = options;
  const shouldRetry = options.shouldRetry ?? isRetryable;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.');
    try {
      return await op(attempt);
    } catch (error) {
      if (signal?.aborted || attempt + 1 >= policy.maxAttempts || !shouldRetry(error)) throw error;
      const delay = backoffDelay(attempt, policy, options.floorMs?.(error));
      options.onRetry?.(error, attempt, delay);
      await (options.sleep ?? sleep)(delay, signal);
    }
  }
}
