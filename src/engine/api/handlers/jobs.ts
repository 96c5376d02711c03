import { backupJob, verifyJob } from '../../jobs/specs.js';
import type { HandlerContext, HandlersFor } from './context.js';

export function jobHandlers({
  runtime,
}: HandlerContext): HandlersFor<
  'jobs.startBackup' | 'jobs.startVerify' | 'jobs.cancel' | 'jobs.active' | 'runs.history'
> {
  const { catalog, jobs } = runtime;
  return {
    'jobs.startBackup': async ({ projectId, destinationId, ...scope }) => {
      const job = jobs.start(
        backupJob(runtime, {
          project: catalog.projects.get(projectId),
          destination: catalog.destinations.get(destinationId),
          scope,
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
  };
}
