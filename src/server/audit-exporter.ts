import { withVerification, type StorageBackend } from '../engine/storage/index.js';
import { AppError } from '../shared/errors.js';
import { toNdjson } from './audit-export.js';
import { linkedEntries, SERVER_CHAIN } from './audit.js';
import type { Db } from './db/db.js';

/**
 * AUDIT_LOG_EXPORT: ships each chain's linked audit entries to a FireBackup destination
 * (a folder, s3://, gs://, through the engine's storage layer), in order and exactly once
 * across crashes:
 *
 * 1. claim: in one transaction, fix the next batch as sequence range [from, to] and record
 *    it in audit_export_cursors.pending_to (or resume the batch already recorded there);
 * 2. upload the range as one NDJSON object named by it, `<chain>/<from>-<to>.ndjson`, and
 *    read it back (withVerification) before counting it as delivered;
 * 3. only then move the cursor to `to` (compare-and-set on pending_to).
 *
 * A crash between 2 and 3 leaves the batch recorded, so the next run re-sends the same
 * range under the same name with the same bytes (linked entries never change): the object
 * is overwritten with itself, and a reader of every batch sees each entry once. Only
 * linked entries are ever exported, so an entry's place in its chain is already fixed.
 */

export const DEFAULT_EXPORT_BATCH = 1000;

export interface ExportOptions {
  batchSize?: number;
  /** Runs once a batch is confirmed at the destination, before the cursor moves (tests crash here). */
  afterUpload?: (key: string) => void | Promise<void>;
}

const pad = (seq: number) => String(seq).padStart(12, '0');

/** The object of a batch: names sort in chain order, and a re-sent batch has the same one. */
export function batchKey(chain: string, from: number, to: number): string {
  return `${chain === SERVER_CHAIN ? '_server' : chain}/${pad(from)}-${pad(to)}.ndjson`;
}

interface Batch {
  from: number;
  to: number;
}

/** The batch in flight for `chain`, or a new one of up to `size` linked entries; null when done. */
function claim(db: Db, chain: string, size: number): Promise<Batch | null> {
  return db.system(async (tx) => {
    await tx.query(
      'INSERT INTO audit_export_cursors (chain) VALUES ($1) ON CONFLICT (chain) DO NOTHING',
      [chain],
    );
    const [cursor] = await tx.query<{ seq: string; pending_to: string | null }>(
      'SELECT seq, pending_to FROM audit_export_cursors WHERE chain = $1 FOR UPDATE',
      [chain],
    );
    const done = Number(cursor!.seq);
    if (cursor!.pending_to !== null) return { from: done + 1, to: Number(cursor!.pending_to) };
    const [bounds] = await tx.query<{ head: string | null; anchor: string | null }>(
      `SELECT (SELECT seq FROM audit_heads WHERE chain = $1) AS head,
              (SELECT seq FROM audit_anchors WHERE chain = $1) AS anchor`,
      [chain],
    );
    // Entries retention removed before the export was turned on cannot be shipped any more.
    const start = Math.max(done, Number(bounds?.anchor ?? 0));
    const head = Number(bounds?.head ?? 0);
    if (head <= start) return null;
    const to = Math.min(start + size, head);
    await tx.query(
      'UPDATE audit_export_cursors SET seq = $2, pending_to = $3, updated_at = now() WHERE chain = $1',
      [chain, start, to],
    );
    return { from: start + 1, to };
  });
}

/**
 * Exports every linked entry not exported yet, chain by chain. Throws when a batch cannot
 * be delivered; what was delivered before stays counted, and the failed batch is re-sent
 * by the next call.
 */
export async function exportAudit(
  db: Db,
  destination: StorageBackend,
  options: ExportOptions = {},
): Promise<{ batches: number; entries: number }> {
  const size = options.batchSize ?? DEFAULT_EXPORT_BATCH;
  const verified = withVerification(destination);
  const chains = await db.system((tx) =>
    tx.query<{ chain: string }>(
      `SELECT h.chain FROM audit_heads h LEFT JOIN audit_export_cursors c ON c.chain = h.chain
        WHERE h.seq > COALESCE(c.seq, 0) ORDER BY h.chain`,
    ),
  );
  let batches = 0;
  let entries = 0;
  for (const { chain } of chains) {
    for (
      let batch = await claim(db, chain, size);
      batch !== null;
      batch = await claim(db, chain, size)
    ) {
      const { from, to } = batch;
      const rows = await db.system((tx) =>
        linkedEntries(tx, chain, { fromSeq: from, toSeq: to, limit: to - from + 1 }),
      );
      if (rows.length !== to - from + 1)
        throw new AppError(
          'INTEGRITY',
          `Audit chain ${chain} lacks entries between ${from} and ${to} (${rows.length} of ${to - from + 1} found); run verify. Nothing past ${from - 1} is exported until this is resolved.`,
        );
      const key = batchKey(chain, from, to);
      await verified.put(key, Buffer.from(toNdjson(rows), 'utf8'));
      await options.afterUpload?.(key);
      await db.system((tx) =>
        tx.query(
          `UPDATE audit_export_cursors SET seq = $2, pending_to = NULL, updated_at = now()
            WHERE chain = $1 AND pending_to = $2`,
          [chain, to],
        ),
      );
      batches++;
      entries += rows.length;
    }
  }
  return { batches, entries };
}

/**
 * Runs the export at start and every intervalMs (never two runs at once in an instance;
 * across instances the claims keep it exactly once). A failure is logged with what will
 * happen next, and the next run retries from the batch that failed.
 */
export class AuditExportJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private destination: StorageBackend | undefined;

  constructor(
    private readonly db: Db,
    private readonly open: () => Promise<StorageBackend>,
    private readonly log: (line: string) => void,
    private readonly options: { intervalMs: number; batchSize?: number; label?: string },
  ) {}

  runOnce(): Promise<boolean> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<boolean> {
    try {
      this.destination ??= await this.open();
      const done = await exportAudit(this.db, this.destination, {
        ...(this.options.batchSize !== undefined ? { batchSize: this.options.batchSize } : {}),
      });
      if (done.entries > 0)
        this.log(
          `Audit export: ${done.entries} entries in ${done.batches} batches to ${this.destination.displayUrl}.`,
        );
      return true;
    } catch (error) {
      const where = this.destination?.displayUrl ?? this.options.label ?? 'its destination';
      this.log(
        `Audit export to ${where} failed (will retry in ${Math.round(this.options.intervalMs / 1000)} s): ${(error as Error).message} Nothing is skipped: the same batch is sent again then.`,
      );
      return false;
    }
  }

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
