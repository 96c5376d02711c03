import type { FireBackupBridge } from '../shared/api/bridge.js';
import { EVENT_NAMES, METHOD_NAMES, type EventName } from '../shared/api/contract.js';
import type { Result } from '../shared/api/dispatch.js';
import { IPC_CALL, IPC_EVENT, IPC_SUBSCRIBE, IPC_UNSUBSCRIBE } from '../shared/api/ipc-channels.js';

/** The members of Electron's `ipcRenderer` the bridge uses (injected, so it is tested in Node). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * Builds `window.firebackup` from the contract. Each method is a closure over its own
 * name, so the page can call only contract methods (the main process checks the name
 * and the input again). Events: the main process is asked for an event the first time
 * the page listens to it and told to stop when the last listener goes, so it pushes
 * only what this window wants. The IPC event object never reaches the page (it would
 * hand it `sender`, i.e. ipcRenderer itself).
 */
export function createBridge(ipc: IpcRendererLike): FireBackupBridge {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  ipc.on(IPC_EVENT, (_event, name, payload) => {
    for (const listener of listeners.get(name as EventName) ?? []) listener(payload);
  });

  const methods = Object.fromEntries(
    METHOD_NAMES.map((name) => [
      name,
      (input?: unknown) => ipc.invoke(IPC_CALL, name, input) as Promise<Result<unknown>>,
    ]),
  ) as Omit<FireBackupBridge, 'on'>;

  const on = (event: EventName, listener: (payload: never) => void): (() => void) => {
    if (!(EVENT_NAMES as string[]).includes(event))
      throw new TypeError(`Unknown event "${String(event)}" (one of ${EVENT_NAMES.join(', ')}).`);
    if (typeof listener !== 'function')
      throw new TypeError('on(event, listener): listener must be a function.');
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
      void ipc.invoke(IPC_SUBSCRIBE, event);
    }
    // A fresh wrapper per call, so subscribing the same function twice needs two unsubscribes.
    const entry = (payload: unknown): void => listener(payload as never);
    set.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      set.delete(entry);
      if (set.size === 0 && listeners.get(event) === set) {
        listeners.delete(event);
        void ipc.invoke(IPC_UNSUBSCRIBE, event);
      }
    };
  };

  return { ...methods, on } as FireBackupBridge;
}
