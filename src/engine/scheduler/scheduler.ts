import nodeSchedule from 'node-schedule';
import { toErrorData } from '../../shared/errors.js';
import type { Run } from '../../shared/jobs.js';
import type { Schedule } from '../../shared/schedules.js';
import type { Clock } from '../clock.js';
import type { Job, JobManager } from '../jobs/job-manager.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../jobs/retry.js';
import { checkJob } from '../jobs/check-job.js';
import { backupJob, verifyJob, type JobDeps } from '../jobs/specs.js';
import type { KeyRotator } from '../keys/rotation.js';
import type { Notification, Notifier } from '../notify/notifier.js';
import { occurrencesBetween, validateCron } from './cron.js';

/**
 * The scheduler decides *when*; jobs do the work. `check(now)` is the whole decision and
 * is driven by an injectable clock in tests; `start()` adds the real drivers: node-schedule
 * fires at each cron time, and a periodic reconcile catches schedules added by other
 * processes and notices wake-ups (a jump in wall time between two ticks).
 *
 * Catch-up: every schedule remembers the latest occurrence handled. An occurrence found
 * within `graceMs` of its time runs normally. Anything else — several occurrences, or
 * one found late (the machine slept, the app was closed) — is recorded as missed, reported,
 * and caught up by exactly one run.
 */

export interface SchedulerOptions extends JobDeps {
  jobs: JobManager;
  clock: Clock;
  notifier?: Notifier;
  /** How late an occurrence may be found and still count as on time. */
  graceMs?: number;
  retry?: RetryPolicy;
  /** How often the real driver reconciles (and detects wake-ups). */
  reconcileMs?: number;
  log?: (message: string) => void;
  /** Scheduled key rotation (ENCRYPTION_KEY_ROTATION): asked before any backup starts. */
  keyRotation?: KeyRotator;
}

export const DEFAULT_GRACE_MS = 5 * 60_000;
/** Missed occurrences recorded one by one at most; beyond that, the count says it. */
const MISSED_RECORD_LIMIT = 20;

export class Scheduler {
  private readonly graceMs: number;
  private readonly timers = new Map<string, { key: string; job: nodeSchedule.Job }>();
  private reconcileTimer: ReturnType<typeof setInterval> | undefined;
  private lastTick = 0;
  /** Jobs this scheduler started, by schedule id (at most one per schedule). */
  private readonly running = new Map<string, Job>();
  private checking: Promise<Job[]> | undefined;

  constructor(private readonly o: SchedulerOptions) {
    this.graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
  }

  /** Decides what is due now: starts due runs, records and reports missed ones. */
  check(now: Date = this.o.clock.now()): Promise<Job[]> {
    // Serialise checks: a node-schedule fire and a reconcile tick may coincide.
    const next = (this.checking ?? Promise.resolve([])).then(() => this.checkNow(now));
    this.checking = next.catch(() => []);
    return next;
  }

  private async checkNow(now: Date): Promise<Job[]> {
    const started: Job[] = [];
    // A key store gone, damaged or exposed: the current key may now exist only in this
    // process's memory, so no run starts until the store is put back (logged each tick).
    if (!(await this.rotateKeyIfDue())) return started;
    for (const schedule of this.o.catalog.schedules.list()) {
      if (!schedule.enabled) continue;
      try {
        const job = await this.checkSchedule(schedule, now);
        if (job) started.push(job);
      } catch (error) {
        this.o.log?.(`Schedule "${schedule.name}": ${toErrorData(error).message}`);
      }
    }
    return started;
  }

  private async checkSchedule(s: Schedule, now: Date): Promise<Job | undefined> {
    const since = new Date(s.lastScheduledFor ?? s.createdAt);
    const { occurrences, total } = occurrencesBetween(
      s.cron,
      s.timeZone,
      since,
      now,
      MISSED_RECORD_LIMIT,
    );
    const latest = occurrences.at(-1);
    if (!latest) return undefined;
    if (!this.o.catalog.schedules.claimOccurrences(s.id, s.lastScheduledFor, latest))
      return undefined;

    const onTime = total === 1 && now.getTime() - latest.getTime() <= this.graceMs;
    const busy = this.running.get(s.id);
    if (onTime && !busy) return this.startRun(s, latest, 'schedule');

    // Missed: every occurrence (up to the limit) is recorded as such.
    const reason = busy
      ? 'the previous run of this schedule was still going'
      : 'FireBackup was not running then (machine asleep or app closed)';
    const missedRuns = occurrences.map((at) =>
      this.o.catalog.runs.create({
        kind: s.kind,
        trigger: 'schedule',
        status: 'missed',
        projectId: s.projectId,
        destinationId: s.destinationId,
        scheduleId: s.id,
        scheduledFor: at,
        detail: { reason },
      }),
    );
    await this.send(s, missedRuns.at(-1)!, 'run.missed', {
      message: `Schedule "${s.name}" missed ${total} run${total === 1 ? '' : 's'} (latest ${latest.toISOString()}) because ${reason}.${busy ? '' : ' Catching up with one run now.'}`,
      missed: { count: total, occurrences: occurrences.map((d) => d.toISOString()) },
    });
    // One catch-up run, unless one is already going (it covers these occurrences).
    return busy ? undefined : this.startRun(s, latest, 'catch-up');
  }

