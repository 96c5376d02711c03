import type { ErrorData } from '../../shared/errors.js';
import type { JobEvent, JobKind, Run, RunStatus } from '../../shared/jobs.js';
import type { Progress } from '../../shared/progress.js';
import { TERMINAL_STATUSES } from '../../shared/jobs.js';
import { callInto, type ShownError, type SliceCreator } from './slice.js';

/** What the app knows of one job, built from `job` and `run.finished` events. */
export interface JobView {
  id: string;
  /** Unknown until the job's first state event (a progress tick can come first). */
  kind: JobKind | null;
  status: RunStatus;
  attempt: number;
  progress: Progress | null;
  error: ShownError | null;
  /** The recorded run, once the job has ended. */
  run: Run | null;
}

export interface JobsSlice {
  byId: Record<string, JobView>;
  /** The last failure to start or cancel a job. */
  error: ErrorData | null;
  applyEvent(event: JobEvent): void;
  applyRun(run: Run): void;
  startBackup(input: { projectId: string; destinationId: string }): Promise<string | undefined>;
  startVerify(input: { destinationId: string; limit?: number }): Promise<string | undefined>;
  cancel(jobId: string): Promise<void>;
  /** Loads jobs already running (opened the window mid-backup). */
  refreshActive(): Promise<void>;
}

const blank = (id: string, kind: JobKind | null): JobView => ({
  id,
  kind,
  status: 'queued',
  attempt: 1,
  progress: null,
  error: null,
  run: null,
});

/** The jobs after one event: pure, so the order of events can be tested without a screen. */
export function reduceJobEvent(
  byId: Record<string, JobView>,
  event: JobEvent,
): Record<string, JobView> {
  const current = byId[event.jobId] ?? blank(event.jobId, null);
  if (event.type === 'progress') {
    // A late tick must not make an ended job look alive again.
    if (TERMINAL_STATUSES.includes(current.status)) return byId;
    return { ...byId, [event.jobId]: { ...current, progress: event.progress } };
  }
  return {
    ...byId,
    [event.jobId]: {
      ...current,
      kind: event.kind,
      status: event.status,
      attempt: event.attempt,
      error: event.error ?? (event.status === 'failed' ? current.error : null),
    },
  };
}

export function isRunning(job: JobView | undefined): boolean {
  return job !== undefined && !TERMINAL_STATUSES.includes(job.status);
}

export const jobsSlice: SliceCreator<JobsSlice> = ({ client, get, set }) => {
  const onError = (error: ErrorData) => set({ error });
  const started = (jobId: string, kind: JobKind) => {
    set((s) => ({
      error: null,
      byId: { ...s.byId, [jobId]: s.byId[jobId] ?? blank(jobId, kind) },
    }));
    return jobId;
  };
  return {
    byId: {},
    error: null,
    applyEvent: (event) => set((s) => ({ byId: reduceJobEvent(s.byId, event) })),
    applyRun: (run) =>
      set((s) => {
        const current = s.byId[run.id] ?? blank(run.id, run.kind);
        return {
          byId: {
            ...s.byId,
            [run.id]: { ...current, kind: run.kind, status: run.status, error: run.error, run },
          },
        };
      }),
    async startBackup(input) {
      const value = await callInto(client, 'jobs.startBackup', input, onError);
      return value && started(value.jobId, 'backup');
    },
    async startVerify(input) {
      const value = await callInto(client, 'jobs.startVerify', { limit: 10, ...input }, onError);
      return value && started(value.jobId, 'verify');
    },
    async cancel(jobId) {
      await callInto(client, 'jobs.cancel', { jobId }, onError);
    },
    async refreshActive() {
      const active = await callInto(client, 'jobs.active', {}, onError);
      if (!active) return;
      const byId = { ...get().byId };
      for (const job of active)
        byId[job.id] = { ...(byId[job.id] ?? blank(job.id, job.kind)), status: job.status };
      set({ byId });
    },
  };
};
