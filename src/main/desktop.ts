/**
 * What the desktop app does, apart from Electron: it runs the schedules (sharing the
 * catalog's claims and locks with any `firebackup daemon`, so an occurrence runs once),
 * feeds the tray, pauses and resumes schedules, checks at once on wake from sleep, and
 * stops like the daemon on Quit. index.ts connects it to Electron; tests drive it in Node
 * over a real runtime.
 */
import type { Dispatch } from '../shared/api/memory-transport.js';
import { TERMINAL_STATUSES, type JobEvent } from '../shared/jobs.js';
import { toErrorData } from '../shared/errors.js';
import type { Job } from '../engine/jobs/job-manager.js';
import type { Runtime } from '../engine/jobs/runtime.js';
import { finishOrCancelJobs, type StopOutcome } from '../engine/jobs/shutdown.js';
import { nextOccurrence } from '../engine/scheduler/cron.js';
import type { Theme, TrayAction, TraySnapshot } from './tray-model.js';

export interface DesktopOptions {
  runtime: Runtime;
  dispatch: Dispatch;
  /** Something the tray shows changed (a job, its progress, a pause). */
  onChange?: () => void;
  log?: (message: string) => void;
}

/** The window and the process: supplied by index.ts. */
export interface DesktopShell {
  openWindow(route?: string): void;
  quit(): void;
}

export interface QuitOptions {
  graceMs: number;
  cancelTimeoutMs: number;
}

/** On Quit: running jobs get a short while to finish (a person is waiting), then are cancelled. */
export const QUIT_DEFAULTS: QuitOptions = { graceMs: 10_000, cancelTimeoutMs: 30_000 };

