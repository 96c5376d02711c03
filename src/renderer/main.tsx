import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '../shared/api/client.js';
import { App } from './App.js';
import { adoptStyleNonce } from './csp-nonce.js';
import { createAppStore, StoreContext, type AppStore } from './store/index.js';
import { subscribeEvents } from './store/events.js';
import { connect } from './transport/connect.js';
import './styles/app.css';

/** Start: pick the transport (Electron bridge or web token), build the store, render. */
function start(): void {
  adoptStyleNonce(document);
  const root = createRoot(document.getElementById('root')!);
  const connection = connect(window);
  if (connection.mode === 'none') {
    root.render(
      <main className="screen">
        <h1>FireBackup</h1>
        <div className="notice notice-error" role="alert">
          <p>{connection.reason}</p>
        </div>
      </main>,
    );
    return;
  }
  const client = createClient(connection.transport);
  const store = createAppStore(client);
  const state = store.getState();
  state.nav.setMode(connection.mode);
  subscribeEvents(store, client);
  followRoutes(window, store);
  void state.settings.load();
  void state.jobs.refreshActive();
  void state.firstRun.detect();
  root.render(
    <StrictMode>
      <StoreContext.Provider value={store}>
        <App mode={connection.mode} />
      </StoreContext.Provider>
    </StrictMode>,
  );
}

/**
 * Opens the route in the URL fragment, at start and whenever it changes (the desktop app
 * sets `#/history?run=<id>` when a notification is clicked). The fragment is then
 * cleared, so a second click on the same notification changes it again and is seen.
 */
function followRoutes(win: Window, store: AppStore): void {
  const open = (): void => {
    const fragment = win.location.hash;
    if (!fragment.startsWith('#/')) return;
    win.history.replaceState(null, '', win.location.pathname + win.location.search);
    void store.getState().nav.openRoute(fragment);
  };
  open();
  win.addEventListener('hashchange', open);
}

start();
