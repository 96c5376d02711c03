import { describe, expect, it } from 'vitest';
import { APP_ORIGIN } from './security.js';
import {
  appUrl,
  guardContents,
  guardSession,
  mainWindowOptions,
  type GuardedContents,
} from './windows.js';

function fakeContents() {
  const listeners = new Map<string, (e: { preventDefault(): void }, url: string) => void>();
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
  const contents = {
    on: (event: string, l: (e: { preventDefault(): void }, url: string) => void) =>
      listeners.set(event, l),
    setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
  } as unknown as GuardedContents;
  const fire = (event: string, url = '') => {
    let prevented = false;
    listeners.get(event)?.({ preventDefault: () => (prevented = true) }, url);
    return prevented;
  };
  return { contents, fire, open: (url: string) => openHandler!({ url }) };
}

describe('the main window', () => {
  it('is created hidden with the secure web preferences', () => {
    const o = mainWindowOptions('/app/dist/preload/index.cjs', '/app/resources/icon.png', false);
    expect(o.show).toBe(false);
    expect(o.webPreferences).toMatchObject({
      preload: '/app/dist/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(mainWindowOptions('p', 'i', true).backgroundColor).toBe('#1b1b1f');
  });

  it('loads the app from app://, a screen in the fragment', () => {
    expect(appUrl()).toBe(`${APP_ORIGIN}/index.html`);
    expect(appUrl('/history?run=r1')).toBe(`${APP_ORIGIN}/index.html#/history?run=r1`);
  });

  it('denies navigation and redirects away from the app, and every <webview>', () => {
    const { contents, fire } = fakeContents();
    guardContents(contents, () => {});
    expect(fire('will-navigate', `${APP_ORIGIN}/index.html#/keys`)).toBe(false);
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'app://other/',
      'http://127.0.0.1/',
    ]) {
      expect(fire('will-navigate', url), url).toBe(true);
      expect(fire('will-redirect', url), url).toBe(true);
    }
    expect(fire('will-attach-webview')).toBe(true);
  });

  it('window.open opens no window; allow-listed https links go to the system browser', () => {
    const opened: string[] = [];
    const { contents, open } = fakeContents();
    guardContents(contents, (u) => opened.push(u));
    expect(open('https://console.firebase.google.com/project/x')).toEqual({ action: 'deny' });
    expect(open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(open(`${APP_ORIGIN}/index.html`)).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://console.firebase.google.com/project/x']);
  });

  it('denies every permission request and check', () => {
    let request: ((c: unknown, p: string, cb: (g: boolean) => void) => void) | undefined;
    let check: ((c: unknown, p: string) => boolean) | undefined;
    guardSession({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h),
    });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'fullscreen']) {
      const answers: boolean[] = [];
      request!(null, p, (g) => answers.push(g));
      expect(answers).toEqual([false]);
      expect(check!(null, p)).toBe(false);
    }
  });
});
