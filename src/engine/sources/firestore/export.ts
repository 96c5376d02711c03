/**
 * Export: every document under the selection, read at one read time, streamed.
 *
 * How: one kindless all-descendants query (`from: [{allDescendants: true}]` at the
 * documents root) ordered by __name__ sees every document at any depth, including those
 * whose ancestors do not exist. The key space is cut into ranges (one per root
 * collection, optionally sharded by document id) that are scanned concurrently, each in
 * pages with a startAt cursor; documents flow through a bounded channel, so memory stays
 * at about `concurrency × batch` documents whatever the database size.
 *
 * PartitionQuery would give better ranges on production Firestore, but the emulator
 * does not implement it, and root-collection ranges need nothing the emulator lacks.
 */
import { AppError } from '../../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../../shared/firestore.js';
import { guardStream, guardUnary, type CancellableStream } from './calls.js';
import { BoundedChannel } from './channel.js';
import type { FirestoreConnection } from './connection.js';
import {
  isUnder,
  normaliseSelection,
  rangeOf,
  relativePath,
  shardRange,
  type KeyRange,
  type NormalisedSelection,
  type Selection,
} from './paths.js';
import type { ProtoDocument, ProtoRunQueryResponse, ProtoStructuredQuery } from './protos.js';
import {
  DEFAULT_RETRY,
  throwIfAborted,
  withRetry,
  type ErrorContext,
  type RetryPolicy,
} from './retry.js';
import { timestampFromString, timestampToString } from './timestamp.js';
import { fromProtoFields } from './value-codec.js';

export interface ExportOptions extends Selection {
  /** RFC 3339 read time (from chooseReadTime); every read happens at this instant. */
  readTime?: string;
  signal?: AbortSignal;
  /** Called with the number of documents just handed out (a delta). */
  onProgress?: (documents: number) => void;
  /** Ranges scanned at once. Default 3. */
  concurrency?: number;
  /** Documents per query. Large pages matter on the emulator, whose per-query cost grows with the database. Default 5000. */
  pageSize?: number;
  /** Shards per root collection (by first id character). Default 1 on the emulator, 4 otherwise. */
  shardsPerCollection?: number;
  retry?: RetryPolicy;
}

const ORDER_BY_NAME = [{ field: { fieldPath: '__name__' }, direction: 'ASCENDING' as const }];
/**
 * Documents handed from a range reader to the consumer at once. Small batches and a short
 * channel keep few decoded documents alive at a time: documents that wait long enough to
 * survive two minor collections move to the old generation, which V8 collects late, and
 * that made peak memory grow with the size of the database.
 */
const BATCH = 64;

/**
 * The total deadline of a streamed read: generous, as a page of thousands of documents may
 * take long; a server that stops answering is caught sooner by the stall limit.
 */
const STREAM_DEADLINE_MS = 300_000;

/** Responses of a streamed call, failing on a stall and cancelled on abort or close. */
function guarded<T>(
  conn: FirestoreConnection,
  stream: unknown,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  return guardStream<T>(stream as CancellableStream, {
    stallMs: conn.timeoutMs,
    registry: conn.calls,
    signal,
  });
}

function streamOptions(conn: FirestoreConnection): ReturnType<FirestoreConnection['callOptions']> {
  return conn.callOptions(Math.max(STREAM_DEADLINE_MS, conn.timeoutMs));
}

function context(conn: FirestoreConnection, action: string): ErrorContext {
  return {
    endpoint: conn.endpoint,
    database: conn.databaseName,
    action,
    timeoutMs: conn.timeoutMs,
  };
}

function rangeQuery(
  range: KeyRange,
  from: { name: string; inclusive: boolean },
): ProtoStructuredQuery {
  return {
    from: [{ allDescendants: true }],
    orderBy: ORDER_BY_NAME,
    startAt: { values: [{ referenceValue: from.name }], before: from.inclusive },
    endAt: { values: [{ referenceValue: range.end }], before: true },
  };
}

/**
 * The server's current time, as the read time for a consistent export. Asked of the
 * server (a one-document query reports its readTime) rather than taken from our clock,
 * which may be ahead of it: a read time in the future is rejected.
 */
