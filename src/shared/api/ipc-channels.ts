/**
 * Electron IPC channel names, written once for main (src/main/ipc.ts) and the preload.
 * Four fixed channels carry every contract method and event: the method name travels
 * as data and is checked by the dispatcher, so no per-method channel exists to forget.
 */
export const IPC_CALL = 'firebackup:call';
export const IPC_SUBSCRIBE = 'firebackup:subscribe';
export const IPC_UNSUBSCRIBE = 'firebackup:unsubscribe';
export const IPC_EVENT = 'firebackup:event';
