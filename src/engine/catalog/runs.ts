import os from 'node:os';
import type { ErrorData } from '../../shared/errors.js';
import type { JobKind, Run, RunStatus, RunTrigger } from '../../shared/jobs.js';
import type { Clock } from '../clock.js';
import { json, type Db } from './db.js';
import { newId } from './ids.js';

interface RunRow {
  id: string;
  kind: JobKind;
  status: RunStatus;
  trigger: RunTrigger;
  project_id: string | null;
  destination_id: string | null;
  schedule_id: string | null;
  backup_id: string | null;
  scheduled_for: string | null;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  counts_json: string | null;
  bytes: number | null;
  error_json: string | null;
  detail_json: string | null;
}

const toRun = (r: RunRow): Run => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  trigger: r.trigger,
  projectId: r.project_id,
  destinationId: r.destination_id,
  scheduleId: r.schedule_id,
  backupId: r.backup_id,
  scheduledFor: r.scheduled_for,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  attempts: r.attempts,
  counts: json.read(r.counts_json),
  bytes: r.bytes,
  error: json.read(r.error_json),
  detail: json.read(r.detail_json),
});

export interface NewRun {
  id?: string;
  kind: JobKind;
  trigger: RunTrigger;
  status?: RunStatus;
  projectId?: string | null;
  destinationId?: string | null;
  scheduleId?: string | null;
  backupId?: string | null;
  scheduledFor?: Date | null;
  error?: ErrorData | null;
  detail?: Record<string, unknown> | null;
}

export interface RunUpdate {
  status?: RunStatus;
  startedAt?: Date;
  finishedAt?: Date;
  attempts?: number;
  backupId?: string | null;
  counts?: Record<string, number> | null;
  bytes?: number | null;
  error?: ErrorData | null;
  detail?: Record<string, unknown> | null;
}

export interface RunQuery {
  projectId?: string;
  scheduleId?: string;
  kind?: JobKind;
  status?: RunStatus;
  limit?: number;
}

/** Every run is recorded: queued, run, finished, or missed. */
export class RunsRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  create(run: NewRun): Run {
    const id = run.id ?? newId('run', this.clock.now());
    this.db
      .prepare(
        `INSERT INTO runs (id, kind, status, trigger, project_id, destination_id, schedule_id, backup_id, scheduled_for, error_json, detail_json, owner_pid, owner_host, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        run.kind,
        run.status ?? 'queued',
        run.trigger,
        run.projectId ?? null,
        run.destinationId ?? null,
        run.scheduleId ?? null,
        run.backupId ?? null,
        run.scheduledFor?.toISOString() ?? null,
        json.write(run.error),
        json.write(run.detail),
        process.pid,
        os.hostname(),
        this.clock.now().toISOString(),
      );
    return this.get(id)!;
  }

  update(id: string, u: RunUpdate): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (u.status !== undefined) set('status', u.status);
    if (u.startedAt !== undefined) set('started_at', u.startedAt.toISOString());
    if (u.finishedAt !== undefined) set('finished_at', u.finishedAt.toISOString());
    if (u.attempts !== undefined) set('attempts', u.attempts);
    if (u.backupId !== undefined) set('backup_id', u.backupId);
    if (u.counts !== undefined) set('counts_json', json.write(u.counts));
    if (u.bytes !== undefined) set('bytes', u.bytes);
    if (u.error !== undefined) set('error_json', json.write(u.error));
    if (u.detail !== undefined) set('detail_json', json.write(u.detail));
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  get(id: string): Run | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  /** Newest first. */
  list(q: RunQuery = {}): Run[] {
    const where: string[] = [];
    const values: unknown[] = [];
    const filter = (column: string, value: unknown): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      values.push(value);
    };
    filter('project_id', q.projectId);
    filter('schedule_id', q.scheduleId);
    filter('kind', q.kind);
    filter('status', q.status);
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...values, q.limit ?? 100) as RunRow[]).map(toRun);
  }

  /**
   * Runs left "queued" or "running" by a process of this machine that no longer exists
   * (crash, SIGKILL, power loss) are marked failed, so history never shows a ghost run.
   */
  failAbandoned(isPidAlive: (pid: number) => boolean, error: ErrorData): number {
    // One transaction holding the write lock: two processes starting at once correct (and
    // so tell the sync writer about) each abandoned run once, not twice.
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare(
            `SELECT id, owner_pid FROM runs WHERE status IN ('queued', 'running') AND owner_host = ?`,
          )
          .all(os.hostname()) as { id: string; owner_pid: number | null }[];
        let n = 0;
        for (const { id, owner_pid: pid } of rows) {
          if (pid !== null && isPidAlive(pid)) continue;
          this.update(id, { status: 'failed', finishedAt: this.clock.now(), error });
          n++;
        }
        return n;
      })
      .immediate();
  }
}
