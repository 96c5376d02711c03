import type { EventName } from './contract.js';
import type { EventSource } from './memory-transport.js';

export interface EventBus extends EventSource {
  emit(event: EventName, payload: unknown): void;
  /** How many listeners are subscribed (to see that unsubscribing really happened). */
  listenerCount(): number;
}

/** An in-process EventSource that is fed by hand: for tests and for local fan-out. */
export function createEventBus(): EventBus {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  return {
    subscribe(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set.add(listener));
      return () => set.delete(listener);
    },
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? []) listener(payload);
    },
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
}
