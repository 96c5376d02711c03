import type { BackupSelection } from '../../shared/backups.js';
import type { Clock } from '../clock.js';
import { json, type Db } from './db.js';

/** A backup as the catalog caches it; storage (the manifest) is the truth. */
export interface CatalogBackup {
  destinationId: string;
  id: string;
  firebaseProjectId: string | null;
  /** Null when unknown (the key is not held). */
  databaseId: string | null;
  /** The schedule that made it; null for manual backups (and older manifests). */
  scheduleId: string | null;
  /** Null when the manifest predates recording it: such a backup is in no retention scope. */
  selection: BackupSelection | null;
  createdAt: string;
  archiveKey: string;
  manifestKey: string | null;
  counts: Record<string, number> | null;
  bytes: number | null;
  verifiedAt: string | null;
  verifyStatus: 'ok' | 'failed' | null;
  verifyError: string | null;
}

type ScopeFields = 'databaseId' | 'scheduleId' | 'selection';
/** What storage says about a backup; the scope fields default to unknown (null). */
export type BackupFacts = Omit<
  CatalogBackup,
  'verifiedAt' | 'verifyStatus' | 'verifyError' | ScopeFields
> &
  Partial<Pick<CatalogBackup, ScopeFields>>;

interface BackupRow {
  destination_id: string;
  id: string;
  firebase_project_id: string | null;
  database_id: string | null;
  schedule_id: string | null;
  selection_json: string | null;
  created_at: string;
  archive_key: string;
  manifest_key: string | null;
  counts_json: string | null;
  bytes: number | null;
  verified_at: string | null;
  verify_status: 'ok' | 'failed' | null;
  verify_error: string | null;
}

const toBackup = (r: BackupRow): CatalogBackup => ({
  destinationId: r.destination_id,
  id: r.id,
  firebaseProjectId: r.firebase_project_id,
  databaseId: r.database_id,
  scheduleId: r.schedule_id,
  selection: json.read(r.selection_json),
  createdAt: r.created_at,
  archiveKey: r.archive_key,
  manifestKey: r.manifest_key,
  counts: json.read(r.counts_json),
  bytes: r.bytes,
  verifiedAt: r.verified_at,
  verifyStatus: r.verify_status,
  verifyError: r.verify_error,
});

export class BackupsRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Records (or refreshes) what storage says about a backup; keeps verification results. */
  upsert(b: BackupFacts): void {
    this.db
      .prepare(
        `INSERT INTO backups (destination_id, id, firebase_project_id, database_id, schedule_id, selection_json, created_at, archive_key, manifest_key, counts_json, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(destination_id, id) DO UPDATE SET firebase_project_id = excluded.firebase_project_id,
           database_id = excluded.database_id, schedule_id = excluded.schedule_id,
           selection_json = excluded.selection_json, created_at = excluded.created_at, archive_key = excluded.archive_key,
           manifest_key = excluded.manifest_key, counts_json = excluded.counts_json, bytes = excluded.bytes`,
      )
      .run(
        b.destinationId,
        b.id,
        b.firebaseProjectId,
        b.databaseId ?? null,
        b.scheduleId ?? null,
        json.write(b.selection),
        b.createdAt,
        b.archiveKey,
        b.manifestKey,
        json.write(b.counts),
        b.bytes,
      );
  }

  get(destinationId: string, id: string): CatalogBackup | undefined {
    const row = this.db
      .prepare('SELECT * FROM backups WHERE destination_id = ? AND id = ?')
      .get(destinationId, id) as BackupRow | undefined;
    return row && toBackup(row);
  }

  /** Newest first. */
  list(q: { destinationId?: string; firebaseProjectId?: string } = {}): CatalogBackup[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM backups
         WHERE (@d IS NULL OR destination_id = @d) AND (@p IS NULL OR firebase_project_id = @p)
         ORDER BY created_at DESC, id DESC`,
      )
      .all({ d: q.destinationId ?? null, p: q.firebaseProjectId ?? null }) as BackupRow[];
    return rows.map(toBackup);
  }

  /** Oldest verification first, never-verified before all: what the verify schedule re-checks. */
  leastRecentlyVerified(
    destinationId: string,
    firebaseProjectId: string | null,
    limit: number,
  ): CatalogBackup[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM backups WHERE destination_id = @d AND (@p IS NULL OR firebase_project_id = @p)
         ORDER BY verified_at IS NOT NULL, verified_at ASC, created_at ASC LIMIT @limit`,
      )
      .all({ d: destinationId, p: firebaseProjectId, limit }) as BackupRow[];
    return rows.map(toBackup);
  }

  recordVerification(destinationId: string, id: string, ok: boolean, error?: string): void {
    this.db
      .prepare(
        'UPDATE backups SET verified_at = ?, verify_status = ?, verify_error = ? WHERE destination_id = ? AND id = ?',
      )
      .run(
        this.clock.now().toISOString(),
        ok ? 'ok' : 'failed',
        ok ? null : (error ?? 'failed'),
        destinationId,
        id,
      );
  }

  /** Removes the row and records the deletion (who/why), in one transaction. */
  recordDeletion(destinationId: string, id: string, reason: string, runId: string | null): void {
    this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM backups WHERE destination_id = ? AND id = ?')
        .run(destinationId, id);
      this.db
        .prepare(
          'INSERT INTO deletions (destination_id, backup_id, deleted_at, run_id, reason) VALUES (?, ?, ?, ?, ?)',
        )
        .run(destinationId, id, this.clock.now().toISOString(), runId, reason);
    })();
  }

  deletions(destinationId?: string): {
    destinationId: string;
    backupId: string;
    deletedAt: string;
    runId: string | null;
    reason: string;
  }[] {
    return (
      this.db
        .prepare(
          'SELECT * FROM deletions WHERE (@d IS NULL OR destination_id = @d) ORDER BY deleted_at DESC, rowid DESC',
        )
        .all({ d: destinationId ?? null }) as {
        destination_id: string;
        backup_id: string;
        deleted_at: string;
        run_id: string | null;
        reason: string;
      }[]
    ).map((r) => ({
      destinationId: r.destination_id,
      backupId: r.backup_id,
      deletedAt: r.deleted_at,
      runId: r.run_id,
      reason: r.reason,
    }));
  }

  /**
   * Makes the catalog's rows for one destination equal to what storage lists, keeping
   * verification results of backups that are still there. Returns what changed.
   */
  replaceForDestination(
    destinationId: string,
    facts: readonly BackupFacts[],
  ): { added: number; removed: number } {
    return this.db.transaction(() => {
      const before = new Set(this.list({ destinationId }).map((b) => b.id));
      const after = new Set(facts.map((f) => f.id));
      for (const f of facts) this.upsert(f);
      let removed = 0;
      for (const id of before) {
        if (after.has(id)) continue;
        this.db
          .prepare('DELETE FROM backups WHERE destination_id = ? AND id = ?')
          .run(destinationId, id);
        removed++;
      }
      return { added: [...after].filter((id) => !before.has(id)).length, removed };
    })();
  }
}