export async function chooseReadTime(
  conn: FirestoreConnection,
  options: { retry?: RetryPolicy; signal?: AbortSignal } = {},
): Promise<string> {
  return withRetry(
    async () => {
      const stream = conn.client.runQuery(
        {
          parent: conn.documentsRoot,
          structuredQuery: { from: [{ allDescendants: true }], limit: { value: 1 } },
        },
        conn.callOptions(),
      );
      let readTime: string | undefined;
      for await (const response of guarded<ProtoRunQueryResponse>(conn, stream, options.signal)) {
        if (response.readTime && !readTime) readTime = timestampToString(response.readTime);
      }
      if (!readTime) {
        throw new AppError('INTERNAL', `Firestore (${conn.endpoint}) did not report a read time.`);
      }
      return readTime;
    },
    context(conn, 'choosing a read time'),
    options.retry ?? DEFAULT_RETRY,
    options.signal,
  );
}

/** Root collection ids at the read time (every page). */
async function listRootCollections(
  conn: FirestoreConnection,
  readTime: string,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<string[]> {
  return withRetry(
    async () => {
      const [ids] = await guardUnary(
        conn.client.listCollectionIds(
          { parent: conn.documentsRoot, readTime: timestampFromString(readTime) },
          { ...conn.callOptions(), autoPaginate: true },
        ),
        { registry: conn.calls, signal },
      );
      return ids;
    },
    context(conn, 'listing collections'),
    policy,
    signal,
  );
}

/** The key ranges to scan for a selection. Excluded root collections are not scanned at all. */
async function planRanges(
  conn: FirestoreConnection,
  selection: NormalisedSelection,
  readTime: string,
  shards: number,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<KeyRange[]> {
  const shard = (path: string): KeyRange[] =>
    path.includes('/')
      ? [rangeOf(conn.documentsRoot, path)]
      : shardRange(conn.documentsRoot, path, shards);
  if (selection.include) return selection.include.flatMap(shard);
  const roots = await listRootCollections(conn, readTime, policy, signal);
  return roots.filter((id) => !selection.exclude.includes(id)).flatMap(shard);
}

export function toRecord(conn: FirestoreConnection, doc: ProtoDocument): FirestoreDocumentRecord {
  return {
    path: relativePath(conn.documentsRoot, doc.name ?? ''),
    createTime: timestampToString(doc.createTime),
    updateTime: timestampToString(doc.updateTime),
    fields: fromProtoFields(doc.fields),
  };
}

/**
 * Reads one range to the end, page after page, handing documents to `deliver`. A page
 * that fails transiently is retried from the last delivered document, so nothing is
 * read twice. A document under an excluded prefix makes the scan jump past that subtree.
 */
async function scanRange(
  conn: FirestoreConnection,
  range: KeyRange,
  opts: {
    readTime: string;
    pageSize: number;
    exclude: string[];
    policy: RetryPolicy;
    signal: AbortSignal;
    deliver: (record: FirestoreDocumentRecord) => Promise<void>;
    /** Hands on what `deliver` buffered: called before each new query, so no document waits on one. */
    flush: () => Promise<void>;
  },
): Promise<void> {
  const readTime = timestampFromString(opts.readTime);
  let from = { name: range.start, inclusive: true };
  let finished = false;
  const ctx = context(conn, 'reading documents');
  while (!finished) {
    await opts.flush();
    await withRetry(
      async () => {
        const stream = conn.client.runQuery(
          {
            parent: conn.documentsRoot,
            structuredQuery: { ...rangeQuery(range, from), limit: { value: opts.pageSize } },
            readTime,
          },
          streamOptions(conn),
        );
        let seen = 0;
        for await (const response of guarded<ProtoRunQueryResponse>(conn, stream, opts.signal)) {
          const doc = response.document;
          if (!doc?.name) continue;
          seen++;
          const record = toRecord(conn, doc);
          const excluded = opts.exclude.find((prefix) => isUnder(record.path, prefix));
          if (excluded) {
            // Skip the whole subtree with one new query instead of reading it.
            from = { name: rangeOf(conn.documentsRoot, excluded).end, inclusive: true };
            return;
          }
          await opts.deliver(record);
          from = { name: doc.name, inclusive: false };
          throwIfAborted(opts.signal, 'reading documents');
        }
        if (seen < opts.pageSize) finished = true;
      },
      ctx,
      opts.policy,
      opts.signal,
    );
  }
}

/**
 * Every document of the selection, at one read time. Order: documents of one range come
 * in __name__ order; ranges interleave when scanned concurrently.
 */
export async function* exportDocuments(
  conn: FirestoreConnection,
  options: ExportOptions = {},
): AsyncGenerator<FirestoreDocumentRecord> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const selection = normaliseSelection(options);
  const readTime = options.readTime ?? (await chooseReadTime(conn, options));
  const isEmulator = !conn.endpoint.startsWith('firestore.googleapis.com');
  const shards = options.shardsPerCollection ?? (isEmulator ? 1 : 4);
  const ranges = await planRanges(conn, selection, readTime, shards, policy, options.signal);
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 3, ranges.length));

  // One batch waiting per reader at most (see BATCH).
  const channel = new BoundedChannel<FirestoreDocumentRecord[]>(concurrency);
  // Our own controller: stops the readers when the consumer stops early or one fails.
  const stop = new AbortController();
  // On the caller's abort, fail the channel at once: a query already sent cannot always
  // be cancelled before it answers, and the caller should not wait for it.
  const forward = (): void => {
    stop.abort();
    channel.fail(new AppError('CANCELLED', 'Cancelled while reading documents.'));
  };
  options.signal?.addEventListener('abort', forward, { once: true });
  if (options.signal?.aborted) forward();
  let next = 0;
  const worker = async (): Promise<void> => {
    let batch: FirestoreDocumentRecord[] = [];
    const deliver = async (record: FirestoreDocumentRecord): Promise<void> => {
      batch.push(record);
      if (batch.length >= BATCH) await flush();
    };
    const flush = async (): Promise<void> => {
      if (!batch.length) return;
      const full = batch;
      batch = [];
      await channel.push(full);
    };
    while (next < ranges.length && !stop.signal.aborted) {
      const range = ranges[next++] as KeyRange;
      await scanRange(conn, range, {
        readTime,
        pageSize: options.pageSize ?? 5000,
        exclude: selection.exclude,
        policy,
        signal: stop.signal,
        deliver,
        flush,
      });
    }
    await flush();
  };
  Promise.all(Array.from({ length: concurrency }, worker)).then(
    () => channel.close(),
    (error: unknown) => {
      stop.abort();
      channel.fail(error);
    },
  );

  try {
    for await (const batch of channel) {
      for (const record of batch) yield record;
      options.onProgress?.(batch.length);
    }
    throwIfAborted(options.signal, 'reading documents');
  } finally {
    stop.abort();
    channel.close();
    options.signal?.removeEventListener('abort', forward);
  }
}

