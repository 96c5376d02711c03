import type { ShownError } from '../store/slice.js';

/**
 * An error as the engine sent it (as data): its message already says what happened and
 * what to do, so it is shown whole; the code is there for support and tests.
 */
export function ErrorNotice({
  error,
  onRetry,
  onDismiss,
}: {
  error: ShownError | null | undefined;
  onRetry?: () => void;
  onDismiss?: () => void;
}) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert" data-error-code={error.code}>
      <p className="notice-message">{error.message}</p>
      <p className="notice-detail">
        Error code: <code>{error.code}</code>
        {error.retryable ? ' · trying again may help' : ''}
      </p>
      {(onRetry || onDismiss) && (
        <div className="row">
          {onRetry && (
            <button type="button" onClick={onRetry}>
              Try again
            </button>
          )}
          {onDismiss && (
            <button type="button" className="quiet" onClick={onDismiss}>
              Dismiss
            </button>
          )}
        </div>
      )}
    </div>
  );
}
