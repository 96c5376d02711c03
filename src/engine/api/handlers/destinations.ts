import type { CheckReport } from '../../../shared/check.js';
import { AppError, type ErrorCode } from '../../../shared/errors.js';
import { checkJob } from '../../jobs/check-job.js';
import type { HandlerContext, HandlersFor } from './context.js';

export function destinationHandlers({
  runtime,
}: HandlerContext): HandlersFor<'destinations.check' | 'destinations.repair'> {
  const { catalog, jobs } = runtime;
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
    'destinations.check': async ({ destinationId, readData }) =>
      check(destinationId, readData, false),
    'destinations.repair': async ({ destinationId, readData }) =>
      check(destinationId, readData, true),
  };
}
