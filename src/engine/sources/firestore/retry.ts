/**
 * gRPC failures → AppError, and the one retry loop the Firestore source uses. gax's own
 * retries are switched off (connection.callOptions) so that a page or batch is retried
 * here, a bounded number of times, and the final error names the host.
 */
import { backoffDelay, retrying, sleep, type BackoffPolicy } from '../../util/backoff.js';
import { AppError, type ErrorCode } from '../../../shared/errors.js';

/** gRPC status codes (google.rpc.Code). */
export const Grpc = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Codes worth another try: the server was briefly away, busy, or lost a race. */
const TRANSIENT = new Set<number>([
  Grpc.UNAVAILABLE,
  Grpc.DEADLINE_EXCEEDED,
  Grpc.RESOURCE_EXHAUSTED,
  Grpc.ABORTED,
]);

export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isTransientGrpc(error: unknown): boolean {
  const code = grpcCode(error);
  return code !== undefined && TRANSIENT.has(code);
}

function details(error: unknown): string {
  const d = (error as { details?: unknown } | null)?.details;
  const text =
    typeof d === 'string' && d ? d : error instanceof Error ? error.message : String(error);
  // grpc-js appends "Resolution note: <note>" even when the note is empty; a trailing
  // period is dropped as the message adds its own.
  return text.replace(/\.?\s*Resolution note:\s*\.?\s*$/, '').replace(/\.\s*$/, '');
}

export interface ErrorContext {
  /** "host:port" we talked to. */
  endpoint: string;
  /** "projects/P/databases/D" */
  database: string;
  /** What we were doing: "reading documents", "writing documents"… */
  action: string;
  /** The deadline of one request (FIREBACKUP_FIRESTORE_TIMEOUT_MS), for messages. */
  timeoutMs?: number;
}

/** "1.5 s", "60 s": a deadline as users read it. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Maps a gRPC (or any) error to an AppError whose message says what to do. */
export function toAppError(error: unknown, ctx: ErrorContext): AppError {
  if (error instanceof AppError) return error;
  if (/could not load the default credentials/i.test(details(error))) {
    return new AppError(
      'PERMISSION_DENIED',
      `No Google credentials were found for ${ctx.endpoint}. Pass --credentials <service-account.json>, set GOOGLE_APPLICATION_CREDENTIALS, or use --emulator host:port for the emulator.`,
      { cause: error },
    );
  }
  const code = grpcCode(error);
  const what = `Firestore (${ctx.endpoint}) failed while ${ctx.action}`;
  const map = (appCode: ErrorCode, advice: string): AppError =>
    new AppError(appCode, `${what}: ${details(error)}. ${advice}`, { cause: error });
  switch (code) {
    case Grpc.UNAVAILABLE:
      return map(
        'UNAVAILABLE',
        `Could not reach ${ctx.endpoint}. Check the network (or that the emulator is running) and try again.`,
      );
    case Grpc.DEADLINE_EXCEEDED:
      // gRPC's own deadline and our stall timer say the same thing: say it one way.
      if (ctx.timeoutMs !== undefined) {
        return new AppError(
          'DEADLINE_EXCEEDED',
          `${what}: no answer within ${formatSeconds(ctx.timeoutMs)}. Check that ${ctx.endpoint} is running and reachable, then try again (the limit per request is set by FIREBACKUP_FIRESTORE_TIMEOUT_MS, in milliseconds).`,
          { cause: error },
        );
      }
      return map(
        'DEADLINE_EXCEEDED',
        `Check that ${ctx.endpoint} is running and reachable, then try again (the limit per request is set by FIREBACKUP_FIRESTORE_TIMEOUT_MS, in milliseconds).`,
      );
    case Grpc.RESOURCE_EXHAUSTED:
      return map(
        'RESOURCE_EXHAUSTED',
        'Firestore asked us to slow down or a quota is used up; try again later or with lower concurrency.',
      );
    case Grpc.ABORTED:
      return map('ABORTED', 'The operation conflicted with another one; try again.');
    case Grpc.PERMISSION_DENIED:
    case Grpc.UNAUTHENTICATED:
      return map(
        'PERMISSION_DENIED',
        `Check the credentials: the service account needs read (backup) or write (restore) access to ${ctx.database} (for example the "Cloud Datastore User" role).`,
      );
    case Grpc.NOT_FOUND:
      return map(
        'NOT_FOUND',
        `The database ${ctx.database} does not exist. Check the project id and database id.`,
      );
    case Grpc.INVALID_ARGUMENT:
    case Grpc.FAILED_PRECONDITION:
      return map(
        'INVALID_ARGUMENT',
        'Firestore rejected the request; check the options (a read time older than one hour needs point-in-time recovery).',
      );
    case Grpc.CANCELLED:
      return new AppError('CANCELLED', `${what}: the operation was cancelled.`, { cause: error });
    default:
      return map('INTERNAL', 'This is unexpected; try again, and report it if it persists.');
  }
}

export type RetryPolicy = BackoffPolicy;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 5000 };

/**
 * Tries in total for a call that timed out: each already waited a whole deadline, so a
 * server that stopped answering is given up on after a few (minutes, not a quarter hour).
 */
export const DEADLINE_ATTEMPTS = 3;

export { backoffDelay, sleep };

/**
 * Whether a failed call may be tried again, for one call's successive failures: transient
 * ones may, but at most DEADLINE_ATTEMPTS timeouts in all (each already waited a whole
 * deadline). One predicate per call, as it counts.
 */
export function transientWithinDeadlines(): (error: unknown) => boolean {
  let deadlines = 0;
  return (error) =>
    isTransientGrpc(error) &&
    (grpcCode(error) !== Grpc.DEADLINE_EXCEEDED || ++deadlines < DEADLINE_ATTEMPTS);
}

export function throwIfAborted(signal: AbortSignal | undefined, action: string): void {
  if (signal?.aborted) {
    throw new AppError('CANCELLED', `Cancelled while ${action}.`);
  }
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or runs out of tries. `attempt`
 * is told the try number so it can resume (e.g. from the last cursor) rather than redo.
 */
export async function withRetry<T>(
  attempt: (tryNumber: number) => Promise<T>,
  ctx: ErrorContext,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  throwIfAborted(signal, ctx.action);
  let tries = 0;
  try {
    return await retrying(
      (n) => {
        tries = n + 1;
        return attempt(n);
      },
      {
        policy,
        ...(signal ? { signal } : {}),
        shouldRetry: transientWithinDeadlines(),
      },
    );
  } catch (error) {
    throwIfAborted(signal, ctx.action);
    const appError = toAppError(error, ctx);
    if (!isTransientGrpc(error)) throw appError;
    throw new AppError(appError.code, `${appError.message} (gave up after ${tries} tries)`, {
      cause: error,
    });
  }
}
