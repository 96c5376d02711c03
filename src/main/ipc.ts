/**
 * The Electron IPC adapter: one generic handler over the shared dispatcher, and push
 * events fanned out only to the windows that subscribed. Electron is injected (the few
 * members used are typed here), so this is tested in Node; index.ts passes `ipcMain`.
 */
import { EVENT_NAMES, type EventName } from '../shared/api/contract.js';
import type { Result } from '../shared/api/dispatch.js';
import type { Dispatch, EventSource } from '../shared/api/memory-transport.js';
import { AppError, toErrorData } from '../shared/errors.js';
import { isAppUrl } from './security.js';
import { IPC_CALL, IPC_EVENT, IPC_SUBSCRIBE, IPC_UNSUBSCRIBE } from '../shared/api/ipc-channels.js';

/** What the guard needs to know about the frame that sent a message. */
export interface SenderFrame {
  url: string | undefined;
  isMainFrame: boolean;
}

/** Only the app's own top-level page may call: not an iframe, not a page navigated elsewhere. */
export function isTrustedSender(frame: SenderFrame | undefined): boolean {
  return frame !== undefined && frame.isMainFrame && isAppUrl(frame.url);
}

const refused = (): Result<never> => ({
  ok: false,
  error: toErrorData(
    new AppError(
      'PERMISSION_DENIED',
      'Refused: this call did not come from the FireBackup window.',
    ),
  ),
});

/** The handler behind IPC_CALL: checks the frame, then the dispatcher does the rest. */
export function createIpcCallHandler(dispatch: Dispatch) {
  return async (frame: SenderFrame | undefined, method: unknown, input: unknown) => {
    if (!isTrustedSender(frame)) return refused();
    if (typeof method !== 'string')
      return {
        ok: false,
        error: toErrorData(new AppError('INVALID_ARGUMENT', 'The method name must be a string.')),
      } satisfies Result<never>;
    return dispatch(method, input, { kind: 'local' });
  };
}

/** A window that can receive events (Electron's WebContents, narrowed). */
export interface EventTarget {
  id: number;
  send(channel: string, event: EventName, payload: unknown): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): void;
}

/**
 * Per-window subscriptions: a window gets an event only after it asked for it, and its
 * subscriptions end with it.
 */
export function createEventFanout(events: EventSource) {
  const byWindow = new Map<number, Map<EventName, () => void>>();
  const drop = (id: number): void => {
    for (const stop of byWindow.get(id)?.values() ?? []) stop();
    byWindow.delete(id);
  };
  return {
    subscribe(frame: SenderFrame | undefined, target: EventTarget, event: unknown): Result<null> {
      if (!isTrustedSender(frame)) return refused();
      if (typeof event !== 'string' || !(EVENT_NAMES as string[]).includes(event))
        return {
          ok: false,
          error: toErrorData(
            new AppError('INVALID_ARGUMENT', `Unknown event (one of ${EVENT_NAMES.join(', ')}).`),
          ),
        };
      const name = event as EventName;
      let mine = byWindow.get(target.id);
      if (!mine) {
        mine = new Map();
        byWindow.set(target.id, mine);
        target.once('destroyed', () => drop(target.id));
      }
      if (!mine.has(name))
        mine.set(
          name,
          events.subscribe(name, (payload) => {
            if (!target.isDestroyed()) target.send(IPC_EVENT, name, payload);
          }),
        );
      return { ok: true, value: null };
    },
    unsubscribe(target: { id: number }, event: unknown): void {
      const mine = byWindow.get(target.id);
      const stop = typeof event === 'string' ? mine?.get(event as EventName) : undefined;
      stop?.();
      mine?.delete(event as EventName);
    },
    /** Windows with at least one subscription (for tests and diagnostics). */
    subscribers: (event: EventName): number[] =>
      [...byWindow].filter(([, m]) => m.has(event)).map(([id]) => id),
  };
}

/** The parts of `ipcMain` and its event used here. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (
      event: { senderFrame: SenderFrameLike | null; sender: EventTarget & { mainFrame: unknown } },
      ...args: unknown[]
    ) => unknown,
  ): void;
}
interface SenderFrameLike {
  url: string;
}

/** Registers the three channels on `ipcMain` over the dispatcher and the engine's events. */
export function registerIpc(ipcMain: IpcMainLike, dispatch: Dispatch, events: EventSource) {
  const call = createIpcCallHandler(dispatch);
  const fanout = createEventFanout(events);
  const frameOf = (e: Parameters<Parameters<IpcMainLike['handle']>[1]>[0]): SenderFrame =>
    e.senderFrame
      ? { url: e.senderFrame.url, isMainFrame: e.senderFrame === e.sender.mainFrame }
      : { url: undefined, isMainFrame: false };
  ipcMain.handle(IPC_CALL, (e, method, input) => call(frameOf(e), method, input));
  ipcMain.handle(IPC_SUBSCRIBE, (e, event) => fanout.subscribe(frameOf(e), e.sender, event));
  ipcMain.handle(IPC_UNSUBSCRIBE, (e, event) => {
    if (isTrustedSender(frameOf(e))) fanout.unsubscribe(e.sender, event);
    return { ok: true, value: null };
  });
  return fanout;
}
