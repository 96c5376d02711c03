import type { HandlerContext, HandlersFor } from './context.js';

export function scheduleHandlers({
  runtime,
}: HandlerContext): HandlersFor<'schedules.list' | 'schedules.runNow'> {
  const { catalog, scheduler } = runtime;
  return {
    'schedules.list': async () => catalog.schedules.list(),
    'schedules.runNow': async ({ schedule }) => ({ jobId: scheduler.runNow(schedule).id }),
  };
}
