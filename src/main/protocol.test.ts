import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../shared/security-policy.js';
import { appProtocolHandler, APP_SCHEME_PRIVILEGES, fileForRequest } from './protocol.js';
import { APP_ORIGIN } from './security.js';

let root: string;
let outside: string;
beforeAll(async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'fb-protocol-'));
  root = path.join(base, 'renderer');
  outside = path.join(base, 'secret.txt');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(
    path.join(root, 'index.html'),
    '<!doctype html><meta name="csp-nonce" content="" /><title>FireBackup</title>',
  );
  await writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(outside, 'do not serve');
});
afterAll(() => rm(path.dirname(root), { recursive: true, force: true }));

const get = (url: string, method = 'GET') => appProtocolHandler(root)(new Request(url, { method }));

describe('the app:// protocol', () => {
  it('is a standard, secure scheme (a real origin for the CSP)', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({
      scheme: 'app',
      privileges: { standard: true, secure: true, supportFetchAPI: true },
    });
  });

  it('serves the renderer with the CSP and the other security headers', async () => {
    const res = await get(`${APP_ORIGIN}/index.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(
      /^default-src 'self'; script-src 'self'; style-src 'self' 'nonce-/,
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<title>FireBackup</title>');
    const js = await get(`${APP_ORIGIN}/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('gives each page its own style nonce, in the CSP and the page’s meta alike (ADR 0023)', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await get(`${APP_ORIGIN}/`);
      const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy')!)![1]!;
      expect(await res.text()).toContain(`<meta name="csp-nonce" content="${nonce}" />`);
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(3);
  });

  it('routes screens (paths without an extension) to index.html', async () => {
    expect(await (await get(`${APP_ORIGIN}/`)).text()).toContain('FireBackup');
    expect(await (await get(`${APP_ORIGIN}/history`)).text()).toContain('FireBackup');
  });

  it('never serves anything outside the renderer folder', async () => {
    for (const url of [
      `${APP_ORIGIN}/../secret.txt`,
      `${APP_ORIGIN}/%2e%2e/secret.txt`,
      `${APP_ORIGIN}/assets/..%2f..%2fsecret.txt`,
      `${APP_ORIGIN}/..%5csecret.txt`,
      `${APP_ORIGIN}/%00.js`,
    ]) {
      const file = fileForRequest(url, root);
      expect(file === undefined || file.startsWith(root + path.sep), url).toBe(true);
      const res = await get(url);
      expect(await res.text(), url).not.toContain('do not serve');
    }
  });

  it('answers only its own host, GET and HEAD, and 404 for missing files', async () => {
    expect((await get('app://other/index.html')).status).toBe(404);
    expect((await get(`${APP_ORIGIN}/index.html`, 'POST')).status).toBe(405);
    expect((await get(`${APP_ORIGIN}/missing.js`)).status).toBe(404);
    const none = await appProtocolHandler(path.join(root, 'nope'))(new Request(`${APP_ORIGIN}/`));
    expect(await none.text()).toMatch(/npm run build/);
  });
});
