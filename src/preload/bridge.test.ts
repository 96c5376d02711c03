import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, METHOD_NAMES } from '../shared/api/contract.js';
import { IPC_CALL, IPC_EVENT, IPC_SUBSCRIBE, IPC_UNSUBSCRIBE } from '../shared/api/ipc-channels.js';
import { createBridge, type IpcRendererLike } from './bridge.js';

function fakeIpc() {
  const invoked: unknown[][] = [];
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => void>();
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      invoked.push([channel, ...args]);
      return { ok: true, value: 'answer' };
    },
    on: (channel, listener) => handlers.set(channel, listener),
  };
  const push = (name: string, payload: unknown) =>
    handlers.get(IPC_EVENT)?.({ sender: 'ipcRenderer itself' }, name, payload);
  return { ipc, invoked, push };
}

describe('the preload bridge', () => {
  it('exposes exactly one function per contract method plus `on`', () => {
    const bridge = createBridge(fakeIpc().ipc);
    expect(Object.keys(bridge).sort()).toEqual([...METHOD_NAMES, 'on'].sort());
    for (const key of Object.keys(bridge))
      expect(typeof bridge[key as keyof typeof bridge]).toBe('function');
  });

  it('sends each method over the one call channel with its own name', async () => {
    const { ipc, invoked } = fakeIpc();
    const bridge = createBridge(ipc);
    for (const name of METHOD_NAMES) {
      await expect(bridge[name]({ x: 1 })).resolves.toEqual({ ok: true, value: 'answer' });
    }
    expect(invoked).toEqual(METHOD_NAMES.map((name) => [IPC_CALL, name, { x: 1 }]));
  });

  it('subscribes in main on the first listener and unsubscribes after the last', () => {
    const { ipc, invoked, push } = fakeIpc();
    const bridge = createBridge(ipc);
    const event = EVENT_NAMES[0]!;
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = bridge.on(event, (p) => a.push(p));
    const offB = bridge.on(event, (p) => b.push(p));
    expect(invoked).toEqual([[IPC_SUBSCRIBE, event]]);
    push(event, { n: 1 });
    offA();
    offA(); // twice is harmless
    push(event, { n: 2 });
    expect(a).toEqual([{ n: 1 }]);
    expect(b).toEqual([{ n: 1 }, { n: 2 }]);
    offB();
    expect(invoked).toEqual([
      [IPC_SUBSCRIBE, event],
      [IPC_UNSUBSCRIBE, event],
    ]);
    push(event, { n: 3 });
    expect(b).toHaveLength(2);
  });

  it('hands listeners the payload only, never the IPC event', () => {
    const { ipc, push } = fakeIpc();
    const got: unknown[][] = [];
    createBridge(ipc).on(EVENT_NAMES[0]!, (...args: unknown[]) => got.push(args));
    push(EVENT_NAMES[0]!, 'p');
    expect(got).toEqual([['p']]);
  });

  it('refuses unknown events', () => {
    const bridge = createBridge(fakeIpc().ipc);
    expect(() => bridge.on('nope' as never, () => {})).toThrow(/Unknown event "nope"/);
  });
});
