/**
 * The backup's reader of a Realtime Database instance, in a worker thread of its own
 * (ADR 0014). firebase-admin leaves several copies of every page as garbage (the
 * message, its own tree of it, the exported value); in the backup's own heap, beside the
 * archive writer and with firebase-admin's code, V8 let that garbage grow to ~120 MB
 * before collecting it, which put a 200 MB backup over 250 MB of RSS. In the worker,
 * with a young generation of a few MB, pages are collected as they die, firebase-admin
 * never loads into the backup's thread, and that thread only holds finished records.
 *
 * The records arrive as transferred buffers (no copy), at most `window` ahead of the
 * archive writer. Cancelling terminates the worker; its errors arrive as AppErrors with
 * their codes; a worker that runs out of its heap fails the backup with a message that
 * says which limit and what to do, never a hang.
 */
import { AppError, type ErrorData } from '../../../shared/errors.js';
import { siblingModule, startModuleWorker } from '../../util/module-worker.js';
import type { OpenRtdbOptions } from './connection.js';
import type { ExportTreeOptions } from './export.js';

/** What the worker is given (structured-cloned). */
export interface RtdbReaderInput {
  connect: OpenRtdbOptions;
  instance: string;
  tree: Omit<ExportTreeOptions, 'signal'>;
  /** Records the worker may send before the backup takes the first of them. */
  window: number;
}

export type FromReader =
  | { kind: 'record'; bytes: Uint8Array }
  | { kind: 'done'; queries: number }
  | { kind: 'error'; error: ErrorData };

export type ToReader = { credit: number };

/**
 * The reader's old-generation limit, MB. Not what keeps memory flat (the reader's own
 * small heap and young generation do: ~200 MiB RSS for the whole backup, ADR 0014) but
 * the bound on one page: a top-level node (or child of a chosen path) arrives whole and
 * needs ~4–5× its JSON size here, so nodes up to ~100 MB are read, and a larger one fails
 * the backup with a clear error instead of taking the machine's memory. (A 64 MB limit
 * gave ~160 MiB, but failed on nodes of ~12 MB, a common size: not worth 40 MiB.)
 */
export const RTDB_READER_HEAP_MB = 512;

export interface ReadInWorkerOptions extends Omit<ExportTreeOptions, 'signal'> {
  signal?: AbortSignal;
  /** The worker's old-generation heap limit, MB (default RTDB_READER_HEAP_MB). */
  heapMb?: number;
  /** Called once the walk is complete, with the number of queries it sent. */
  onDone?: (queries: number) => void;
}

const cancelled = (): AppError => new AppError('CANCELLED', 'The backup was cancelled.');

/** The instance's records (as exportTree makes them), each as its UTF-8 bytes. */
export async function* exportTreeInWorker(
  connect: OpenRtdbOptions,
  instance: string,
  options: ReadInWorkerOptions = {},
): AsyncGenerator<{ bytes: Buffer }> {
  const { signal, heapMb = RTDB_READER_HEAP_MB, onDone, ...tree } = options;
  if (signal?.aborted) throw cancelled();
  const input: RtdbReaderInput = { connect, instance, tree, window: 2 };
  const worker = startModuleWorker(siblingModule(import.meta.url, 'export-worker'), {
    workerData: input,
    // A young generation of a few MB: pages die young, and scavenges are cheap.
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 8 },
  });
  // The worker's exit is queued behind its messages: its last word (done, or an error)
  // must be read before the exit that follows it.
  const inbox: Array<FromReader | { kind: 'exit'; code: number }> = [];
  let failure: AppError | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (message: FromReader) => {
    inbox.push(message);
    poke();
  });
  worker.on('error', (error: Error & { code?: string }) => {
    failure ??= readerFailure(error, instance, heapMb);
    poke();
  });
  worker.on('exit', (code) => {
    inbox.push({ kind: 'exit', code });
    poke();
  });
  const abort = (): void => {
    failure = cancelled();
    poke();
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      const message = inbox.shift();
      // A failure wins over records still queued: they would only be thrown away.
      if (failure) throw failure;
      if (!message) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (message.kind === 'error') {
        throw new AppError(message.error.code, message.error.message, {
          retryable: message.error.retryable,
        });
      }
      if (message.kind === 'done') {
        onDone?.(message.queries);
        return;
      }
      if (message.kind === 'exit') {
        throw new AppError(
          'INTERNAL',
          `The Realtime Database reader of ${instance} stopped before the end of the tree (exit code ${message.code}).`,
        );
      }
      const { bytes } = message;
      yield { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
      worker.postMessage({ credit: 1 } satisfies ToReader);
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    await worker.terminate();
  }
}

function readerFailure(error: Error & { code?: string }, instance: string, heapMb: number) {
  if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new AppError(
      'RESOURCE_EXHAUSTED',
      `Reading the Realtime Database ${instance} needed more than the reader's ${heapMb} MB of memory: one page of children (a top-level key, or a child of a chosen path, arrives whole) is too large. Name the large node with --rtdb-paths so its children are read in pages, or give the reader more memory with --rtdb-memory <MB>.`,
      { retryable: false },
    );
  }
  return new AppError(
    'INTERNAL',
    `The Realtime Database reader of ${instance} failed: ${error.message}`,
  );
}
