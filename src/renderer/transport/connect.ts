import { BRIDGE_GLOBAL, createBridgeTransport, isBridge } from '../../shared/api/bridge.js';
import type { Transport } from '../../shared/api/client.js';
import { createHttpTransport } from '../../shared/api/http-transport.js';

/**
 * How this window reaches the engine, decided once at start:
 * - in Electron the preload has put the bridge at `window.firebackup`;
 * - in a browser (`firebackup ui`) the per-run token arrives in the URL fragment
 *   (`#token=…`, never sent to a server). It is moved into sessionStorage (this tab only,
 *   gone when the tab closes, survives a reload) and wiped from the address bar and its
 *   history entry, so it is not kept in the browser's history or shown over a shoulder.
 */
export type Connection =
  { mode: 'electron' | 'web'; transport: Transport } | { mode: 'none'; reason: string };

export const TOKEN_STORAGE_KEY = 'firebackup.token';

/** The token in a location fragment such as `#token=abc` (other fragment parts ignored). */
export function tokenFromHash(hash: string): string | undefined {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token');
  return token ? token : undefined;
}

/** The fragment with the token removed (other parts kept), '' when nothing remains. */
export function hashWithoutToken(hash: string): string {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  params.delete('token');
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}

export function connect(win: Window): Connection {
  const bridge = (win as unknown as Record<string, unknown>)[BRIDGE_GLOBAL];
  if (isBridge(bridge)) return { mode: 'electron', transport: createBridgeTransport(bridge) };

  const fromHash = tokenFromHash(win.location.hash);
  if (fromHash) {
    try {
      win.sessionStorage.setItem(TOKEN_STORAGE_KEY, fromHash);
    } catch {
      // Storage disabled: the token still works for this page's life.
    }
    const { pathname, search, hash } = win.location;
    win.history.replaceState(win.history.state, '', pathname + search + hashWithoutToken(hash));
  }
  let token = fromHash;
  if (!token) {
    try {
      token = win.sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
    } catch {
      token = undefined;
    }
  }
  if (!token) {
    return {
      mode: 'none',
      reason:
        'This page was opened without its access token. Open the address that "firebackup ui" printed in the terminal (it ends with #token=…), or run it again.',
    };
  }
  return {
    mode: 'web',
    transport: createHttpTransport({ origin: win.location.origin, token }),
  };
}
