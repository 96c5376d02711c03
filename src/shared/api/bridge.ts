import type { EventName, MethodName } from './contract.js';
import type { Result } from './dispatch.js';

/**
 * What the Electron preload exposes to the renderer as `window.firebackup`: one function
 * per contract method (generated from METHOD_NAMES, never listed by hand) and `on` to
 * receive a push event until the returned function is called. Nothing else: no generic
 * `send(channel)`, no ipcRenderer, no Node. The renderer wraps it as a Transport.
 */
export type BridgeMethods = {
  [M in MethodName]: (input?: unknown) => Promise<Result<unknown>>;
};

export interface FireBackupBridge extends BridgeMethods {
  on(event: EventName, listener: (payload: unknown) => void): () => void;
}

/** The global the preload defines in the page (`window.firebackup`). */
export const BRIDGE_GLOBAL = 'firebackup';