/**
 * How many documents the selection holds (an aggregation count per range, minus the
 * excluded subtrees inside them). For progress estimates only: it costs one query per
 * range and the caller should not wait on it.
 */
export async function countDocuments(
  conn: FirestoreConnection,
  options: Selection & { readTime?: string; signal?: AbortSignal; retry?: RetryPolicy } = {},
): Promise<number> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const selection = normaliseSelection(options);
  const readTime = options.readTime ? timestampFromString(options.readTime) : undefined;
  const count = (range: KeyRange | undefined): Promise<number> =>
    withRetry(
      async () => {
        const stream = conn.client.runAggregationQuery(
          {
            parent: conn.documentsRoot,
            structuredAggregationQuery: {
              structuredQuery: range
                ? rangeQuery(range, { name: range.start, inclusive: true })
                : { from: [{ allDescendants: true }] },
              aggregations: [{ alias: 'n', count: {} }],
            },
            ...(readTime ? { readTime } : {}),
          },
          streamOptions(conn),
        );
        let n = 0;
        for await (const response of guarded<{
          result?: { aggregateFields?: Record<string, { integerValue?: unknown }> } | null;
        }>(conn, stream, options.signal)) {
          const v = response.result?.aggregateFields?.n?.integerValue;
          if (v !== undefined && v !== null) n = Number(String(v));
        }
        return n;
      },
      context(conn, 'counting documents'),
      policy,
      options.signal,
    );
  const includes = selection.include?.map((p) => rangeOf(conn.documentsRoot, p)) ?? [undefined];
  const excluded = selection.exclude.filter(
    (e) => !selection.include || selection.include.some((i) => isUnder(e, i)),
  );
  const [plus, minus] = await Promise.all([
    Promise.all(includes.map(count)),
    Promise.all(excluded.map((e) => count(rangeOf(conn.documentsRoot, e)))),
  ]);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return Math.max(0, sum(plus) - sum(minus));
}
