/**
 * The Electron app's security baseline in one file, as pure values and functions so it is
 * tested in Node without Electron: window options, the renderer's origin, and the guards
 * windows.ts and index.ts attach to Electron's events (navigation, window.open,
 * permissions, external links). Nothing here imports `electron`.
 */
import { CONTENT_SECURITY_POLICY, RENDERER_SECURITY_HEADERS } from '../shared/security-policy.js';

export { CONTENT_SECURITY_POLICY, RENDERER_SECURITY_HEADERS };

/** The renderer is served from app://firebackup/ (a privileged custom scheme, not file://). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'firebackup';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** The subset of Electron's WebPreferences we set; every value is deliberate. */
export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  experimentalFeatures: false;
  navigateOnDragDrop: false;
  safeDialogs: true;
}

/** webPreferences of every FireBackup window: isolated, sandboxed, no Node in the page. */
export function secureWebPreferences(preloadPath: string): SecureWebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

function parse(url: string | undefined): URL | undefined {
  if (!url) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** True for a page of the app itself (app://firebackup/...), nothing else. */
export function isAppUrl(url: string | undefined): boolean {
  const u = parse(url);
  return u !== undefined && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
}

/** `will-navigate` / `will-redirect`: only moves within the app; everything else is denied. */
export function isNavigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/**
 * Links the app may hand to the system browser (`shell.openExternal`): https only, to
 * these hosts (documentation and consoles the screens link to).
 */
export const EXTERNAL_LINK_HOSTS: readonly string[] = [
  'console.firebase.google.com',
  'console.cloud.google.com',
  'cloud.google.com',
  'firebase.google.com',
];

/** The URL to open in the system browser, or undefined to ignore the request. */
export function externalLinkToOpen(
  url: string,
  allowedHosts: readonly string[] = EXTERNAL_LINK_HOSTS,
): string | undefined {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username || u.password) return undefined;
  return allowedHosts.includes(u.hostname) ? u.href : undefined;
}

/**
 * `setWindowOpenHandler`: no window is ever opened by the page. An allowed https link is
 * passed to `openExternal` (the system browser), the rest is dropped.
 */
export function handleWindowOpen(
  url: string,
  openExternal: (url: string) => void,
): { action: 'deny' } {
  const external = externalLinkToOpen(url);
  if (external) openExternal(external);
  return { action: 'deny' };
}

/** Permission requests and checks (camera, notifications from the page, geolocation…): none. */
export function isPermissionGranted(_permission: string): false {
  return false;
}
