import { createHash } from 'node:crypto';
import type { ExportedEntry } from './audit-export.js';
import { linkAudit } from './audit-linker.js';
import type { Db, Reader, Tx } from './db/db.js';
import { listPage, type Page, type PageRequest } from './pagination.js';
import type { VerifyResult } from '../shared/audit-verify.js';

/**
 * The audit log in the security guide's JSON format, append-only and hash-chained: each
 * organisation has its own chain (server-wide events such as failed sign-ins go to chain
 * '-'), every entry stores the previous entry's hash, and audit_heads keeps the last hash
 * so `verify` detects an edited, deleted or truncated entry.
 */

export interface AuditEntry {
  timestamp: string;
  level: 'info' | 'warn';
  event: string;
  actor: { id: string | null; email: string | null; ip: string | null };
  resource: { type: string; id: string | null };
  organization: string | null;
  metadata: Record<string, unknown>;
}

export type AuditInput = Omit<AuditEntry, 'timestamp' | 'level' | 'organization'> & {
  level?: AuditEntry['level'];
};

export const SERVER_CHAIN = '-';
const GENESIS = '0'.repeat(64);

function chainHash(prevHash: string, entryText: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(entryText).digest('hex');
}

/**
 * Appends one entry inside the caller's transaction (so it commits with the change, or
 * not at all). One plain INSERT, pipelined (Tx.send), no lock: the entry is linked into the hash chain after
 * commit by the linker (audit-linker.ts, migration 5's audit_link), so a request never
 * queues behind its organisation's other audited requests.
 */
export async function appendAudit(
  tx: Tx,
  organization: string | null,
  input: AuditInput,
  now: Date = new Date(),
): Promise<void> {
  const chain = organization ?? SERVER_CHAIN;
  const entry: AuditEntry = {
    timestamp: now.toISOString(),
    level: input.level ?? 'info',
    event: input.event,
    actor: input.actor,
    resource: input.resource,
    organization,
    metadata: input.metadata,
  };
  // Sent, not awaited: it reaches PostgreSQL with the transaction's next statement or its
  // COMMIT, so the entry costs the request no round trip of its own; if it fails, the
  // transaction fails with it (Tx.send), so the action never commits without its entry.
  tx.send('INSERT INTO audit_log (chain, entry) VALUES ($1, $2)', [chain, JSON.stringify(entry)]);
}

/** Appends in its own transaction, in the organisation's RLS context when there is one. */
export function recordAudit(db: Db, organization: string | null, input: AuditInput): Promise<void> {
  return organization === null
    ? db.system((tx) => appendAudit(tx, null, input))
    : db.withOrg(organization, (tx) => appendAudit(tx, organization, input));
}

export type { VerifyResult };

export async function verifyChain(tx: Tx, chain: string): Promise<VerifyResult> {
  const rows = await tx.query<{ seq: string; entry: string; prev_hash: string; hash: string }>(
    'SELECT seq, entry, prev_hash, hash FROM audit_log WHERE chain = $1 AND seq IS NOT NULL ORDER BY seq',
    [chain],
  );
  const [unlinked] = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM audit_log WHERE chain = $1 AND seq IS NULL',
    [chain],
  );
  const pending = unlinked !== undefined && unlinked.n > 0 ? { pending: unlinked.n } : {};
  const [head] = await tx.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM audit_heads WHERE chain = $1',
    [chain],
  );
  const [anchor] = await tx.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM audit_anchors WHERE chain = $1',
    [chain],
  );
  let prev = anchor?.hash ?? GENESIS;
  let expectedSeq = anchor === undefined ? 1 : Number(anchor.seq) + 1;
  const pruned = anchor === undefined ? {} : { prunedThrough: Number(anchor.seq) };
  for (const row of rows) {
    const seq = Number(row.seq);
    if (seq !== expectedSeq)
      return { ok: false, entries: rows.length, brokenAt: expectedSeq, reason: 'entry missing' };
    if (row.prev_hash !== prev)
      return {
        ok: false,
        entries: rows.length,
        brokenAt: seq,
        reason: 'link to previous entry broken',
      };
    if (chainHash(prev, row.entry) !== row.hash)
      return { ok: false, entries: rows.length, brokenAt: seq, reason: 'entry edited' };
    prev = row.hash;
    expectedSeq++;
  }
  const lastSeq = expectedSeq - 1;
  if (head !== undefined && (Number(head.seq) !== lastSeq || head.hash !== prev))
    return {
      ok: false,
      entries: rows.length,
      brokenAt: lastSeq + 1,
      reason: 'entries missing at the end',
    };
  if (head === undefined && rows.length > 0)
    return { ok: false, entries: rows.length, brokenAt: 1, reason: 'chain head missing' };
  return { ok: true, entries: rows.length, ...pruned, ...pending };
}

