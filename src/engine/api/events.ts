import type { EventName, EventPayload } from '../../shared/api/contract.js';
import type { EventSource } from '../../shared/api/memory-transport.js';
import { TERMINAL_STATUSES } from '../../shared/jobs.js';
import type { Runtime } from '../jobs/runtime.js';
import { onScheduleChanged } from './schedule-events.js';

/**
 * The contract's push events (src/shared/api/contract.ts `events`) from the runtime. Each
 * transport (IPC, the web mode's event stream) subscribes per event name, so a window or
 * page that never subscribed gets nothing, and nothing is computed for an event nobody
 * listens to (the finished run is read from the catalog only when someone wants it).
 */
export function createApiEvents(runtime: Pick<Runtime, 'jobs' | 'catalog'>): EventSource {
  type Listener = (payload: unknown) => void;
  const sources: { [E in EventName]: (emit: (p: EventPayload<E>) => void) => () => void } = {
    job: (emit) => runtime.jobs.subscribe(emit),
    'run.finished': (emit) =>
      runtime.jobs.subscribe((e) => {
        if (e.type !== 'state' || !TERMINAL_STATUSES.includes(e.status)) return;
        // The job manager records the run before it announces the terminal state.
        const run = runtime.catalog.runs.get(e.jobId);
        if (run) emit(run);
      }),
    'schedule.changed': (emit) => onScheduleChanged(runtime.catalog, emit),
    // Every write through this catalog, whichever front end made it (catalog/changes.ts).
    'destination.changed': (emit) =>
      runtime.catalog.onChange((c) => {
        if (c.kind === 'destination.saved')
          emit({ change: 'saved', destinationId: c.destination.id });
        else if (c.kind === 'destination.removed') emit({ change: 'removed', destinationId: c.id });
      }),
  };
  return {
    subscribe: (event: EventName, listener: Listener) => sources[event](listener),
  };
}
