/**
 * Restore: documents from an archive into a Firestore database, with batchWrite.
 *
 * batchWrite (not commit) because its writes are independent: each gets its own status,
 * so one document that already exists (create mode) or is rejected does not sink the
 * other 499, and throughput is not limited by transactional commit latency. Several
 * batches are in flight at once; transient failures are retried with capped exponential
 * backoff and jitter, per batch and per write.
 */
import { AppError, type ErrorCode } from '../../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../../shared/firestore.js';
import type { FirestoreConnection } from './connection.js';
import { escapeFieldPath } from './paths.js';
import type { ProtoBatchGetResponse, ProtoWrite } from './protos.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  Grpc,
  grpcCode,
  isTransientGrpc,
  sleep,
  throwIfAborted,
  toAppError,
  withRetry,
  type ErrorContext,
  type RetryPolicy,
} from './retry.js';
import { toProtoFields } from './value-codec.js';

export type RestoreMode = 'create' | 'overwrite' | 'merge';

export interface RestoreOptions {
  /**
   * create: only documents that do not exist (others are skipped and counted);
   * overwrite: replace whole documents; merge: replace only the top-level fields the
   * archived document has, keep the others.
   */
  mode: RestoreMode;
  /** Read which documents exist and report what would happen; write nothing. */
  dryRun?: boolean;
  /**
   * "projects/P/databases/D/documents" of the database the archive was taken from:
   * references into it are rewritten to point into the target. A function is asked
   * lazily (when the first batch is written), for callers that learn it while reading.
   */
  sourceDocumentsRoot?: string | (() => string | undefined);
  /** Batches in flight. Default 4 (measured best on the emulator; more only queues). */
  concurrency?: number;
  /** Writes per batch, at most 500 (the API's limit). Default 500. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called with the number of documents just finished (a delta). */
  onProgress?: (documents: number) => void;
  retry?: RetryPolicy;
}

export interface RestoreFailure {
  path: string;
  code: ErrorCode;
  message: string;
}

export interface RestoreReport {
  created: number;
  overwritten: number;
  merged: number;
  /** Create mode: documents that already existed and were left alone. */
  skipped: number;
  /** The first MAX_LISTED_FAILURES failures; `failedCount` has them all. */
  failed: RestoreFailure[];
  failedCount: number;
  /** Dry run only: what a real run would do (merge into an existing document counts as overwrite). */
  planned?: { create: number; overwrite: number; skip: number };
}

export const MAX_LISTED_FAILURES = 100;
const MAX_BATCH = 500;

interface Item {
  doc: FirestoreDocumentRecord;
  write: ProtoWrite;
}

function emptyReport(): RestoreReport {
  return { created: 0, overwritten: 0, merged: 0, skipped: 0, failed: [], failedCount: 0 };
}

/** Points references at the source database to the same path in the target database. */
function referenceMapper(
  source: string | undefined,
  target: string,
): ((name: string) => string) | undefined {
  if (!source || source === target) return undefined;
  const prefix = `${source}/`;
  return (name) => (name.startsWith(prefix) ? `${target}/${name.slice(prefix.length)}` : name);
}

function toWrite(
  conn: FirestoreConnection,
  doc: FirestoreDocumentRecord,
  mode: RestoreMode,
  mapReference: ((name: string) => string) | undefined,
): ProtoWrite {
  const update = {
    name: `${conn.documentsRoot}/${doc.path}`,
    fields: toProtoFields(doc.fields, mapReference ? { mapReference } : {}),
  };
  switch (mode) {
    case 'create':
      return { update, currentDocument: { exists: false } };
    case 'overwrite':
      return { update };
    case 'merge':
      return { update, updateMask: { fieldPaths: Object.keys(doc.fields).map(escapeFieldPath) } };
  }
}

/** Writes batches and tallies their outcomes into one report. */
class BatchWriter {
  readonly report = emptyReport();
  private readonly ctx: ErrorContext;

  constructor(
    private readonly conn: FirestoreConnection,
    private readonly options: RestoreOptions,
    private readonly policy: RetryPolicy,
  ) {
    this.ctx = {
      endpoint: conn.endpoint,
      database: conn.databaseName,
      action: 'writing documents',
    };
  }

  private fail(path: string, error: unknown): void {
    this.report.failedCount++;
    if (this.report.failed.length < MAX_LISTED_FAILURES) {
      const appError = toAppError(error, { ...this.ctx, action: `writing ${path}` });
      this.report.failed.push({ path, code: appError.code, message: appError.message });
    }
  }

  private succeed(): void {
    const mode = this.options.mode;
    if (mode === 'create') this.report.created++;
    else if (mode === 'overwrite') this.report.overwritten++;
    else this.report.merged++;
  }