/**
 * AUDIT_LOG_RETENTION_DAYS: removes each chain's entries older than `days`, oldest first
 * and only as a contiguous run from the start, after recording the last removed entry as
 * the chain's anchor (in the same transaction), so verify still proves the rest intact.
 * With `keepUnexported` (AUDIT_LOG_EXPORT on), nothing past a chain's export cursor goes:
 * an entry is removed only once it is safe at the export destination. Returns how many
 * entries went.
 */
export async function pruneAudit(
  db: Db,
  days: number,
  now: Date = new Date(),
  options: { keepUnexported?: boolean } = {},
): Promise<number> {
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  // Retention works on the chain as committed: entries still waiting for the linker count.
  await linkAudit(db);
  return db.system(async (tx) => {
    // Per chain, the last entry of the old run: the one before the first entry kept (or
    // the newest, when all are old). A chain whose first entry is kept joins no row.
    const ends = await tx.query<{ chain: string; seq: string; hash: string }>(
      `SELECT l.chain, l.seq, l.hash FROM audit_log l
         JOIN (SELECT a.chain,
                      LEAST(COALESCE(min(a.seq) FILTER (WHERE (a.entry::jsonb ->> 'timestamp') >= $1) - 1,
                                     max(a.seq)),
                            CASE WHEN $2::boolean THEN COALESCE(
                              (SELECT c.seq FROM audit_export_cursors c WHERE c.chain = a.chain), 0) END) AS seq
                 FROM audit_log a GROUP BY a.chain) old
           ON old.chain = l.chain AND old.seq = l.seq`,
      [cutoff, options.keepUnexported === true],
    );
    if (ends.length === 0) return 0;
    await tx.query(`SELECT set_config('app.audit_prune', 'on', true)`);
    let removed = 0;
    for (const end of ends) {
      await tx.query(
        `INSERT INTO audit_anchors (chain, seq, hash, pruned_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, pruned_at = EXCLUDED.pruned_at`,
        [end.chain, end.seq, end.hash, now],
      );
      const gone = await tx.query(
        'DELETE FROM audit_log WHERE chain = $1 AND seq <= $2 RETURNING 1',
        [end.chain, end.seq],
      );
      removed += gone.length;
    }
    return removed;
  });
}

export interface AuditFilters {
  event?: string;
  actorId?: string;
  since?: Date;
  until?: Date;
}

/** WHERE clauses for the filters, with their parameters after `chain` ($1). */
function filterClauses(chain: string, q: AuditFilters): { where: string[]; params: unknown[] } {
  const where = ['chain = $1'];
  const params: unknown[] = [chain];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (q.event !== undefined) add(`(entry::jsonb ->> 'event') = ?`, q.event);
  if (q.actorId !== undefined) add(`(entry::jsonb -> 'actor' ->> 'id') = ?`, q.actorId);
  if (q.since !== undefined) add(`(entry::jsonb ->> 'timestamp') >= ?`, q.since.toISOString());
  if (q.until !== undefined) add(`(entry::jsonb ->> 'timestamp') < ?`, q.until.toISOString());
  return { where, params };
}

/** An entry as read back: the guide's format plus its chain position (null until linked). */
export type StoredEntry = AuditEntry & { seq: number | null; hash: string | null };

interface Row {
  seq: string | null;
  entry: string;
  hash: string | null;
}

function fromRow(r: Row): StoredEntry {
  return {
    ...(JSON.parse(r.entry) as AuditEntry),
    seq: r.seq === null ? null : Number(r.seq),
    hash: r.hash,
  };
}

/** A page of a chain's entries, newest first (keyset on the insertion id). */
export async function searchAudit(
  tx: Tx,
  chain: string,
  q: AuditFilters,
  page: PageRequest,
): Promise<Page<StoredEntry>> {
  const { where, params } = filterClauses(chain, q);
  const result = await listPage<Row>(
    tx,
    {
      select: 'seq, entry, hash',
      from: 'audit_log',
      where,
      params,
      order: 'desc',
      key: [{ column: 'id', type: 'bigint' }],
    },
    page,
  );
  return { items: result.items.map(fromRow), nextCursor: result.nextCursor };
}

/**
 * Linked entries in chain order (oldest first): the admin's download and the export to a
 * destination, which only ever ship entries whose place in the chain is fixed.
 */
export async function linkedEntries(
  tx: Reader,
  chain: string,
  q: AuditFilters & { fromSeq?: number; toSeq?: number; limit: number },
): Promise<ExportedEntry[]> {
  const { where, params } = filterClauses(chain, q);
  where.push('seq IS NOT NULL');
  if (q.fromSeq !== undefined) {
    params.push(q.fromSeq);
    where.push(`seq >= $${params.length}`);
  }
  if (q.toSeq !== undefined) {
    params.push(q.toSeq);
    where.push(`seq <= $${params.length}`);
  }
  params.push(q.limit);
  const rows = await tx.query<Row>(
    `SELECT seq, entry, hash FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => fromRow(r) as ExportedEntry);
}
