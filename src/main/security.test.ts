import { describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  externalLinkToOpen,
  handleWindowOpen,
  isAppUrl,
  isNavigationAllowed,
  isPermissionGranted,
  secureWebPreferences,
} from './security.js';

describe('the Electron security baseline', () => {
  it('isolates and sandboxes every window, with no Node in the page', () => {
    expect(secureWebPreferences('/app/preload.js')).toEqual({
      preload: '/app/preload.js',
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
    });
  });

  it('uses the one CSP the web mode sends too, with no inline or remote script', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
  });

  it('knows the app only by its own scheme and host', () => {
    expect(isAppUrl(`${APP_ORIGIN}/index.html`)).toBe(true);
    expect(isAppUrl(`${APP_ORIGIN}/backups/b1?x=1#y`)).toBe(true);
    for (const url of [
      'file:///app/index.html',
      'app://evil/index.html',
      'app://firebackup.evil/',
      'https://firebackup/',
      'http://127.0.0.1:5123/',
      'about:blank',
      'javascript:alert(1)',
      'not a url',
      '',
      undefined,
    ]) {
      expect(isAppUrl(url), String(url)).toBe(false);
      if (url) expect(isNavigationAllowed(url), url).toBe(false);
    }
  });

  it('opens no window; hands only allow-listed https links to the system browser', () => {
    const opened: string[] = [];
    const open = (u: string) => opened.push(u);
    for (const url of [
      'https://console.firebase.google.com/project/p',
      'http://console.firebase.google.com/',
      'https://evil.example/',
      'https://console.firebase.google.com.evil.example/',
      'https://user:pw@cloud.google.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      `${APP_ORIGIN}/other`,
    ]) {
      expect(handleWindowOpen(url, open)).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://console.firebase.google.com/project/p']);
    expect(externalLinkToOpen('https://cloud.google.com/storage')).toBe(
      'https://cloud.google.com/storage',
    );
  });

  it('grants no permission request', () => {
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal'])
      expect(isPermissionGranted(p)).toBe(false);
  });
});
