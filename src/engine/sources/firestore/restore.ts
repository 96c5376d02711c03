/**
 * Restore: documents from an archive into a Firestore database, with batchWrite.
 *
 * batchWrite (not commit) because its writes are independent: each gets its own status,
 * so one document that already exists (create mode) or is rejected does not sink the
 * other 499, and throughput is not limited by transactional commit latency. Several
 * batches are in flight at once; transient failures are retried with capped exponential
 * backoff and jitter, per batch and per write.
 */
import { AppError, isAppError, type ErrorCode } from '../../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../../shared/firestore.js';
import { guardStream, guardUnary, type CancellableStream } from './calls.js';
import type { FirestoreConnection } from './connection.js';
import { escapeFieldPath } from './paths.js';
import type { ProtoBatchGetResponse, ProtoValue, ProtoWrite } from './protos.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  Grpc,
  grpcCode,
  isTransientGrpc,
  sleep,
  throwIfAborted,
  toAppError,
  transientWithinDeadlines,
  withRetry,
  type ErrorContext,
  type RetryPolicy,
} from './retry.js';
import { toProtoFields } from './value-codec.js';

export type RestoreMode = 'create' | 'overwrite' | 'merge' | 'mirror';

export interface RestoreOptions {
  /**
   * create: only documents that do not exist (others are skipped and counted);
   * overwrite: replace whole documents; merge: a deep merge into existing documents
   * (every leaf field of the archived document is set, nested maps are merged, fields
   * only the target has are kept; see `mergeMask`); mirror: overwrite, then delete the
   * documents `extras` names.
   */
  mode: RestoreMode;
  /** Read which documents exist and report what would happen; write nothing. */
  dryRun?: boolean;
  /**
   * Mirror mode: the paths to delete once every document is written (the target's
   * documents in the selection that the archive does not hold). Asked only after the
   * last write, so an interrupted mirror has deleted nothing yet.
   */
  extras?: () => AsyncIterable<string>;
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

/** What a real run did; a dry run's `planned` uses the same categories. */
export interface RestoreReport {
  /** Documents that did not exist and were written. */
  created: number;
  /** Existing documents replaced whole (overwrite and mirror modes). */
  overwritten: number;
  /** Existing documents merged into (merge mode). */
  merged: number;
  /** Create mode: documents that already existed and were left alone. */
  skipped: number;
  /** Mirror mode: documents of the target absent from the archive, deleted. */
  deleted: number;
  /** The first MAX_LISTED_FAILURES failures; `failedCount` has them all. */
  failed: RestoreFailure[];
  failedCount: number;
  /**
   * A cancelled restore: documents whose batch was still unanswered when it was given
   * up on; the server may or may not have applied them.
   */
  unconfirmed?: number;
  /** Dry run only: what a real run would do, category by category. */
  planned?: PlannedRestore;
}

export interface PlannedRestore {
  create: number;
  overwrite: number;
  merge: number;
  skip: number;
  delete: number;
  /** The first MAX_LISTED_DELETIONS paths a mirror would delete. */
  deletePaths: string[];
}

export const MAX_LISTED_FAILURES = 100;
export const MAX_LISTED_DELETIONS = 100;
const MAX_BATCH = 500;
/**
 * After an abort, batches in flight get this long to be answered before they are
 * cancelled: a cancelled batch may have been applied without our knowing, so letting a
 * responsive server answer keeps the counts exact, and a frozen one still lets go fast.
 */
const ABORT_GRACE_MS = 2000;
/** Times one document may flip between "exists" and "missing" under concurrent writers. */
const MAX_SWITCHES = 5;

/**
 * How one document is written. Every mode but create first tries a create (precondition
 * "does not exist"), and only a document the server says exists is written again as a
 * replace or a merge (precondition "exists"). So the report knows exactly which
 * documents were created and which existed, with no read: an empty target costs
 * nothing extra, an existing document one refused write more.
 */
type WriteKind = 'create' | 'replace' | 'merge' | 'delete';

interface Item {
  path: string;
  name: string;
  kind: WriteKind;
  fields?: Record<string, ProtoValue>;
  switches: number;
}

/** Outcome counters in the report, by the kind of write that succeeded. */
const COUNTER: Record<WriteKind, 'created' | 'overwritten' | 'merged' | 'deleted'> = {
  create: 'created',
  replace: 'overwritten',
  merge: 'merged',
  delete: 'deleted',
};

function emptyReport(): RestoreReport {
  return {
    created: 0,
    overwritten: 0,
    merged: 0,
    skipped: 0,
    deleted: 0,
    failed: [],
    failedCount: 0,
  };
}

function emptyPlan(): PlannedRestore {
  return { create: 0, overwrite: 0, merge: 0, skip: 0, delete: 0, deletePaths: [] };
}

/**
 * A restore that stopped part-way (cancelled, or a failure that ends every write): the
 * error that stopped it, and what had been done by then, so the user knows what the
 * target holds and how to finish.
 */
export class RestoreIncompleteError extends AppError {
  constructor(
    readonly stoppedBy: AppError,
    readonly report: RestoreReport,
  ) {
    super(stoppedBy.code, stoppedBy.message, { cause: stoppedBy });
    this.name = 'RestoreIncompleteError';
  }
}

export function isRestoreIncomplete(error: unknown): error is RestoreIncompleteError {
  return error instanceof RestoreIncompleteError;
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

/**
 * The update mask of a deep merge: the path of every leaf field, as the Firestore SDKs'
 * `set(data, { merge: true })` builds it. Maps are merged key by key; anything else
 * (arrays included) is a leaf and replaces the target's value; an empty map sets an
 * empty map; a vector (a map tagged `__type__`) is one value, never merged.
 */
export function mergeMask(fields: Record<string, ProtoValue>, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    const path = prefix ? `${prefix}.${escapeFieldPath(name)}` : escapeFieldPath(name);
    const inner = value.mapValue?.fields;
    if (inner && Object.keys(inner).length > 0 && !('__type__' in inner)) {
      paths.push(...mergeMask(inner, path));
    } else {
      paths.push(path);
    }
  }
  return paths;
}

function toWrite(item: Item): ProtoWrite {
  const update = { name: item.name, fields: item.fields ?? {} };
  switch (item.kind) {
    case 'create':
      return { update, currentDocument: { exists: false } };
    case 'replace':
      return { update, currentDocument: { exists: true } };
    case 'merge':
      return {
        update,
        updateMask: { fieldPaths: mergeMask(update.fields) },
        currentDocument: { exists: true },
      };
    case 'delete':
      return { delete: item.name };
  }
}

/** Writes batches and tallies their outcomes into one report. */
class BatchWriter {
  readonly report = emptyReport();
  private readonly ctx: ErrorContext;
  /** Aborts ABORT_GRACE_MS after the caller's signal: cancels the batches still in flight. */
  private readonly giveUp = new AbortController();

