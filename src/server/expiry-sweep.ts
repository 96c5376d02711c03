import type { Db } from './db/db.js';
import { IDEMPOTENCY_RETENTION_MS } from './idempotency.js';
import { CODE_KEPT_MS } from './routes/google.js';

/**
 * Rows that only matter until a time — Idempotency-Key answers, sign-in flows in
 * progress, sign-in codes, sessions and their refresh tokens, invitations — are deleted
 * once that time has passed, for every user and organisation at once (ADR 0021). Without
 * it they were deleted only when the same user, organisation or flow came back, so the
 * rows of anyone who never did stayed forever.
 *
 * Each table is swept in batches (`FOR UPDATE SKIP LOCKED`, so instances sweeping at the
 * same time take different rows and never wait on each other or on a request), at most
 * `maxBatches` per table per sweep: a backlog is worked off over several sweeps instead of
 * one long transaction. Migration 10 indexes each condition's column.
 */

const DAY_MS = 86_400_000;

/** How long an expired invitation stays, so its link still says "has expired" (not "unknown"). */
export const INVITATION_KEPT_MS = 30 * DAY_MS;

interface Expiring {
  table: string;
  /** The condition on `$1`, the time before which rows are expired. */
  where: string;
  /** How long after "now" the cut-off lies in the past. */
  keptMs: number;
}

/**
 * In an order that lets each delete succeed: a sign-in code names its session (without
 * cascade), so codes go before sessions; refresh tokens expire with their session.
 */
export const EXPIRING: readonly Expiring[] = [
  { table: 'oauth_states', where: 'expires_at < $1', keptMs: 0 },
  // Spent codes are remembered a day after expiry: a late replay still ends its session.
  { table: 'oauth_codes', where: 'expires_at < $1', keptMs: CODE_KEPT_MS },
  { table: 'refresh_tokens', where: 'expires_at < $1', keptMs: 0 },
  {
    table: 'sessions',
    where: 'expires_at < $1 AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.session_id = t.id)',
    keptMs: 0,
  },
  { table: 'invitations', where: 'expires_at < $1', keptMs: INVITATION_KEPT_MS },
  { table: 'idempotency_keys', where: 'created_at < $1', keptMs: IDEMPOTENCY_RETENTION_MS },
  { table: 'user_idempotency_keys', where: 'created_at < $1', keptMs: IDEMPOTENCY_RETENTION_MS },
];

export interface SweepOptions {
  /** Rows per DELETE (one short transaction each). */
  batch?: number;
  /** Batches per table per sweep; what remains waits for the next sweep. */
  maxBatches?: number;
}

/** Deletes expired rows of every table in EXPIRING; the count removed per table. */
export async function sweepExpired(
  db: Db,
  now: Date,
  { batch = 500, maxBatches = 20 }: SweepOptions = {},
): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const { table, where, keptMs } of EXPIRING) {
    const cutoff = new Date(now.getTime() - keptMs);
    removed[table] = 0;
    for (let i = 0; i < maxBatches; i++) {
      const rows = await db.system((tx) =>
        tx.query(
          `DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table} t WHERE ${where} LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING 1`,
          [cutoff, batch],
        ),
      );
      removed[table] += rows.length;
      if (rows.length < batch) break;
    }
  }
  return removed;
}

/** Every ten minutes: expired rows never wait long, and a sweep with nothing to do is cheap. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Sweeps now and then every `intervalMs` until stopped; a failed sweep is logged and
 * retried at the next one. Each server instance runs its own (SKIP LOCKED shares the work).
 */
export function startExpirySweep(
  db: Db,
  log: (line: string) => void,
  o: { intervalMs?: number; now?: () => Date } & SweepOptions = {},
): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  const sweep = () => {
    // A sweep still running (a large backlog, a slow database) is not doubled.
    if (running !== undefined) return;
    running = sweepExpired(db, (o.now ?? (() => new Date()))(), o)
      .then(
        (removed) => {
          const done = Object.entries(removed).filter(([, n]) => n > 0);
          if (done.length > 0)
            log(`Expired rows removed: ${done.map(([t, n]) => `${t} ${n}`).join(', ')}.`);
        },
        (error: unknown) =>
          log(`Removing expired rows failed (will retry): ${(error as Error).message}`),
      )
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, o.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
