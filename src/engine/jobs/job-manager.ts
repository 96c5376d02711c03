import { AppError, toErrorData } from '../../shared/errors.js';
import type { JobEvent, JobKind, Run, RunStatus, RunTrigger } from '../../shared/jobs.js';
import type { Progress } from '../../shared/progress.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import type { OperationContext } from '../operations/types.js';
import type { LockManager } from '../scheduler/locks.js';
import { NO_RETRY, withRetry, type RetryPolicy } from './retry.js';

/**
 * Jobs: every backup, restore, verify and prune runs as a job with an id, pushes
 * progress and state events, can be cancelled, and ends with a recorded run. This is
 * the API the GUI binds to (through the contract in src/shared), and what the CLI and
 * the scheduler use.
 */

export interface JobContext extends OperationContext {
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
  runId: string;
  attempt: number;
}

export interface JobOutput {
  backupId?: string | null;
  counts?: Record<string, number> | null;
  bytes?: number | null;
  detail?: Record<string, unknown> | null;
}

export interface JobSpec {
  kind: JobKind;
  trigger?: RunTrigger;
  projectId?: string | null;
  destinationId?: string | null;
  scheduleId?: string | null;
  scheduledFor?: Date | null;
  /**
   * Jobs with the same lock name run one at a time: queued in this process, and across
   * processes through the catalog lock (a busy lock is a retryable failure).
   */
  lockName?: string;
  /** What the lock protects, for messages ("Project demo"). */
  lockLabel?: string;
  retry?: RetryPolicy;
  execute(ctx: JobContext): Promise<JobOutput>;
}

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  status(): RunStatus;
  cancel(reason?: string): void;
  /** Resolves with the recorded run when the job ends, whatever the outcome; never rejects. */
  readonly done: Promise<Run>;
}

export interface JobManagerOptions {
  catalog: Catalog;
  locks: LockManager;
  clock: Clock;
  /** Progress events of one job are pushed at most this often (phase changes always pass). */
  progressIntervalMs?: number;
  /**
   * Asked before a job's work starts (team sync mode: the organisation server's role
   * check); throwing fails the run with that error and the work never starts.
   */
  authorize?: (spec: JobSpec, runId: string) => Promise<void>;
}

