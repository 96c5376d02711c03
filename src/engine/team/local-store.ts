import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError, type ErrorData } from '../../shared/errors.js';
import { makeDirectorySync } from '../util/make-directory.js';

/**
 * What team sync mode keeps on this machine (ADR 0010), in its own SQLite file next to
 * the catalog (`team.sqlite` in the app data folder), so it never collides with the
 * catalog's schema and a catalog rebuild never touches it:
 *
 * - `sync_cache`: the last answer of each organisation list (projects, members, backups,
 *   destinations, schedules, runs) with the time it was fetched, for offline reading.
 * - `outbox`: actions taken while the server could not be reached, in order, each with
 *   the Idempotency-Key made once when it was queued. A row is committed (WAL,
 *   synchronous=FULL) before the action is reported as queued, so a killed process loses
 *   nothing; it is deleted only after the server confirmed it, so nothing is sent twice
 *   with different keys.
 * - `id_map`: the server's id of each record made on this machine whose creation was
 *   queued (null until answered), so later actions that name it by local reference reach
 *   the right record (local-refs.ts, ADR 0016).
 */

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sync_cache (
  server_url TEXT NOT NULL,
  org_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  synced_at TEXT NOT NULL,
  PRIMARY KEY (server_url, org_id, kind)
);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  server_url TEXT NOT NULL,
  org_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  body TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TEXT,
  last_error TEXT,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
  local_ref TEXT
);
CREATE TABLE IF NOT EXISTS id_map (
  server_url TEXT NOT NULL,
  org_id TEXT NOT NULL,
  local_ref TEXT NOT NULL,
  server_id TEXT,
  PRIMARY KEY (server_url, org_id, local_ref)
);
`;
/** Version 1 had no local references (local_ref, id_map: see local-refs.ts). */
const UPGRADE_FROM_1 = 'ALTER TABLE outbox ADD COLUMN local_ref TEXT';

export interface CachedList {
  body: unknown;
  syncedAt: string;
}

export interface OutboxItem {
  seq: number;
  serverUrl: string;
  orgId: string;
  userId: string;
  /** What it is, in words the queue list shows ('projects.create', 'backups.record'). */
  action: string;
  method: 'POST' | 'PATCH' | 'DELETE';
  /** Below /api/v1/organizations/:orgId. */
  path: string;
  body: unknown;
  idempotencyKey: string;
  createdAt: string;
  attempts: number;
  lastAttemptAt: string | null;
  lastError: ErrorData | null;
  /** pending: to be sent; failed: the server refused it for good (retry or discard). */
  state: 'pending' | 'failed';
  /** What it creates (`project:prj_…`): its server id goes in the id map once answered. */
  localRef: string | null;
}

interface OutboxRow {
  seq: number;
  server_url: string;
  org_id: string;
  user_id: string;
  action: string;
  method: OutboxItem['method'];
  path: string;
  body: string | null;
  idempotency_key: string;
  created_at: string;
  attempts: number;
  last_attempt_at: string | null;
  last_error: string | null;
  state: OutboxItem['state'];
  local_ref: string | null;
}

const fromRow = (r: OutboxRow): OutboxItem => ({
  seq: r.seq,
  serverUrl: r.server_url,
  orgId: r.org_id,
  userId: r.user_id,
  action: r.action,
  method: r.method,
  path: r.path,
  body: r.body === null ? undefined : (JSON.parse(r.body) as unknown),
  idempotencyKey: r.idempotency_key,
  createdAt: r.created_at,
  attempts: r.attempts,
  lastAttemptAt: r.last_attempt_at,
  lastError: r.last_error === null ? null : (JSON.parse(r.last_error) as ErrorData),
  state: r.state,
  localRef: r.local_ref,
});

export function teamStorePath(dataDir: string): string {
  return path.join(dataDir, 'team.sqlite');
}

export class TeamLocalStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {}

  static open(file: string, now: () => Date = () => new Date()): TeamLocalStore {
    if (file !== ':memory:') makeDirectorySync(path.dirname(file));
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: 5000 });
    } catch (cause) {
      throw new AppError(
        'PERMISSION_DENIED',
        `Cannot open the team sync file ${file}: ${(cause as Error).message}. Check the folder is writable, or set FIREBACKUP_HOME to another folder.`,
        { cause },
      );
    }
    db.pragma('journal_mode = WAL');
    // A queued action is on disk when enqueue returns, not merely in the WAL's page cache.
    db.pragma('synchronous = FULL');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new AppError(
        'ARCHIVE_UNSUPPORTED',
        `The team sync file ${file} was written by a newer FireBackup; update FireBackup.`,
      );
    }
    db.exec(SCHEMA);
    if (version === 1) db.exec(UPGRADE_FROM_1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return new TeamLocalStore(db, now);
  }

  close(): void {
    this.db.close();
  }

  // --- the sync cache -------------------------------------------------------------------

  putList(serverUrl: string, orgId: string, kind: string, body: unknown): string {
    const syncedAt = this.now().toISOString();
    this.db
      .prepare(
        `INSERT INTO sync_cache (server_url, org_id, kind, body, synced_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (server_url, org_id, kind) DO UPDATE SET body = excluded.body, synced_at = excluded.synced_at`,
      )
      .run(serverUrl, orgId, kind, JSON.stringify(body), syncedAt);
    return syncedAt;
  }

  getList(serverUrl: string, orgId: string, kind: string): CachedList | undefined {
    const row = this.db
      .prepare(
        'SELECT body, synced_at FROM sync_cache WHERE server_url = ? AND org_id = ? AND kind = ?',
      )
      .get(serverUrl, orgId, kind) as { body: string; synced_at: string } | undefined;
    return row === undefined ? undefined : { body: JSON.parse(row.body), syncedAt: row.synced_at };
  }

  /** When anything of this organisation was last fetched (null: never). */
  lastSync(serverUrl: string, orgId: string): string | null {
    const row = this.db
      .prepare('SELECT max(synced_at) AS at FROM sync_cache WHERE server_url = ? AND org_id = ?')
      .get(serverUrl, orgId) as { at: string | null };
    return row.at;
  }

  // --- the outbox -----------------------------------------------------------------------

  /** Stores an action with its Idempotency-Key, made here once; durable on return. */
  enqueue(item: {
    serverUrl: string;
    orgId: string;
    userId: string;
    action: string;
    method: OutboxItem['method'];
    path: string;
    body?: unknown;
    /** What it creates: known (isKnown) from now on, its server id mapped once answered. */
    localRef?: string;
  }): OutboxItem {
    return this.db.transaction(() => {
      const row = this.db
        .prepare(
          `INSERT INTO outbox (server_url, org_id, user_id, action, method, path, body, idempotency_key, created_at, local_ref)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          item.serverUrl,
          item.orgId,
          item.userId,
          item.action,
          item.method,
          item.path,
          item.body === undefined ? null : JSON.stringify(item.body),
          randomUUID(),
          this.now().toISOString(),
          item.localRef ?? null,
        ) as OutboxRow;
      if (item.localRef !== undefined)
        this.db
          .prepare(
            'INSERT OR IGNORE INTO id_map (server_url, org_id, local_ref, server_id) VALUES (?, ?, ?, NULL)',
          )
          .run(item.serverUrl, item.orgId, item.localRef);
      return fromRow(row);
    })();
  }

  // --- the id map (local-refs.ts) -------------------------------------------------------

  /** Created on the server already, or its creation is queued. */
  isKnown(serverUrl: string, orgId: string, ref: string): boolean {
    return this.idRow(serverUrl, orgId, ref) !== undefined;
  }

  /** The server's id of a local record (undefined: not created there, or not yet). */
  serverId(serverUrl: string, orgId: string, ref: string): string | undefined {
    return this.idRow(serverUrl, orgId, ref)?.server_id ?? undefined;
  }

  private idRow(serverUrl: string, orgId: string, ref: string) {
    return this.db
      .prepare('SELECT server_id FROM id_map WHERE server_url = ? AND org_id = ? AND local_ref = ?')
      .get(serverUrl, orgId, ref) as { server_id: string | null } | undefined;
  }

  mapId(serverUrl: string, orgId: string, ref: string, serverId: string): void {
    this.db
      .prepare(
        `INSERT INTO id_map (server_url, org_id, local_ref, server_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (server_url, org_id, local_ref) DO UPDATE SET server_id = excluded.server_id`,
      )
      .run(serverUrl, orgId, ref, serverId);
  }

  /** Every queued action, oldest first (pending and failed). */
  outbox(): OutboxItem[] {
    return (this.db.prepare('SELECT * FROM outbox ORDER BY seq').all() as OutboxRow[]).map(fromRow);
  }

  item(seq: number): OutboxItem | undefined {
    const row = this.db.prepare('SELECT * FROM outbox WHERE seq = ?').get(seq) as
      OutboxRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** The server confirmed it: gone from the queue. */
  delivered(seq: number): void {
    this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq);
  }

  /** An attempt that did not get through (kept pending) or was refused for good (failed). */
  attempted(seq: number, error: ErrorData, state: OutboxItem['state']): void {
    this.db
      .prepare(
        'UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?, state = ? WHERE seq = ?',
      )
      .run(this.now().toISOString(), JSON.stringify(error), state, seq);
  }

  /** A failed action goes back to pending (same key: the server never applied it). */
  retry(seq: number): boolean {
    return (
      this.db
        .prepare(`UPDATE outbox SET state = 'pending' WHERE seq = ? AND state = 'failed'`)
        .run(seq).changes > 0
    );
  }

  /** Drops an action; a creation never answered is forgotten too (made again if needed). */
  discard(seq: number): boolean {
    return this.db.transaction(() => {
      const item = this.item(seq);
      if (item === undefined) return false;
      if (item.localRef !== null)
        this.db
          .prepare(
            'DELETE FROM id_map WHERE server_url = ? AND org_id = ? AND local_ref = ? AND server_id IS NULL',
          )
          .run(item.serverUrl, item.orgId, item.localRef);
      return this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq).changes > 0;
    })();
  }
}