  constructor(
    private readonly conn: FirestoreConnection,
    private readonly options: RestoreOptions,
    private readonly policy: RetryPolicy,
  ) {
    options.signal?.addEventListener(
      'abort',
      () => setTimeout(() => this.giveUp.abort(), ABORT_GRACE_MS).unref(),
      { once: true },
    );
    this.ctx = {
      endpoint: conn.endpoint,
      database: conn.databaseName,
      action: 'writing documents',
      timeoutMs: conn.timeoutMs,
    };
  }

  private fail(path: string, error: unknown): void {
    this.report.failedCount++;
    if (this.report.failed.length < MAX_LISTED_FAILURES) {
      const appError = toAppError(error, { ...this.ctx, action: `writing ${path}` });
      this.report.failed.push({ path, code: appError.code, message: appError.message });
    }
  }

  /** The same document written the other way: it exists after all, or no longer does. */
  private switchTo(item: Item, kind: WriteKind): Item | undefined {
    if (item.switches >= MAX_SWITCHES) {
      this.fail(item.path, {
        code: Grpc.ABORTED,
        details: 'it kept being created and deleted by someone else while it was restored',
      });
      return undefined;
    }
    return { ...item, kind, switches: item.switches + 1 };
  }

  /** What to do with a write the server refused for `code`; undefined when settled. */
  private settle(
    item: Item,
    code: number,
    message: string,
    canRetry: boolean,
  ): Item | 'retry' | undefined {
    const mode = this.options.mode;
    if (code === Grpc.ALREADY_EXISTS && item.kind === 'create') {
      if (mode === 'create') {
        this.report.skipped++;
        return undefined;
      }
      return this.switchTo(item, mode === 'merge' ? 'merge' : 'replace');
    }
    if (code === Grpc.NOT_FOUND && (item.kind === 'replace' || item.kind === 'merge')) {
      return this.switchTo(item, 'create');
    }
    if (isTransientGrpc({ code }) && canRetry) return 'retry';
    this.fail(item.path, { code, details: message });
    return undefined;
  }

