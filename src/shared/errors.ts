/**
 * The one error taxonomy. Every failure that reaches a user (CLI, IPC, HTTP) is an
 * AppError: a stable `code` that programs check, a `message` that says what happened
 * and what to do, who is at fault, and whether trying again can help.
 *
 * Errors cross process boundaries as plain data (`toErrorData`), never by `instanceof`,
 * and never carry stacks or secrets.
 */

export const ERROR_CODES = {
  /** Bad flags, options or configuration. */
  INVALID_ARGUMENT: { fault: 'user', retryable: false, exit: 2 },
  /** A key is malformed, missing, or does not fit the archive. */
  KEY_INVALID: { fault: 'user', retryable: false, exit: 4 },
  KEY_NOT_FOUND: { fault: 'user', retryable: false, exit: 4 },
  /** The archive failed authentication or parsing: corrupt, truncated, tampered. */
  ARCHIVE_CORRUPT: { fault: 'system', retryable: false, exit: 3 },
  /**
   * The archive authenticates but is not the one its backup describes: another backup's
   * archive in its place, bytes other than those its manifest records, or bytes that
   * changed between the verifying and the writing pass of a restore.
   */
  ARCHIVE_MISMATCH: { fault: 'system', retryable: false, exit: 3 },
  /** The archive was written by a newer (or unknown) format version. */
  ARCHIVE_UNSUPPORTED: { fault: 'user', retryable: false, exit: 3 },
  /** A storage object or backup does not exist. */
  NOT_FOUND: { fault: 'user', retryable: false, exit: 1 },
  ALREADY_EXISTS: { fault: 'user', retryable: false, exit: 1 },
  /** No valid credentials: sign in again or send a valid API key (HTTP 401). */
  UNAUTHENTICATED: { fault: 'user', retryable: false, exit: 1 },
  /** The destination refused access (permissions, read-only folder, credentials). */
  PERMISSION_DENIED: { fault: 'user', retryable: false, exit: 1 },
  /** The disk or quota is full. */
  NO_SPACE: { fault: 'system', retryable: false, exit: 1 },
  /** A remote service could not be reached or answered with a transient failure. */
  UNAVAILABLE: { fault: 'system', retryable: true, exit: 1 },
  /** The remote service asked us to slow down. */
  RESOURCE_EXHAUSTED: { fault: 'system', retryable: true, exit: 1 },
  /** An operation was aborted by a conflict; trying again may succeed. */
  ABORTED: { fault: 'system', retryable: true, exit: 1 },
  DEADLINE_EXCEEDED: { fault: 'system', retryable: true, exit: 1 },
  /** The user (or a signal) cancelled the operation. */
  CANCELLED: { fault: 'user', retryable: false, exit: 130 },
  /** Checksums or read-back did not match what was written. */
  INTEGRITY: { fault: 'system', retryable: false, exit: 3 },
  /** Something must happen first (sign in, pick an organisation, a feature not built yet). */
  FAILED_PRECONDITION: { fault: 'user', retryable: false, exit: 1 },
  /** A bug or an unexpected state: the message says so plainly. */
  INTERNAL: { fault: 'system', retryable: false, exit: 1 },
} as const satisfies Record<string, { fault: 'user' | 'system'; retryable: boolean; exit: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorData {
  code: ErrorCode;
  message: string;
  fault: 'user' | 'system';
  retryable: boolean;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fault: 'user' | 'system';
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.fault = ERROR_CODES[code].fault;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
  }
}

/** True for any value shaped like an AppError, including one that crossed a boundary. */
export function isAppError(value: unknown): value is AppError | ErrorData {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value as { code: string }).code in ERROR_CODES &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** The one place that decides whether an operation is worth trying again. */
export function isRetryable(error: unknown): boolean {
  if (isAppError(error)) return error.retryable;
  return false;
}

/** Plain data for IPC/HTTP/JSON output: no stack, no cause chain. */
export function toErrorData(error: unknown): ErrorData {
  if (isAppError(error)) {
    return {
      code: error.code,
      message: error.message,
      fault: ERROR_CODES[error.code].fault,
      retryable: error.retryable,
    };
  }
  return {
    code: 'INTERNAL',
    message: `Unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    fault: 'system',
    retryable: false,
  };
}

export function exitCodeFor(error: unknown): number {
  return isAppError(error) ? ERROR_CODES[error.code].exit : 1;
}
