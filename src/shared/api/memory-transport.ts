import type { Caller } from '../rbac.js';
import type { Transport } from './client.js';
import type { EventName } from './contract.js';
import type { createDispatcher } from './dispatch.js';

export type Dispatch = ReturnType<typeof createDispatcher>;

/** Where a transport gets push events from (the engine's event hub implements it). */
export interface EventSource {
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void;
}

/**
 * A Transport that calls the dispatcher in the same process, for tests of front-end
 * logic over the real engine. Values cross as JSON, as they would over IPC or HTTP, so a
 * handler returning something that does not survive the wire (a Date, a Map, undefined
 * in an array) shows up here too.
 */
export function createMemoryTransport(
  dispatch: Dispatch,
  events: EventSource,
  caller: Caller = { kind: 'local' },
): Transport {
  const wire = <T>(value: T): T =>
    value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
  return {
    call: async (method, input) => wire(await dispatch(method, wire(input), caller)),
    subscribe: (event, listener) => events.subscribe(event, (payload) => listener(wire(payload))),
  };
}
