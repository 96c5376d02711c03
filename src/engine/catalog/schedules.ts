import { backupScopeProblems } from '../../shared/backup-scope.js';
import { AppError } from '../../shared/errors.js';
import {
  ScheduleInputSchema,
  type Schedule,
  type ScheduleInput,
  type ScheduleKind,
} from '../../shared/schedules.js';
import type { Clock } from '../clock.js';
import { validateCron } from '../scheduler/cron.js';
import type { Db } from './db.js';
import { newId } from './ids.js';
import { parseOrThrow } from './projects.js';

interface ScheduleRow {
  id: string;
  name: string;
  kind: ScheduleKind;
  project_id: string;
  destination_id: string;
  cron: string;
  time_zone: string;
  config_json: string;
  enabled: number;
  created_at: string;
  last_scheduled_for: string | null;
}

/** The parts of a schedule without a column of their own. */
type ScheduleConfig = Pick<
  Schedule,
  'scope' | 'retention' | 'verifyAfter' | 'verifyBatch' | 'notifyOnSuccess' | 'allowEmpty'
>;

const toSchedule = (r: ScheduleRow): Schedule => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  projectId: r.project_id,
  destinationId: r.destination_id,
  cron: r.cron,
  timeZone: r.time_zone,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  lastScheduledFor: r.last_scheduled_for,
  // Schedules added before the option existed lack it in their config.
  ...({ allowEmpty: false, ...JSON.parse(r.config_json) } as ScheduleConfig),
});

const configOf = (s: ScheduleConfig): ScheduleConfig => ({
  scope: s.scope,
  retention: s.retention,
  verifyAfter: s.verifyAfter,
  verifyBatch: s.verifyBatch,
  notifyOnSuccess: s.notifyOnSuccess,
  allowEmpty: s.allowEmpty,
});

/** A schedule's own settings: what a user gives (defaults applied). */
type ScheduleFields = Omit<Schedule, 'id' | 'createdAt' | 'lastScheduledFor'>;

/** The columns insert and update both write, in the order their statements name them. */
const columnsOf = (s: ScheduleFields) =>
  [
    s.name,
    s.kind,
    s.projectId,
    s.destinationId,
    s.cron,
    s.timeZone,
    JSON.stringify(configOf(s)),
    s.enabled ? 1 : 0,
  ] as const;

export class SchedulesRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Adds a schedule. Its history starts now: occurrences before creation are not
   * "missed". The cron expression is checked with the parser the scheduler uses.
   */
  add(input: ScheduleInput): Schedule {
    const now = this.clock.now().toISOString();
    return this.insert(input, newId('sch', this.clock.now()), now);
  }

  /**
   * Re-adds a schedule kept in a destination (`catalog rebuild`), under its old id so it
   * still owns its backups for retention. Its history restarts now: nothing before the
   * rebuild counts as missed.
   */
  restore(input: ScheduleInput & { id: string; createdAt: string }): Schedule {
    const { id, createdAt, ...rest } = input;
    return this.insert(rest, id, createdAt);
  }

  private insert(input: ScheduleInput, id: string, createdAt: string): Schedule {
    const s = this.validated(input, undefined);
    this.db
      .prepare(
        `INSERT INTO schedules (id, name, kind, project_id, destination_id, cron, time_zone, config_json, enabled, created_at, last_scheduled_for)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, ...columnsOf(s), createdAt, this.clock.now().toISOString());
    return this.get(id);
  }

  /**
   * Parsed, its cron checked by the scheduler's parser, its scope's filters all for
   * sources it includes (every run would ignore the others), its name free (but for `self`).
   */
  private validated(input: ScheduleInput, self: string | undefined): ScheduleFields {
    const s = parseOrThrow(ScheduleInputSchema, input, 'schedule');
    validateCron(s.cron, s.timeZone);
    const problems = backupScopeProblems(s.scope);
    if (problems.length > 0) throw new AppError('INVALID_ARGUMENT', problems.join(' '));
    const clash = this.findByName(s.name);
    if (clash && clash.id !== self) {
      throw new AppError(
        'ALREADY_EXISTS',
        `A schedule named "${s.name}" already exists. Pick another name${self ? '' : ', or remove it first'}.`,
      );
    }
    return s;
  }

  get(idOrName: string): Schedule {
    const row = this.db
      .prepare('SELECT * FROM schedules WHERE id = ? OR name = ?')
      .get(idOrName, idOrName) as ScheduleRow | undefined;
    if (!row) {
      throw new AppError(
        'NOT_FOUND',
        `No schedule "${idOrName}". See the schedules with "firebackup schedule list".`,
      );
    }
    return toSchedule(row);
  }

  findByName(name: string): Schedule | undefined {
    const row = this.db.prepare('SELECT * FROM schedules WHERE name = ?').get(name) as
      ScheduleRow | undefined;
    return row && toSchedule(row);
  }

  list(): Schedule[] {
    return (this.db.prepare('SELECT * FROM schedules ORDER BY name').all() as ScheduleRow[]).map(
      toSchedule,
    );
  }

  remove(idOrName: string): Schedule {
    const s = this.get(idOrName);
    this.db.prepare('DELETE FROM schedules WHERE id = ?').run(s.id);
    return s;
  }

  /**
   * Changes a schedule (the GUI's editor). A new timetable, or switching it back on,
   * starts its history now: occurrences before the change are not "missed".
   */
  update(idOrName: string, changes: Partial<ScheduleInput>): Schedule {
    const before = this.get(idOrName);
    const { id, createdAt: _createdAt, lastScheduledFor, ...current } = before;
    const s = this.validated({ ...current, ...changes }, id);
    const restart =
      s.cron !== before.cron || s.timeZone !== before.timeZone || (s.enabled && !before.enabled);
    this.db
      .prepare(
        `UPDATE schedules SET name = ?, kind = ?, project_id = ?, destination_id = ?, cron = ?, time_zone = ?,
           config_json = ?, enabled = ?, last_scheduled_for = ? WHERE id = ?`,
      )
      .run(...columnsOf(s), restart ? this.clock.now().toISOString() : lastScheduledFor, id);
    return this.get(id);
  }

  /**
   * Claims the occurrences after `previous` up to `at` for this process: compare-and-set
   * on `last_scheduled_for`, so two processes sharing the catalog (a daemon and the
   * desktop app) never both run the same occurrence. False if someone else claimed it.
   */
  claimOccurrences(id: string, previous: string | null, at: Date): boolean {
    return (
      this.db
        .prepare(
          'UPDATE schedules SET last_scheduled_for = ? WHERE id = ? AND last_scheduled_for IS ?',
        )
        .run(at.toISOString(), id, previous).changes === 1
    );
  }
}