export class JobManager {
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly jobs = new Map<string, Job>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly options: JobManagerOptions) {}

  /** Subscribes to job events; returns the unsubscribe function. */
  subscribe(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Jobs not yet finished. */
  active(): Job[] {
    return [...this.jobs.values()];
  }

  start(spec: JobSpec): Job {
    const { catalog } = this.options;
    const run = catalog.runs.create({
      kind: spec.kind,
      trigger: spec.trigger ?? 'manual',
      status: 'queued',
      projectId: spec.projectId ?? null,
      destinationId: spec.destinationId ?? null,
      scheduleId: spec.scheduleId ?? null,
      scheduledFor: spec.scheduledFor ?? null,
    });
    const controller = new AbortController();
    let status: RunStatus = 'queued';
    const setStatus = (
      next: RunStatus,
      attempt: number,
      error?: ReturnType<typeof toErrorData>,
    ): void => {
      status = next;
      this.emit({
        type: 'state',
        jobId: run.id,
        kind: spec.kind,
        status: next,
        attempt,
        ...(error ? { error } : {}),
      });
    };
    const done = this.execute(spec, run.id, controller.signal, setStatus).finally(() =>
      this.jobs.delete(run.id),
    );
    const job: Job = {
      id: run.id,
      kind: spec.kind,
      status: () => status,
      cancel: (reason = 'Cancelled by the user.') =>
        controller.abort(new AppError('CANCELLED', reason)),
      done,
    };
    this.jobs.set(run.id, job);
    this.emit({ type: 'state', jobId: run.id, kind: spec.kind, status: 'queued', attempt: 0 });
    return job;
  }

  /** Cancels every job (daemon shutdown) and waits for them to record their end. */
  async cancelAll(reason: string): Promise<void> {
    const jobs = this.active();
    for (const job of jobs) job.cancel(reason);
    await Promise.all(jobs.map((j) => j.done));
  }

  private async execute(
    spec: JobSpec,
    runId: string,
    signal: AbortSignal,
    setStatus: (s: RunStatus, attempt: number, error?: ReturnType<typeof toErrorData>) => void,
  ): Promise<Run> {
    const { catalog, clock, locks } = this.options;
    let attempts = 0;
    let releaseQueue = (): void => {};
    try {
      if (spec.lockName) releaseQueue = await this.enterQueue(spec.lockName, signal);
      if (signal.aborted) throw signal.reason;
      await this.options.authorize?.(spec, runId);
      if (signal.aborted) throw signal.reason;
      const output = await withRetry(
        async (attempt) => {
          attempts = attempt;
          const lease = spec.lockName ? locks.acquire(spec.lockName, spec.lockLabel) : undefined;
          try {
            catalog.runs.update(runId, {
              status: 'running',
              attempts: attempt,
              ...(attempt === 1 ? { startedAt: clock.now() } : {}),
            });
            setStatus('running', attempt);
            // Losing the lock (judged stale by another process) stops the work as well.
            const jobSignal = lease ? AbortSignal.any([signal, lease.lost]) : signal;
            return await spec.execute({
              signal: jobSignal,
              onProgress: this.progressForwarder(runId),
              runId,
              attempt,
            });
          } finally {
            lease?.release();
          }
        },
        {
          policy: spec.retry ?? NO_RETRY,
          clock,
          signal,
          onRetry: (error) => catalog.runs.update(runId, { error: toErrorData(error) }),
        },
      );
      catalog.runs.update(runId, {
        status: 'succeeded',
        finishedAt: clock.now(),
        error: null,
        backupId: output.backupId ?? null,
        counts: output.counts ?? null,
        bytes: output.bytes ?? null,
        detail: output.detail ?? null,
      });
      setStatus('succeeded', attempts);
    } catch (error) {
      const cancelled = signal.aborted;
      const data = toErrorData(cancelled ? signal.reason : error);
      const detail = error instanceof JobFailure ? error.detail : undefined;
      catalog.runs.update(runId, {
        status: cancelled ? 'cancelled' : 'failed',
        finishedAt: clock.now(),
        attempts,
        error: data,
        ...(detail ? { detail } : {}),
        ...(error instanceof JobFailure && error.backupId ? { backupId: error.backupId } : {}),
      });
      setStatus(cancelled ? 'cancelled' : 'failed', attempts, data);
    } finally {
      releaseQueue();
    }
    return catalog.runs.get(runId)!;
  }

  /** Waits for earlier jobs with the same lock name in this process; abortable. */
  private async enterQueue(name: string, signal: AbortSignal): Promise<() => void> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.queues.set(name, tail);
    const done = (): void => {
      release();
      if (this.queues.get(name) === tail) this.queues.delete(name);
    };
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        void previous.then(resolve);
      });
    } catch (error) {
      done();
      throw error;
    }
    return done;
  }

  private progressForwarder(jobId: string): (progress: Progress) => void {
    const interval = this.options.progressIntervalMs ?? 250;
    let lastAt = -Infinity;
    let lastPhase = '';
    return (progress) => {
      const now = this.options.clock.now().getTime();
      if (progress.phase === lastPhase && now - lastAt < interval) return;
      lastAt = now;
      lastPhase = progress.phase;
      this.emit({ type: 'progress', jobId, progress });
    };
  }

  private emit(event: JobEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed window) must not break the job.
      }
    }
  }
}

/**
 * A failure that still has something to record (the backup that was made before
 * verification failed, the verify report).
 */
export class JobFailure extends AppError {
  constructor(
    error: AppError,
    readonly detail?: Record<string, unknown>,
    readonly backupId?: string,
  ) {
    super(error.code, error.message, { cause: error.cause, retryable: error.retryable });
  }
}
