/**
 * Deadlines and cancellation for Firestore calls. A server that stops answering (a frozen
 * emulator, a half-open connection) must not hang a backup: a streamed read that gets no
 * answer for `stallMs` is cancelled and fails as DEADLINE_EXCEEDED (retried by withRetry,
 * then reported naming the host), and an abort cancels the call at once, so that nothing
 * in flight keeps the process alive after the user pressed Ctrl-C.
 */
import { AppError } from '../../../shared/errors.js';
import { Grpc, formatSeconds } from './retry.js';

/** Default deadline of one Firestore request, and the stall limit of a streamed read. */
export const DEFAULT_FIRESTORE_TIMEOUT_MS = 60_000;

/** FIREBACKUP_FIRESTORE_TIMEOUT_MS (milliseconds) when set to a positive number. */
export function firestoreTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.FIREBACKUP_FIRESTORE_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_FIRESTORE_TIMEOUT_MS;
}

/** A stalled call, shaped as gRPC's own DEADLINE_EXCEEDED so retries and messages treat it alike. */
export function stallError(ms: number): Error & { code: number; details: string } {
  const details = `no answer within ${formatSeconds(ms)}`;
  return Object.assign(new Error(details), { code: Grpc.DEADLINE_EXCEEDED, details });
}

/** What gax returns for a streamed call: a readable stream that can cancel its RPC. */
export interface CancellableStream extends AsyncIterable<unknown> {
  cancel(): void;
  destroy(error?: Error): unknown;
}

/** The calls of one connection still in flight, so that closing it can cancel them. */
export class CallRegistry {
  readonly #live = new Set<{ cancel(): void }>();

  add(call: { cancel(): void }): () => void {
    this.#live.add(call);
    return () => this.#live.delete(call);
  }

  cancelAll(): void {
    for (const call of this.#live) call.cancel();
    this.#live.clear();
  }
}

/**
 * Yields a streamed call's responses, failing it when the server stays silent for
 * `stallMs` while we wait for it (time the consumer spends with a response does not
 * count), and cancelling it when `signal` aborts or the consumer stops early.
 */
export async function* guardStream<T>(
  stream: CancellableStream,
  options: { stallMs: number; registry?: CallRegistry; signal?: AbortSignal | undefined },
): AsyncGenerator<T> {
  const { stallMs, signal } = options;
  const unregister = options.registry?.add(stream);
  const fail = (error: Error): void => {
    stream.cancel();
    stream.destroy(error);
  };
  const onAbort = (): void => fail(new AppError('CANCELLED', 'Cancelled.'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const iterator = stream[Symbol.asyncIterator]();
  let finished = false;
  try {
    if (signal?.aborted) onAbort();
    for (;;) {
      const timer = setTimeout(() => fail(stallError(stallMs)), stallMs);
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } finally {
        clearTimeout(timer);
      }
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value as T;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unregister?.();
    if (!finished) stream.cancel();
  }
}

/** A unary gax call whose promise can cancel its RPC (gax's CancellablePromise). */
export type CancellablePromise<T> = Promise<T> & { cancel?: () => void };

/** Awaits a unary call, cancelling it when `signal` aborts or the connection closes. */
export async function guardUnary<T>(
  call: CancellablePromise<T>,
  options: { registry?: CallRegistry; signal?: AbortSignal | undefined },
): Promise<T> {
  const cancel = (): void => call.cancel?.();
  const unregister = options.registry?.add({ cancel });
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    return await call;
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    unregister?.();
  }
}
