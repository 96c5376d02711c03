import type { Transport } from './client.js';
import {
  METHOD_NAMES,
  type EventName,
  type EventPayload,
  type MethodName,
  type MethodOutput,
} from './contract.js';
import type { Result } from './dispatch.js';

/**
 * The object the Electron preload exposes to the renderer as `window.firebackup`
 * (contextBridge.exposeInMainWorld). Written here, once, so the preload (which builds
 * it) and the renderer (which wraps it as a Transport) cannot drift apart:
 * - one function per contract method, named exactly as the method (`'backups.list'`),
 *   taking the raw input and resolving to a Result (errors as data, never a throw);
 * - `on(event, listener)` to receive a push event until the returned function is called.
 * Nothing else: no generic `send(channel, …)`.
 */
export type FireBackupBridge = {
  readonly [M in MethodName]: (input: unknown) => Promise<Result<MethodOutput<M>>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
};

/** The global name the preload exposes the bridge under. */
export const BRIDGE_GLOBAL = 'firebackup';

/** Every key a bridge must have: the contract's methods plus `on` (the preload's test compares). */
export const BRIDGE_KEYS: readonly string[] = [...METHOD_NAMES, 'on'];

/** The renderer's Transport over the preload bridge. */
export function createBridgeTransport(bridge: FireBackupBridge): Transport {
  return {
    async call(method, input) {
      const fn = (bridge as unknown as Record<string, unknown>)[method];
      if (typeof fn !== 'function') {
        return {
          ok: false,
          error: {
            code: 'INTERNAL',
            message: `This version of the app has no "${method}" (the window and the app are out of step). Restart FireBackup.`,
            fault: 'system',
            retryable: false,
          },
        };
      }
      return (fn as (i: unknown) => Promise<Result<unknown>>)(input);
    },
    subscribe: (event: EventName, listener: (payload: unknown) => void) =>
      bridge.on(event, listener as (payload: EventPayload<EventName>) => void),
  };
}

/**
 * True when `value` looks like a bridge. Only `on` is required: a bridge from another
 * version of the contract still counts (its missing methods answer with an error as data,
 * see createBridgeTransport), rather than the app silently falling back to web mode.
 */
export function isBridge(value: unknown): value is FireBackupBridge {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).on === 'function'
  );
}
