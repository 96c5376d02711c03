import type { Schedule } from '../../shared/schedules.js';

/** A change to a schedule, as the `schedule.changed` event carries it. */
export interface ScheduleChange {
  change: 'created' | 'updated' | 'removed';
  schedule: Schedule;
}

type Listener = (change: ScheduleChange) => void;
const listeners = new WeakMap<object, Set<Listener>>();

/**
 * Schedule changes made through the contract, per catalog: the handlers announce them,
 * the event source (events.ts) forwards them to front ends that subscribed. (Changes by
 * another process, such as the CLI, reach the app through its periodic reconcile.)
 */
export function onScheduleChanged(catalog: object, listener: Listener): () => void {
  let set = listeners.get(catalog);
  if (!set) {
    set = new Set();
    listeners.set(catalog, set);
  }
  set.add(listener);
  return () => set.delete(listener);
}

export function announceScheduleChange(catalog: object, change: ScheduleChange): void {
  for (const listener of listeners.get(catalog) ?? []) listener(change);
}
