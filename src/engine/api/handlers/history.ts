import { AppError } from '../../../shared/errors.js';
import type { Run } from '../../../shared/jobs.js';
import { runAdvice } from '../../../shared/run-advice.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

/** A run with its advice and names, looked up once per answer (a removed one has none). */
export function enrichRuns(catalog: Catalog, runs: Run[]) {
  const projects = new Map(catalog.projects.list().map((p) => [p.id, p.name]));
  const schedules = new Map(catalog.schedules.list().map((s) => [s.id, s.name]));
  return runs.map((run) => ({
    ...run,
    advice: runAdvice(run),
    projectName: (run.projectId && projects.get(run.projectId)) ?? null,
    scheduleName: (run.scheduleId && schedules.get(run.scheduleId)) ?? null,
  }));
}

export function historyHandlers(
  context: HandlerContext,
): HandlersFor<'history.runs' | 'history.run'> {
  const { catalog } = context.runtime;
  const enrich = (runs: Run[]) => enrichRuns(catalog, runs);
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
