import { describe, expect, it } from 'vitest';
import { METHOD_NAMES } from '../shared/api/contract.js';
import { createDispatcher, type Handlers } from '../shared/api/dispatch.js';
import { IPC_CALL, IPC_EVENT, IPC_SUBSCRIBE } from '../shared/api/ipc-channels.js';
import { createEventBus } from '../shared/api/event-bus.js';
import { createEventFanout, createIpcCallHandler, isTrustedSender, registerIpc } from './ipc.js';
import { APP_ORIGIN } from './security.js';

const app = { url: `${APP_ORIGIN}/index.html`, isMainFrame: true };

function dispatcher(calls: string[]) {
  const handlers = Object.fromEntries(
    METHOD_NAMES.map((m) => [
      m,
      async () => {
        calls.push(m);
        return [];
      },
    ]),
  ) as unknown as Handlers;
  return createDispatcher(handlers);
}

function fakeWindow(id: number) {
  const received: [string, string, unknown][] = [];
  let onDestroyed = (): void => {};
  let destroyed = false;
  return {
    received,
    target: {
      id,
      send: (c: string, e: string, p: unknown) => received.push([c, e, p]),
      isDestroyed: () => destroyed,
      once: (_: 'destroyed', l: () => void) => (onDestroyed = l),
      mainFrame: {},
    },
    destroy() {
      destroyed = true;
      onDestroyed();
    },
  };
}

describe('the IPC adapter', () => {
  it('trusts only the app page in the main frame', () => {
    expect(isTrustedSender(app)).toBe(true);
    expect(isTrustedSender({ ...app, isMainFrame: false })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true })).toBe(false);
    expect(isTrustedSender({ url: 'file:///x/index.html', isMainFrame: true })).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });

  it('refuses a call from an unexpected frame without reaching any handler', async () => {
    const calls: string[] = [];
    const call = createIpcCallHandler(dispatcher(calls));
    expect(
      await call({ url: 'https://evil.example/', isMainFrame: true }, 'jobs.active', {}),
    ).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(await call({ ...app, isMainFrame: false }, 'jobs.active', {})).toMatchObject({
      ok: false,
    });
    expect(calls).toEqual([]);
    expect(await call(app, 'jobs.active', {})).toEqual({ ok: true, value: [] });
    expect(await call(app, 42, {})).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(await call(app, 'jobs.active', { extra: 1 })).toMatchObject({
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(calls).toEqual(['jobs.active']);
  });

  it('sends events only to windows that subscribed, and forgets a closed window', () => {
    const events = createEventBus();
    const fanout = createEventFanout(events);
    const a = fakeWindow(1);
    const b = fakeWindow(2);
    expect(fanout.subscribe(app, a.target, 'job')).toEqual({ ok: true, value: null });
    expect(fanout.subscribe(app, a.target, 'job')).toEqual({ ok: true, value: null }); // once
    expect(fanout.subscribe(app, b.target, 'nope')).toMatchObject({
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(
      fanout.subscribe({ url: 'https://evil.example/', isMainFrame: true }, b.target, 'job'),
    ).toMatchObject({ error: { code: 'PERMISSION_DENIED' } });
    events.emit('job', { n: 1 });
    expect(a.received).toEqual([[IPC_EVENT, 'job', { n: 1 }]]);
    expect(b.received).toEqual([]);
    a.destroy();
    expect(events.listenerCount()).toBe(0);
    events.emit('job', { n: 2 });
    expect(a.received).toHaveLength(1);
  });

  it('registers the generic handlers on ipcMain, checking the sender frame', async () => {
    const handlers = new Map<string, (e: unknown, ...args: unknown[]) => unknown>();
    const calls: string[] = [];
    registerIpc(
      { handle: (c, l) => handlers.set(c, l as (e: unknown, ...args: unknown[]) => unknown) },
      dispatcher(calls),
      createEventBus(),
    );
    const w = fakeWindow(7);
    const mainFrame = { url: app.url };
    const fromApp = { senderFrame: mainFrame, sender: { ...w.target, mainFrame } };
    const fromIframe = { senderFrame: { url: app.url }, sender: { ...w.target, mainFrame } };
    expect(await handlers.get(IPC_CALL)!(fromApp, 'runs.history', {})).toEqual({
      ok: true,
      value: [],
    });
    expect(await handlers.get(IPC_CALL)!(fromIframe, 'runs.history', {})).toMatchObject({
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(await handlers.get(IPC_SUBSCRIBE)!(fromApp, 'run.finished')).toEqual({
      ok: true,
      value: null,
    });
    expect(calls).toEqual(['runs.history']);
  });
});