  /** Writes `items`, retrying transient failures; only fatal errors (credentials, missing database) throw. */
  async write(items: Item[]): Promise<void> {
    let pending = items;
    const mayRetry = transientWithinDeadlines();
    for (let attempt = 0; pending.length > 0;) {
      throwIfAborted(this.options.signal, 'restoring documents');
      let statuses: { code?: number | null; message?: string | null }[];
      try {
        // The connection's deadline (FIREBACKUP_FIRESTORE_TIMEOUT_MS), not gax's 120 s: a
        // frozen server fails the batch as DEADLINE_EXCEEDED (retried, then reported with
        // what was written), and an abort cancels it at once.
        const [response] = await guardUnary(
          this.conn.client.batchWrite(
            { database: this.conn.databaseName, writes: pending.map(toWrite) },
            this.conn.callOptions(),
          ),
          { registry: this.conn.calls, signal: this.giveUp.signal },
        );
        statuses = response.status ?? [];
      } catch (error) {
        if (this.giveUp.signal.aborted) {
          this.report.unconfirmed = (this.report.unconfirmed ?? 0) + pending.length;
          throw new AppError('CANCELLED', 'Cancelled while restoring documents.');
        }
        if (attempt + 1 < this.policy.maxAttempts && mayRetry(error)) {
          await sleep(backoffDelay(attempt++, this.policy), this.options.signal);
          continue;
        }
        if (grpcCode(error) === Grpc.INVALID_ARGUMENT) {
          // One bad document (too big, bad name…) fails the whole request: halve the
          // batch until the culprit is alone, so the others still get written.
          if (pending.length === 1) this.fail(pending[0]?.path ?? '', error);
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
      const again: Item[] = [];
      const canRetry = attempt + 1 < this.policy.maxAttempts;
      pending.forEach((item, i) => {
        const code = statuses[i]?.code ?? Grpc.OK;
        if (code === Grpc.OK) {
          this.report[COUNTER[item.kind]]++;
          return;
        }
        const next = this.settle(item, code, statuses[i]?.message ?? '', canRetry);
        if (next === 'retry') retry.push(item);
        else if (next) again.push(next);
      });
      // Writes switched to the other precondition go at once; transient failures back off.
      if (retry.length) await sleep(backoffDelay(attempt++, this.policy), this.options.signal);
      pending = [...again, ...retry];
    }
  }

  /** Dry run: which of these documents exist? (batchGet with an empty mask: names only.) */
  async plan(items: Item[]): Promise<void> {
    const planned = (this.report.planned ??= emptyPlan());
    const deletions = items.filter((i) => i.kind === 'delete');
    planned.delete += deletions.length;
    for (const d of deletions) {
      if (planned.deletePaths.length < MAX_LISTED_DELETIONS) planned.deletePaths.push(d.path);
    }
    const writes = items.filter((i) => i.kind !== 'delete');
    if (!writes.length) return;
    const existing = await withRetry(
      async () => {
        const found = new Set<string>();
        const stream = this.conn.client.batchGetDocuments(
          {
            database: this.conn.databaseName,
            documents: writes.map((i) => i.name),
            mask: { fieldPaths: [] },
          },
          this.conn.callOptions(),
        );
        for await (const response of guardStream<ProtoBatchGetResponse>(
          stream as CancellableStream,
          { stallMs: this.conn.timeoutMs, registry: this.conn.calls, signal: this.options.signal },
        )) {
          if (response.found?.name) found.add(response.found.name);
        }
        return found;
      },
      { ...this.ctx, action: 'checking which documents exist' },
      this.policy,
      this.options.signal,
    );
    const ifExists = {
      create: 'skip',
      merge: 'merge',
      overwrite: 'overwrite',
      mirror: 'overwrite',
    } as const;
    for (const item of writes) {
      planned[existing.has(item.name) ? ifExists[this.options.mode] : 'create']++;
    }
  }
}

/**
 * Writes `docs` into the connection's database (then, in mirror mode, deletes `extras`).
 * Memory stays at about `concurrency × batchSize` documents. Per-document failures are
 * reported, not thrown; a cancellation or an error that makes every write fail
 * (credentials, lost connection, missing database) throws a RestoreIncompleteError that
 * carries what was done by then.
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
  if (options.dryRun) writer.report.planned = emptyPlan();

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
    return {
      path: doc.path,
      name: `${conn.documentsRoot}/${doc.path}`,
      kind: 'create',
      fields: toProtoFields(doc.fields, mapReference ? { mapReference } : {}),
      switches: 0,
    };
  };
  const deletionOf = (path: string): Item => ({
    path,
    name: `${conn.documentsRoot}/${path}`,
    kind: 'delete',
    switches: 0,
  });

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
  const drain = async <T>(source: AsyncIterable<T>, toItem: (t: T) => Item): Promise<void> => {
    let batch: Item[] = [];
    for await (const each of source) {
      if (firstError) break;
      throwIfAborted(options.signal, 'restoring documents');
      batch.push(toItem(each));
      if (batch.length >= batchSize) {
        await dispatch(batch);
        batch = [];
      }
    }
    if (batch.length && !firstError) await dispatch(batch);
    // Every write settles before the next phase: deletions start only after the last write.
    await Promise.all(inFlight);
  };

  try {
    try {
      await drain(docs, itemOf);
      if (options.mode === 'mirror' && options.extras && !firstError) {
        await drain(options.extras(), deletionOf);
      }
    } finally {
      // Never return (or throw) with writes still running behind the caller's back.
      await Promise.all(inFlight);
    }
    if (firstError) throw firstError;
  } catch (error) {
    const stoppedBy = isAppError(error)
      ? (error as AppError)
      : toAppError(error, {
          endpoint: conn.endpoint,
          database: conn.databaseName,
          action: 'restoring documents',
          timeoutMs: conn.timeoutMs,
        });
    throw new RestoreIncompleteError(stoppedBy, writer.report);
  }
  return writer.report;
}
