/**
 * The Electron main process: the composition root, and the only file with app.on(…).
 * It opens the engine's runtime on the shared catalog, serves the renderer from app://,
 * wires the one IPC handler over the shared dispatcher, and hands the rest to small
 * modules tested in Node: security.ts/windows.ts/protocol.ts (the security baseline),
 * ipc.ts, desktop.ts (schedules, pause, wake, quit), tray-model.ts, notifications.ts,
 * settings.ts and secrets.ts.
 */
import {
  app,
  BrowserWindow,
  ipcMain,
  nativeTheme,
  Notification,
  powerMonitor,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDispatcher } from '../shared/api/dispatch.js';
import { toErrorData } from '../shared/errors.js';
import { createApiEvents } from '../engine/api/events.js';
import { createApiHandlers } from '../engine/api/handlers.js';
import { followCatalogMoves } from '../engine/jobs/follow-catalog.js';
import { createRuntime } from '../engine/jobs/runtime.js';
import { loadKeyring } from '../engine/keys/keyring.js';
import { appDataDir } from '../engine/paths.js';
import { Desktop } from './desktop.js';
import { registerIpc } from './ipc.js';
import { desktopNotifier } from './notifications.js';
import { appProtocolHandler, APP_SCHEME_PRIVILEGES } from './protocol.js';
import { createDesktopSecretStore } from './secrets.js';
import { APP_SCHEME, externalLinkToOpen } from './security.js';
import { openDesktopSettings } from './settings.js';
import { createTray } from './tray.js';
import { trayModel } from './tray-model.js';
import { appUrl, guardContents, guardSession, mainWindowOptions } from './windows.js';

// dist/main/index.js → the package root holds dist/ and resources/.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PRELOAD = path.join(root, 'dist', 'preload', 'index.cjs');
const RENDERER = path.join(root, 'dist', 'renderer');
const RESOURCES = path.join(root, 'resources');

const log = (message: string): void => console.log(`${new Date().toISOString()} ${message}`);

// A second launch hands over to the first (which shows its window) and exits.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  void app.whenReady().then(main, (error: unknown) => {
    console.error(`FireBackup could not start: ${toErrorData(error).message}`);
    app.exit(1);
  });
}

/** Links the page may open go to the system browser, and only allow-listed https ones. */
function openExternal(url: string): void {
  const allowed = externalLinkToOpen(url);
  if (allowed) void shell.openExternal(allowed);
}

// Every web contents the app ever creates gets the guards, not only the main window.
app.on('web-contents-created', (_event, contents) => guardContents(contents, openExternal));

async function main(): Promise<void> {
  const env = process.env;
  const settings = await openDesktopSettings(env);
  guardSession(session.defaultSession);
  protocol.handle(APP_SCHEME, appProtocolHandler(RENDERER));

  const secrets = createDesktopSecretStore({
    file: path.join(appDataDir(env), 'secrets.desktop.json'),
    safeStorage,
    consent: weakStorageConsent(),
  });
  log(secrets.protection().message);

  let window: BrowserWindow | undefined;
  let quitting = false;
  const openWindow = (route?: string): void => {
    if (!window || window.isDestroyed()) {
      window = new BrowserWindow(
        mainWindowOptions(
          PRELOAD,
          path.join(RESOURCES, 'icon.png'),
          nativeTheme.shouldUseDarkColors,
        ),
      );
      const w = window;
      w.once('ready-to-show', () => w.show());
      // Closing the window keeps the app (and its schedules) running in the tray.
      w.on('close', (e) => {
        if (!quitting) {
          e.preventDefault();
          w.hide();
        }
      });
      void w.loadURL(appUrl(route));
      return;
    }
    // A same-document fragment change: the renderer's router switches screens.
    if (route) void window.loadURL(appUrl(route));
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  const keyring = await loadKeyring({ env });
  const notifier = desktopNotifier(
    (n) => {
      const shown = new Notification({
        title: n.title,
        body: n.body,
        urgency: n.urgent ? 'critical' : 'normal',
      });
      shown.on('click', () => openWindow(n.route));
      shown.show();
    },
    () => settings.get().notifications,
  );
  // One SecretStore for the screens and the runtime that opens destinations with it.
  const runtime = createRuntime({ env, keyring, notifier, log, secrets });
  const dispatch = createDispatcher(
    createApiHandlers(runtime, keyring, {
      env,
      secrets,
      settings,
      // Team sign-in happens in the system browser (RFC 8252), never in an app window.
      team: { openUrl: (url) => shell.openExternal(url) },
    }),
  );
  registerIpc(ipcMain, dispatch, createApiEvents(runtime));
  // A catalog moved by the CLI's web mode on this machine is followed too.
  const unfollowCatalog = followCatalogMoves(runtime, env, log);

  const theme = (): 'dark' | 'light' => (nativeTheme.shouldUseDarkColors ? 'dark' : 'light');
  const shellActions = { openWindow, quit: () => app.quit() };
  let renderQueued = false;
  const tray = createTray(path.join(RESOURCES, 'tray'), (action) => {
    desktop.act(action, shellActions).catch((e: unknown) => log(toErrorData(e).message));
  });
  // Progress ticks come often: redraw the tray at most once per event-loop turn.
  const render = (): void => {
    if (renderQueued) return;
    renderQueued = true;
    setImmediate(() => {
      renderQueued = false;
      tray.render(trayModel(desktop.snapshot(theme())));
    });
  };
  const desktop = new Desktop({ runtime, dispatch, onChange: render, log });
  const trayTick = setInterval(render, 60_000); // relative times ("5 min ago") stay true
  nativeTheme.on('updated', render);

  const applyLoginItem = (): void =>
    app.setLoginItemSettings({ openAtLogin: settings.get().startAtLogin, openAsHidden: true });
  applyLoginItem();
  settings.onChange(() => {
    applyLoginItem();
    render();
  });

  // Logout or shutdown (SIGTERM), Ctrl-C when started from a terminal: quit as from the tray.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => app.quit());
  powerMonitor.on('resume', () => void desktop.onResume().then(render));
  app.on('second-instance', () => openWindow());
  app.on('activate', () => openWindow());
  // No window is no reason to quit: the tray and the schedules stay.
  app.on('window-all-closed', () => {});

  // Quit: finish or cancel jobs first (as the daemon does), then really quit.
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    clearInterval(trayTick);
    unfollowCatalog();
    log('Quitting: letting running jobs finish or cancelling them.');
    void desktop.shutdown().then((outcome) => {
      runtime.close();
      tray.destroy();
      app.exit(outcome === 'stuck' ? 1 : 0);
    });
  });

  await desktop.start();
  render();
  // Started at login: stay in the tray. Started by the person: show the window.
  if (!app.getLoginItemSettings().wasOpenedAtLogin) openWindow();
}

/** The person's answer to "store secrets without a keyring?", kept beside the secrets file. */
function weakStorageConsent() {
  const file = path.join(appDataDir(process.env), 'secrets.desktop.consent');
  return {
    given: () => existsSync(file),
    give: () => writeFileSync(file, 'basic_text\n', { mode: 0o600 }),
  };
}
