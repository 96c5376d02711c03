import type { Handlers } from '../../shared/api/dispatch.js';
import type { CheckReport } from '../../shared/check.js';
import { AppError, type ErrorCode } from '../../shared/errors.js';
import { checkJob } from '../jobs/check-job.js';
import { backupJob, verifyJob } from '../jobs/specs.js';
import type { Runtime } from '../jobs/runtime.js';
import type { Keyring } from '../keys/keyring.js';
import { listBackups } from '../operations/list.js';
import { openDestination } from '../storage/index.js';

/**
 * The engine's side of the contract (src/shared/api/contract.ts): each method over the
 * runtime's catalog, job manager and scheduler. Transports (Electron IPC, the loopback
 * server) wrap these in the shared dispatcher, which validates input and permissions.
 */
export function createApiHandlers(runtime: Runtime, keyring: Keyring): Handlers {
  const { catalog, jobs, scheduler } = runtime;
  /** Runs the check as a job (so it is in the history) and answers with its report. */
  const check = async (destinationId: string, readData: number, repair: boolean) => {
    const job = jobs.start(
      checkJob(runtime, { destination: catalog.destinations.get(destinationId), readData, repair }),
    );
    const run = await job.done;
    const report = (run.detail as { report?: CheckReport } | null)?.report;
    if (!report)
      throw new AppError(
        (run.error?.code as ErrorCode | undefined) ?? 'INTERNAL',
        run.error?.message ?? 'The check did not finish.',
      );
    return report;
  };
  return {
    'backups.list': async ({ destinationId }) => {
      const destination = catalog.destinations.get(destinationId);
      return listBackups(await openDestination(destination.url, destination.options), keyring);
    },
    'jobs.startBackup': async ({ projectId, destinationId }) => {
      const job = jobs.start(
        backupJob(runtime, {
          project: catalog.projects.get(projectId),
          destination: catalog.destinations.get(destinationId),
        }),
      );
      return { jobId: job.id };
    },
    'jobs.startVerify': async ({ destinationId, limit }) => {
      const job = jobs.start(
        verifyJob(runtime, { destination: catalog.destinations.get(destinationId), batch: limit }),
      );
      return { jobId: job.id };
    },
    'jobs.cancel': async ({ jobId }) => {
      const job = jobs.get(jobId);
      job?.cancel();
      return { cancelled: job !== undefined };
    },
    'jobs.active': async () =>
      jobs.active().map((j) => ({ id: j.id, kind: j.kind, status: j.status() })),
    'runs.history': async ({ limit, kind, status }) =>
      catalog.runs.list({ limit, ...(kind ? { kind } : {}), ...(status ? { status } : {}) }),
    'destinations.check': async ({ destinationId, readData }) =>
      check(destinationId, readData, false),
    'destinations.repair': async ({ destinationId, readData }) =>
      check(destinationId, readData, true),
    'schedules.list': async () => catalog.schedules.list(),
    'schedules.runNow': async ({ schedule }) => ({ jobId: scheduler.runNow(schedule).id }),
  };
}
