import type { JobManager } from './job-manager.js';

export interface FinishOrCancelOptions {
  /** How long running jobs may go on finishing before they are cancelled. */
  graceMs: number;
  /** After cancelling, how long jobs get to clean up (delete partial uploads). */
  cancelTimeoutMs: number;
  /** Recorded as each cancelled run's reason. */
  reason: string;
  log?: (message: string) => void;
}

/** 'stuck': jobs did not stop in time (their runs are marked failed at the next start). */
export type StopOutcome = 'idle' | 'finished' | 'cancelled' | 'stuck';

const after = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());

/**
 * How every long-lived front end stops (the daemon on SIGTERM, the desktop app on Quit):
 * running jobs may finish for `graceMs`, then they are cancelled, which removes anything
 * partial, and waited for `cancelTimeoutMs` more. The caller stops the scheduler first.
 */
export async function finishOrCancelJobs(
  jobs: JobManager,
  o: FinishOrCancelOptions,
): Promise<StopOutcome> {
  const active = jobs.active();
  if (active.length === 0) return 'idle';
  o.log?.(`Stopping: waiting up to ${o.graceMs / 1000}s for ${active.length} job(s) to finish.`);
  const finished = await Promise.race([
    Promise.all(active.map((j) => j.done)).then(() => true),
    after(o.graceMs, false),
  ]);
  if (finished) return 'finished';
  o.log?.('Grace period over: cancelling; nothing partial will be kept.');
  const cancelled = await Promise.race([
    jobs.cancelAll(o.reason).then(() => true),
    after(o.cancelTimeoutMs, false),
  ]);
  if (cancelled) return 'cancelled';
  o.log?.(
    'Jobs did not stop in time; exiting anyway (their runs are marked failed at next start).',
  );
  return 'stuck';
}