  /** Writes `items`, retrying transient failures; only fatal errors (credentials, missing database) throw. */
  async write(items: Item[]): Promise<void> {
    let pending = items;
    for (let attempt = 0; pending.length > 0; attempt++) {
      throwIfAborted(this.options.signal, 'restoring documents');
      let statuses: { code?: number | null; message?: string | null }[];
      try {
        const [response] = await this.conn.client.batchWrite(
          { database: this.conn.databaseName, writes: pending.map((i) => i.write) },
          this.conn.callOptions(120_000),
        );
        statuses = response.status ?? [];
      } catch (error) {
        if (isTransientGrpc(error) && attempt + 1 < this.policy.maxAttempts) {
          await sleep(backoffDelay(attempt, this.policy), this.options.signal);
          continue;
        }
        if (grpcCode(error) === Grpc.INVALID_ARGUMENT) {
          // One bad document (too big, bad name…) fails the whole request: halve the
          // batch until the culprit is alone, so the others still get written.
          if (pending.length === 1) this.fail(pending[0]?.doc.path ?? '', error);
          else {
            const half = Math.ceil(pending.length / 2);
            await this.write(pending.slice(0, half));
            await this.write(pending.slice(half));
          }
          return;
        }
        throw toAppError(error, this.ctx);
      }
      const retry: Item[] = [];
      pending.forEach((item, i) => {
        const code = statuses[i]?.code ?? Grpc.OK;
        if (code === Grpc.OK) this.succeed();
        else if (code === Grpc.ALREADY_EXISTS && this.options.mode === 'create') {
          this.report.skipped++;
        } else if (isTransientGrpc({ code }) && attempt + 1 < this.policy.maxAttempts) {
          retry.push(item);
        } else {
          this.fail(item.doc.path, { code, details: statuses[i]?.message ?? '' });
        }
      });
      pending = retry;
      if (pending.length) await sleep(backoffDelay(attempt, this.policy), this.options.signal);
    }
  }

  /** Dry run: which of these documents exist? (batchGet with an empty mask: names only.) */
  async plan(items: Item[]): Promise<void> {
    const planned = (this.report.planned ??= { create: 0, overwrite: 0, skip: 0 });
    const existing = await withRetry(
      async () => {
        const found = new Set<string>();
        const stream = this.conn.client.batchGetDocuments(
          {
            database: this.conn.databaseName,
            documents: items.map((i) => i.write.update?.name ?? ''),
            mask: { fieldPaths: [] },
          },
          this.conn.callOptions(120_000),
        );
        for await (const response of stream as AsyncIterable<ProtoBatchGetResponse>) {
          if (response.found?.name) found.add(response.found.name);
        }
        return found;
      },
      { ...this.ctx, action: 'checking which documents exist' },
      this.policy,
      this.options.signal,
    );
    for (const item of items) {
      const exists = existing.has(item.write.update?.name ?? '');
      if (!exists) planned.create++;
      else if (this.options.mode === 'create') planned.skip++;
      else planned.overwrite++;
    }
  }
}

/**
 * Writes `docs` into the connection's database. Memory stays at about
 * `concurrency × batchSize` documents. Per-document failures are reported, not thrown;
 * errors that make every write fail (credentials, missing database) throw.
 */
export async function restoreDocuments(
  conn: FirestoreConnection,
  docs: AsyncIterable<FirestoreDocumentRecord>,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const batchSize = options.batchSize ?? MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The batch size must be a whole number from 1 to ${MAX_BATCH} (got ${batchSize}).`,
    );
  }
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const writer = new BatchWriter(conn, options, options.retry ?? DEFAULT_RETRY);
  if (options.dryRun) writer.report.planned = { create: 0, overwrite: 0, skip: 0 };

  let mapReference: ((name: string) => string) | undefined;
  let mapperReady = false;
  const itemOf = (doc: FirestoreDocumentRecord): Item => {
    if (!mapperReady) {
      const source =
        typeof options.sourceDocumentsRoot === 'function'
          ? options.sourceDocumentsRoot()
          : options.sourceDocumentsRoot;
      mapReference = referenceMapper(source, conn.documentsRoot);
      mapperReady = true;
    }
    return { doc, write: toWrite(conn, doc, options.mode, mapReference) };
  };

  const inFlight = new Set<Promise<void>>();
  let firstError: unknown;
  const dispatch = async (items: Item[]): Promise<void> => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (firstError) return;
    const run = (options.dryRun ? writer.plan(items) : writer.write(items)).then(
      () => options.onProgress?.(items.length),
      (error: unknown) => {
        firstError ??= error;
      },
    );
    const tracked = run.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  try {
    let batch: Item[] = [];
    for await (const doc of docs) {
      if (firstError) break;
      throwIfAborted(options.signal, 'restoring documents');
      batch.push(itemOf(doc));
      if (batch.length >= batchSize) {
        await dispatch(batch);
        batch = [];
      }
    }
    if (batch.length && !firstError) await dispatch(batch);
  } finally {
    // Never return (or throw) with writes still running behind the caller's back.
    await Promise.all(inFlight);
  }
  if (firstError) throw firstError;
  return writer.report;
}
