import { describe, expect, it } from 'vitest';
import { BRIDGE_GLOBAL } from '../../shared/api/bridge.js';
import { connect, hashWithoutToken, TOKEN_STORAGE_KEY, tokenFromHash } from './connect.js';

/** Just enough of a window for connect(): location, history, sessionStorage. */
function fakeWindow(href: string, extra: Record<string, unknown> = {}) {
  const url = new URL(href);
  const storage = new Map<string, string>();
  const replaced: string[] = [];
  const win = {
    location: {
      get hash() {
        return url.hash;
      },
      pathname: url.pathname,
      search: url.search,
      origin: url.origin,
    },
    history: {
      state: null,
      replaceState: (_s: unknown, _t: string, next: string) => {
        replaced.push(next);
        url.hash = new URL(next, url).hash;
      },
    },
    sessionStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
    },
    ...extra,
  };
  return { win: win as unknown as Window, storage, replaced };
}

describe('connect', () => {
  it('reads the token from the fragment and leaves other fragment parts alone', () => {
    expect(tokenFromHash('#token=abc-_1')).toBe('abc-_1');
    expect(tokenFromHash('#x=1&token=t2')).toBe('t2');
    expect(tokenFromHash('')).toBeUndefined();
    expect(tokenFromHash('#token=')).toBeUndefined();
    expect(hashWithoutToken('#token=abc')).toBe('');
    expect(hashWithoutToken('#x=1&token=abc')).toBe('#x=1');
  });

  it('in a browser: takes the token, wipes it from the address, keeps it for a reload of this tab', () => {
    const { win, storage, replaced } = fakeWindow('http://127.0.0.1:5000/?a=1#token=secret');
    const first = connect(win);
    expect(first.mode).toBe('web');
    expect(replaced).toEqual(['/?a=1']);
    expect(win.location.hash).toBe('');
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('secret');
    // Reload: no fragment any more, the tab's storage still has it.
    expect(connect(win).mode).toBe('web');
  });

  it('without a token says what to do instead of failing every call', () => {
    const { win } = fakeWindow('http://127.0.0.1:5000/');
    const c = connect(win);
    expect(c.mode).toBe('none');
    expect(c.mode === 'none' && c.reason).toMatch(/firebackup ui/);
  });

  it('in Electron uses the preload bridge, and answers a method the bridge lacks with an error as data', async () => {
    const calls: unknown[] = [];
    const bridge = {
      on: () => () => {},
      'jobs.active': async (input: unknown) => {
        calls.push(input);
        return { ok: true, value: [] };
      },
    };
    const { win } = fakeWindow('app://firebackup/index.html', { [BRIDGE_GLOBAL]: bridge });
    const c = connect(win);
    expect(c.mode).toBe('electron');
    if (c.mode !== 'electron') return;
    expect(await c.transport.call('jobs.active', {})).toEqual({ ok: true, value: [] });
    expect(calls).toEqual([{}]);
    const missing = await c.transport.call('runs.history', {});
    expect(missing).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});