export class Desktop {
  private readonly progress = new Map<string, { items: number; itemsTotal?: number }>();
  private pause: { until: Date | null; stop: AbortController } | null = null;
  private started = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: DesktopOptions) {}

  private get rt(): Runtime {
    return this.o.runtime;
  }

  /** Starts the schedules (and catches up what was missed while the app was closed). */
  async start(): Promise<Job[]> {
    this.unsubscribe = this.rt.jobs.subscribe((e) => this.onJobEvent(e));
    return this.startScheduler();
  }

  private async startScheduler(): Promise<Job[]> {
    if (this.started) return [];
    this.started = true;
    return this.rt.scheduler.start();
  }

  private onJobEvent(e: JobEvent): void {
    if (e.type === 'progress') {
      this.progress.set(e.jobId, {
        items: e.progress.items,
        ...(e.progress.itemsTotal !== undefined ? { itemsTotal: e.progress.itemsTotal } : {}),
      });
    } else if (TERMINAL_STATUSES.includes(e.status)) {
      this.progress.delete(e.jobId);
    }
    this.o.onChange?.();
  }

  /**
   * Back from sleep (Electron's powerMonitor `resume`): check now rather than at the next
   * reconcile tick, so missed runs are recorded, reported and caught up at once.
   */
  async onResume(): Promise<Job[]> {
    if (this.pause || this.stopped) return [];
    this.o.log?.('Woke from sleep: checking schedules for missed runs.');
    return this.rt.scheduler.check();
  }

  /**
   * Pauses the schedules run by this app, for `hours` or until resumed. Occurrences due
   * meanwhile are not silently dropped: on resume the scheduler records them as missed
   * and catches up with one run, as after any time it was not running.
   */
  pauseSchedules(hours: number | null): void {
    this.pause?.stop.abort();
    const stop = new AbortController();
    const until =
      hours === null ? null : new Date(this.rt.clock.now().getTime() + hours * 3_600_000);
    this.pause = { until, stop };
    this.rt.scheduler.stop();
    this.started = false;
    if (until) {
      this.rt.clock.sleep(until.getTime() - this.rt.clock.now().getTime(), stop.signal).then(
        () => void this.resumeSchedules(),
        () => {},
      );
    }
    this.o.log?.(until ? `Schedules paused until ${until.toISOString()}.` : 'Schedules paused.');
    this.o.onChange?.();
  }

  async resumeSchedules(): Promise<Job[]> {
    if (!this.pause) return [];
    this.pause.stop.abort();
    this.pause = null;
    this.o.onChange?.();
    if (this.stopped) return [];
    this.o.log?.('Schedules resumed.');
    return this.startScheduler();
  }

  /** What the tray shows now. */
  snapshot(theme: Theme): TraySnapshot {
    const { catalog } = this.rt;
    const now = this.rt.clock.now();
    const projectName = (id: string | null): string | null => {
      if (!id) return null;
      try {
        return catalog.projects.get(id).name;
      } catch {
        return null;
      }
    };
    const running = this.rt.jobs.active().map((job) => ({
      kind: job.kind,
      projectName: projectName(catalog.runs.get(job.id)?.projectId ?? null),
      ...this.progress.get(job.id),
    }));
    const last = catalog.runs.list({ limit: 50 }).find((r) => TERMINAL_STATUSES.includes(r.status));
    const schedules = catalog.schedules.list().filter((s) => s.enabled);
    let nextRun: TraySnapshot['nextRun'] = null;
    for (const s of schedules) {
      try {
        const at = nextOccurrence(s.cron, s.timeZone, now);
        if (!nextRun || at.getTime() < Date.parse(nextRun.at))
          nextRun = { at: at.toISOString(), scheduleName: s.name };
      } catch {
        // An invalid cron is reported by the scheduler; the tray just skips it.
      }
    }
    const destinations = catalog.destinations.list();
    const projects = catalog.projects.list().map((p) => ({
      id: p.id,
      name: p.name,
      destinationId:
        schedules.find((s) => s.projectId === p.id && s.kind === 'backup')?.destinationId ??
        catalog.runs.list({ projectId: p.id, kind: 'backup', limit: 1 })[0]?.destinationId ??
        (destinations.length === 1 ? destinations[0]!.id : null),
    }));
    return {
      now,
      theme,
      running,
      lastRun: last
        ? {
            status: last.status,
            at: last.finishedAt ?? last.scheduledFor,
            projectName: projectName(last.projectId),
          }
        : null,
      nextRun,
      pause: this.pause ? { until: this.pause.until?.toISOString() ?? null } : null,
      projects,
    };
  }

  /** A tray menu click. */
  async act(action: TrayAction, shell: DesktopShell): Promise<void> {
    switch (action.kind) {
      case 'backup-now': {
        // The same contract method the Backups screen calls.
        const result = await this.o.dispatch(
          'jobs.startBackup',
          { projectId: action.projectId, destinationId: action.destinationId },
          { kind: 'local' },
        );
        if (!result.ok) this.o.log?.(`Back up now: ${result.error.message}`);
        return;
      }
      case 'pause':
        return this.pauseSchedules(action.hours);
      case 'resume':
        await this.resumeSchedules();
        return;
      case 'open':
        return shell.openWindow();
      case 'quit':
        return shell.quit();
    }
  }

  /**
   * Quit: stop firing schedules, let running jobs finish for a short grace, then cancel
   * them (nothing partial is kept), as `firebackup daemon` does on SIGTERM.
   */
  async shutdown(o: QuitOptions = QUIT_DEFAULTS): Promise<StopOutcome> {
    this.stopped = true;
    this.pause?.stop.abort();
    if (this.started) this.rt.scheduler.stop();
    try {
      return await finishOrCancelJobs(this.rt.jobs, {
        ...o,
        reason: 'Cancelled because FireBackup was quit.',
        ...(this.o.log ? { log: this.o.log } : {}),
      });
    } catch (error) {
      this.o.log?.(`Stopping jobs failed: ${toErrorData(error).message}`);
      return 'stuck';
    } finally {
      this.unsubscribe?.();
    }
  }
}
