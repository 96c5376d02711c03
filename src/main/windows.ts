/**
 * The main window and the guards every web page of the app gets. Options come from
 * security.ts; Electron objects are narrowed to the few members used (index.ts passes the
 * real ones), so the wiring is tested in Node with fakes.
 */
import {
  APP_ORIGIN,
  handleWindowOpen,
  isNavigationAllowed,
  isPermissionGranted,
  secureWebPreferences,
  type SecureWebPreferences,
} from './security.js';

export interface MainWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: false;
  title: string;
  icon: string;
  backgroundColor: string;
  autoHideMenuBar: true;
  webPreferences: SecureWebPreferences;
}

/** Created hidden and shown on `ready-to-show`, so no blank frame flashes. */
export function mainWindowOptions(
  preloadPath: string,
  iconPath: string,
  dark: boolean,
): MainWindowOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'FireBackup',
    icon: iconPath,
    backgroundColor: dark ? '#1b1b1f' : '#ffffff',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/** The page a route opens: the app's index with the screen in the fragment. */
export function appUrl(route = '/'): string {
  return `${APP_ORIGIN}/index.html${route === '/' ? '' : `#${route}`}`;
}

interface PreventableEvent {
  preventDefault(): void;
}

/** The members of WebContents the guards use. */
export interface GuardedContents {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (e: PreventableEvent, url: string) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (e: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Navigation away from the app and <webview> are refused; window.open never opens a
 * window (an allow-listed https link goes to the system browser instead).
 */
export function guardContents(
  contents: GuardedContents,
  openExternal: (url: string) => void,
): void {
  const refuse = (e: PreventableEvent, url: string): void => {
    if (!isNavigationAllowed(url)) e.preventDefault();
  };
  contents.on('will-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => handleWindowOpen(url, openExternal));
}

/** The members of Session the guards use. */
export interface GuardedSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
}

/** Camera, microphone, geolocation, notifications from the page…: every request is denied. */
export function guardSession(session: GuardedSession): void {
  session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(isPermissionGranted(permission)),
  );
  session.setPermissionCheckHandler((_contents, permission) => isPermissionGranted(permission));
}
