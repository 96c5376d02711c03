import type { Result } from './dispatch.js';
import {
  METHOD_NAMES,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
} from './contract.js';

/**
 * How a front end reaches the engine: Electron IPC, HTTP to the loopback web mode, or an
 * in-memory hop in tests. The renderer is given a Client over one of these and never
 * knows which. Errors always arrive as data (`{ ok: false, error }`), never as a throw,
 * except when the transport itself fails (then the promise resolves to an error too).
 */
export interface Transport {
  call(method: MethodName, input: unknown): Promise<Result<unknown>>;
  /** Receives `event` until the returned function is called. */
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void;
}

export type ClientMethods = {
  [M in MethodName]: (
    // Methods whose every field is optional may be called without input.
    ...input: object extends MethodInput<M> ? [MethodInput<M>?] : [MethodInput<M>]
  ) => Promise<Result<MethodOutput<M>>>;
};

export interface Client {
  /** One function per contract method, typed from its schemas: `client.methods['backups.list']`. */
  methods: ClientMethods;
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>>;
  subscribe<E extends EventName>(
    event: E,
    listener: (payload: EventPayload<E>) => void,
  ): () => void;
}

/**
 * Typed methods and events over a transport. The types come from the contract; the
 * values are trusted because the other side's dispatcher produced them from the same
 * schemas (validating outputs again here would double the cost of every list).
 */
export function createClient(t: Transport): Client {
  const call = <M extends MethodName>(method: M, input: MethodInput<M>) =>
    t.call(method, input ?? {}) as Promise<Result<MethodOutput<M>>>;
  const methods = Object.fromEntries(
    METHOD_NAMES.map((name) => [name, (input?: unknown) => t.call(name, input ?? {})]),
  ) as ClientMethods;
  return {
    methods,
    call,
    subscribe: (event, listener) => t.subscribe(event, listener as (payload: unknown) => void),
  };
}
