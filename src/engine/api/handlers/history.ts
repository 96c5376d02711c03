import { AppError } from '../../../shared/errors.js';
import type { Run } from '../../../shared/jobs.js';
import { runAdvice } from '../../../shared/run-advice.js';
import type { HandlerContext, HandlersFor } from './context.js';

export function historyHandlers({
  runtime,
}: HandlerContext): HandlersFor<'history.runs' | 'history.run'> {
  const { catalog } = runtime;
  /** Names, looked up once per answer (a removed project or schedule has none). */
  const enrich = (runs: Run[]) => {
    const projects = new Map(catalog.projects.list().map((p) => [p.id, p.name]));
    const schedules = new Map(catalog.schedules.list().map((s) => [s.id, s.name]));
    return runs.map((run) => ({
      ...run,
      advice: runAdvice(run),
      projectName: (run.projectId && projects.get(run.projectId)) ?? null,
      scheduleName: (run.scheduleId && schedules.get(run.scheduleId)) ?? null,
    }));
  };
  return {
    'history.runs': async ({ limit, ...filter }) => enrich(catalog.runs.list({ ...filter, limit })),
    'history.run': async ({ runId }) => {
      const run = catalog.runs.get(runId);
      if (!run) throw new AppError('NOT_FOUND', `No run ${runId} in the history.`);
      return enrich([run])[0]!;
    },
  };
}
