import type { Run } from '../../shared/jobs.js';
import type { Schedule } from '../../shared/schedules.js';
import type { DestinationRecord, ProjectRecord } from './projects.js';
import type { Catalog } from './catalog.js';

/**
 * What changed in the catalog's shared state, told after each write has committed: the
 * hook team sync mode mirrors to the organisation server (src/engine/team/sync-writer.ts).
 * Every front end (CLI, daemon, desktop, web) writes through the catalog, so observing it
 * here covers them all without code in each handler. Local bookkeeping (claimed schedule
 * occurrences, cached backup listings, locks) is not shared state and is not told.
 */
export type CatalogChange =
  | { kind: 'project.saved'; project: ProjectRecord }
  | { kind: 'project.removed'; id: string }
  | { kind: 'destination.saved'; destination: DestinationRecord }
  | { kind: 'destination.removed'; id: string }
  | { kind: 'schedule.saved'; schedule: Schedule }
  | { kind: 'schedule.removed'; id: string }
  | { kind: 'run.saved'; run: Run };

export type CatalogListener = (change: CatalogChange) => void;

type Method = (...args: never[]) => unknown;

/** Calls `then` with the result and arguments after each successful call of `name`. */
function after<T extends object, K extends keyof T>(
  target: T,
  name: K,
  then: (
    result: T[K] extends Method ? ReturnType<T[K]> : never,
    args: T[K] extends Method ? Parameters<T[K]> : never,
  ) => void,
): void {
  const original = target[name] as unknown as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]) => {
    const result = original.apply(target, args);
    then(result as never, args as never);
    return result;
  };
  (target as Record<K, unknown>)[name] = wrapped;
}

/** Wires the repositories' writes of `catalog` to `emit` (again after each relocation). */
export function observeWrites(
  catalog: Pick<Catalog, 'projects' | 'destinations' | 'schedules' | 'runs'>,
  emit: CatalogListener,
): void {
  const { projects, destinations, schedules, runs } = catalog;
  after(projects, 'upsert', (project) => emit({ kind: 'project.saved', project }));
  after(projects, 'remove', (_r, [id]) => emit({ kind: 'project.removed', id }));
  after(destinations, 'upsert', (destination) => emit({ kind: 'destination.saved', destination }));
  after(destinations, 'updateOptions', (destination) =>
    emit({ kind: 'destination.saved', destination }),
  );
  after(destinations, 'remove', (_r, [id]) => emit({ kind: 'destination.removed', id }));
  for (const name of ['add', 'restore', 'update'] as const)
    after(schedules, name, (schedule) => emit({ kind: 'schedule.saved', schedule }));
  after(schedules, 'remove', (schedule) => emit({ kind: 'schedule.removed', id: schedule.id }));
  after(runs, 'create', (run) => emit({ kind: 'run.saved', run }));
  after(runs, 'update', (_r, [id]) => {
    const run = runs.get(id);
    if (run !== undefined) emit({ kind: 'run.saved', run });
  });
}