  /**
   * Before backups start: a new key when the current one is older than the interval.
   * A rotation that fails for a passing reason (a lock held too long, a full disk) is
   * logged and backups go on under the current key, which the store holds. False when
   * the store itself is missing or unreadable.
   */
  private async rotateKeyIfDue(): Promise<boolean> {
    if (!this.o.keyRotation) return true;
    try {
      await this.o.keyRotation.rotateIfDue();
      return true;
    } catch (error) {
      const data = toErrorData(error);
      if (data.code === 'NOT_FOUND' || data.code === 'KEY_INVALID') {
        this.o.log?.(
          `No runs start: the key store cannot be read (${data.message}). Restore it from your backup copy.`,
        );
        return false;
      }
      this.o.log?.(`Key rotation failed, keeping the current key: ${data.message}`);
      return true;
    }
  }

  /** Starts a run of a schedule now (the CLI's run-now, and the GUI's "Run now"). */
  runNow(idOrName: string): Job {
    const s = this.o.catalog.schedules.get(idOrName);
    return this.startRun(s, null, 'manual');
  }

  private startRun(
    s: Schedule,
    scheduledFor: Date | null,
    trigger: 'schedule' | 'catch-up' | 'manual',
  ): Job {
    const { catalog } = this.o;
    const project = catalog.projects.get(s.projectId);
    const destination = catalog.destinations.get(s.destinationId);
    const common = {
      trigger,
      scheduleId: s.id,
      scheduledFor,
      retry: this.o.retry ?? DEFAULT_RETRY,
    };
    // verify and check schedules read their share of full decryption from verifyAfter.
    const sample =
      s.verifyAfter.mode === 'sample'
        ? s.verifyAfter.fraction
        : s.verifyAfter.mode === 'full'
          ? 1
          : 0;
    const spec =
      s.kind === 'check'
        ? checkJob(this.o, { ...common, destination, readData: sample })
        : s.kind === 'verify'
          ? verifyJob(this.o, {
              ...common,
              destination,
              project,
              batch: s.verifyBatch,
              sample: sample || 1,
            })
          : backupJob(this.o, {
              ...common,
              project,
              destination,
              scope: s.scope,
              verifyAfter: s.verifyAfter,
              retention: s.retention,
              timeZone: s.timeZone,
              allowEmpty: s.allowEmpty,
            });
    const job = this.o.jobs.start(spec);
    this.running.set(s.id, job);
    void job.done.then(async (run) => {
      if (this.running.get(s.id) === job) this.running.delete(s.id);
      await this.reportEnd(s, run);
    });
    return job;
  }

  private async reportEnd(s: Schedule, run: Run): Promise<void> {
    if (run.status === 'failed') {
      await this.send(s, run, 'run.failed', {
        message: `Schedule "${s.name}" failed after ${run.attempts} attempt${run.attempts === 1 ? '' : 's'}: ${run.error?.message ?? 'unknown error'}`,
      });
    } else if (run.status === 'succeeded' && s.notifyOnSuccess) {
      await this.send(s, run, 'run.succeeded', { message: `Schedule "${s.name}" succeeded.` });
    }
  }

  private async send(
    s: Schedule,
    run: Run,
    kind: Notification['kind'],
    extra: Pick<Notification, 'message'> & Partial<Pick<Notification, 'missed'>>,
  ): Promise<void> {
    if (!this.o.notifier) return;
    const project = this.o.catalog.projects.get(s.projectId);
    try {
      await this.o.notifier.notify({
        kind,
        schedule: { id: s.id, name: s.name },
        project: { id: project.id, name: project.name },
        run,
        at: this.o.clock.now().toISOString(),
        ...extra,
      });
    } catch (error) {
      // A notification failing must never fail or block the backups themselves.
      this.o.log?.(`Could not send a notification: ${toErrorData(error).message}`);
    }
  }

  /**
   * Real-time drivers: node-schedule jobs at each schedule's cron times, and a periodic
   * reconcile that reloads schedules and notices wake-ups. Checks once immediately, which
   * is the catch-up at start.
   */
  start(): Promise<Job[]> {
    const every = this.o.reconcileMs ?? 60_000;
    this.lastTick = Date.now();
    this.reconcileTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastTick > every * 3) {
        this.o.log?.(
          `Woke up after ${Math.round((now - this.lastTick) / 1000)} s: checking for missed runs.`,
        );
      }
      this.lastTick = now;
      this.syncTimers();
      void this.check();
    }, every);
    this.syncTimers();
    return this.check();
  }

  /** One node-schedule job per enabled schedule, kept in step with the catalog. */
  private syncTimers(): void {
    const wanted = new Map(
      this.o.catalog.schedules
        .list()
        .filter((s) => s.enabled)
        .map((s) => [s.id, s] as const),
    );
    for (const [id, t] of this.timers) {
      const s = wanted.get(id);
      if (!s || `${s.cron}|${s.timeZone}` !== t.key) {
        t.job.cancel();
        this.timers.delete(id);
      }
    }
    for (const [id, s] of wanted) {
      if (this.timers.has(id)) continue;
      try {
        validateCron(s.cron, s.timeZone);
      } catch (error) {
        this.o.log?.(`Schedule "${s.name}" is not scheduled: ${toErrorData(error).message}`);
        continue;
      }
      const job = nodeSchedule.scheduleJob(
        { rule: s.cron, tz: s.timeZone },
        () => void this.check(),
      );
      if (job) this.timers.set(id, { key: `${s.cron}|${s.timeZone}`, job });
    }
  }

  /** Stops firing new runs; running jobs are the caller's to finish or cancel. */
  stop(): void {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = undefined;
    for (const t of this.timers.values()) t.job.cancel();
    this.timers.clear();
  }

  /** Jobs started by this scheduler that have not ended. */
  activeJobs(): Job[] {
    return [...this.running.values()];
  }
}
