import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import type { Tx } from './db/db.js';
import { sha256 } from './ids.js';

/**
 * Idempotency-Key on the organisation's write routes and on POST /organizations
 * (docs/server.md). A client that
 * sends a write again with the same key — because the answer was lost, the app was
 * killed, or its offline queue delivers once more — gets the first answer back and the
 * write takes effect once.
 *
 * The key's row is claimed (INSERT … ON CONFLICT DO NOTHING) in the write's own
 * transaction before the write runs and holds its answer when it commits: the row exists
 * exactly when the effect does. A concurrent duplicate waits on the claimed row (the
 * primary key's lock) and then replays the committed answer; if the first rolled back
 * (the write failed) the duplicate runs it afresh, as nothing happened.
 */

/** How long a key's answer is kept; a key older than this counts as new. */
export const IDEMPOTENCY_RETENTION_MS = 7 * 86_400_000;

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,200}$/;

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The request's Idempotency-Key, or undefined; a malformed one is refused, not ignored. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw))
    throw new AppError(
      'INVALID_ARGUMENT',
      'The Idempotency-Key header must be 8 to 200 letters, digits or "-_.:" (a random UUID made once per action is right).',
    );
  return raw;
}

/**
 * What makes two requests "the same": who sends it, the method, the path (ids included)
 * and the body. A key reused by someone else is a different request, so nobody is ever
 * handed another caller's answer.
 */
export function requestFingerprint(request: FastifyRequest, actorId: string): string {
  const path = request.url.split('?')[0];
  return sha256(`${actorId}\n${request.method}\n${path}\n${JSON.stringify(request.body ?? null)}`);
}

export interface WriteOutcome {
  status?: number;
  body?: unknown;
  /**
   * What a replay answers instead of `body`, when the first answer holds something that
   * must not be stored (a new API key: the server keeps only its hash).
   */
  replayBody?: unknown;
}

/**
 * Whose keys a write's key is among: an organisation's (its write routes, in its RLS
 * context) or a user's (POST /organizations, which has no organisation yet).
 */
type KeyOwner =
  | { table: 'idempotency_keys'; column: 'organisation_id'; id: string }
  | { table: 'user_idempotency_keys'; column: 'user_id'; id: string };

/** Runs `write` at most once per (organisation, key); a repeat gets the stored answer. */
export function idempotent<T extends WriteOutcome>(
  tx: Tx,
  o: { orgId: string; key: string; fingerprint: string; now: Date },
  write: () => Promise<T>,
): Promise<T | (WriteOutcome & { replayed: true })> {
  const owner: KeyOwner = { table: 'idempotency_keys', column: 'organisation_id', id: o.orgId };
  return once(tx, owner, o, write);
}

/**
 * Runs `write` at most once per (user, key): creating an organisation, in a system
 * transaction (the keys are the sender's own; the fingerprint names the sender too).
 */
export function idempotentForUser<T extends WriteOutcome>(
  tx: Tx,
  o: { userId: string; key: string; fingerprint: string; now: Date },
  write: () => Promise<T>,
): Promise<T | (WriteOutcome & { replayed: true })> {
  const owner: KeyOwner = { table: 'user_idempotency_keys', column: 'user_id', id: o.userId };
  return once(tx, owner, o, write);
}

async function once<T extends WriteOutcome>(
  tx: Tx,
  owner: KeyOwner,
  o: { key: string; fingerprint: string; now: Date },
  write: () => Promise<T>,
): Promise<T | (WriteOutcome & { replayed: true })> {
  const { table, column } = owner;
  const cutoff = new Date(o.now.getTime() - IDEMPOTENCY_RETENTION_MS);
  // Expired answers of this owner go first (cheap with the index), so a key reused after
  // the retention period runs as new. The owner is named even where RLS scopes the table.
  await tx.query(`DELETE FROM ${table} WHERE ${column} = $1 AND created_at < $2`, [
    owner.id,
    cutoff,
  ]);
  const claimed = await tx.query(
    `INSERT INTO ${table} (${column}, key, request_hash, created_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key`,
    [owner.id, o.key, o.fingerprint, o.now],
  );
  if (claimed.length === 0) {
    const [row] = await tx.query<{ request_hash: string; status: number; body: string | null }>(
      `SELECT request_hash, status, body FROM ${table} WHERE ${column} = $1 AND key = $2`,
      [owner.id, o.key],
    );
    if (row === undefined)
      throw new AppError(
        'ABORTED',
        'A request with this Idempotency-Key changed meanwhile; send it again.',
      );
    if (row.request_hash !== o.fingerprint)
      throw new AppError(
        'ALREADY_EXISTS',
        'This Idempotency-Key was already used for a different request (another body, path or sender). Make a new key for a new action; reuse a key only to send the very same request again.',
      );
    return {
      status: row.status,
      ...(row.body !== null ? { body: JSON.parse(row.body) as unknown } : {}),
      replayed: true,
    };
  }
  const outcome = await write();
  const stored = 'replayBody' in outcome ? outcome.replayBody : outcome.body;
  await tx.query(`UPDATE ${table} SET status = $3, body = $4 WHERE ${column} = $1 AND key = $2`, [
    owner.id,
    o.key,
    outcome.status ?? 200,
    stored === undefined ? null : JSON.stringify(stored),
  ]);
  return outcome;
}
