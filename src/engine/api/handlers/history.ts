import { AppError } from '../../../shared/errors.js';
import type { Run } from '../../../shared/jobs.js';
import { runAdvice } from '../../../shared/run-advice.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

export function historyHandlers(
  context: HandlerContext,
): HandlersFor<'history.runs' | 'history.run'> {
  const { catalog } = context.runtime;
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
    'history.runs': async ({ limit, ...filter }) =>
      syncedCatalogOf(context).runs(enrich(catalog.runs.list({ ...filter, limit })), {
        ...filter,
        limit,
      }),
    'history.run': async ({ runId }) => {
      const run = catalog.runs.get(runId);
      if (!run) throw new AppError('NOT_FOUND', `No run ${runId} in the history.`);
      return enrich([run])[0]!;
    },
  };
}
