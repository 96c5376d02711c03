import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

export function scheduleHandlers(
  context: HandlerContext,
): HandlersFor<'schedules.list' | 'schedules.runNow'> {
  const { catalog, scheduler } = context.runtime;
  return {
    'schedules.list': async () => syncedCatalogOf(context).schedules(catalog.schedules.list()),
    'schedules.runNow': async ({ schedule }) => ({ jobId: scheduler.runNow(schedule).id }),
  };
}
