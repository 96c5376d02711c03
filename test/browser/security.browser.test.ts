/**
 * The web mode's security baseline as a real browser meets it (issue #8): the page and its
 * CSP, the token, a foreign origin (CORS), a rebound DNS name (Host check). The same
 * checks at the HTTP level are in test/web/web-mode.test.ts; here Chromium's own rules
 * (preflight, CSP enforcement, same-origin) are part of what is proved.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectPageCsp } from '../helpers/csp.js';
import { appInChromium, describeBrowser, openApp } from './harness.js';

/** A name the browser resolves to 127.0.0.1, as a DNS-rebinding attacker's would. */
const REBOUND = 'rebind.test';

/** fetch from inside the page; what the page's script would see (status, body or the error). */
async function fetchFromPage(
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; mode?: RequestMode },
): Promise<{ status?: number; body?: string; type?: string; error?: string }> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const r = await fetch(u, i);
        return { status: r.status, body: await r.text(), type: r.type };
      } catch (e) {
        return { error: String(e) };
      }
    },
    [url, init] as const,
  );
}

describeBrowser('web mode security, from Chromium', () => {
  let foreign: http.Server;
  let foreignOrigin: string;

  const web = appInChromium({
    chromiumArgs: [`--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`],
  });

  beforeAll(async () => {
    // Another site on this machine: a page any local program or browser tab could serve.
    foreign = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title><p>another site</p>');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    foreignOrigin = `http://localhost:${(foreign.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => foreign?.close(r));
  });

  it('serves the page with the strict CSP, no inline script, and blocks a script injected inline', async () => {
    const { page, context, problems } = await openApp(web.browser, web.app);
    try {
      const response = await page.reload();
      expect(response?.status()).toBe(200);
      expectPageCsp(response?.headers()['content-security-policy']);
      const inline = await page.evaluate(() => ({
        scripts: [...document.scripts].filter((s) => !s.src).map((s) => s.outerHTML.slice(0, 80)),
        handlers: [...document.querySelectorAll('*')].flatMap((el) =>
          [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => a.name),
        ),
        styleAttributes: document.querySelectorAll('[style]').length,
      }));
      expect(inline.scripts).toEqual([]);
      expect(inline.handlers).toEqual([]);
      expect(problems).toEqual([]); // the page itself needed nothing the CSP forbids
      // An attacker who got markup into the page still cannot run script: CSP refuses it.
      const ran = await page.evaluate(async () => {
        const s = document.createElement('script');
        s.textContent = 'window.__injected = true';
        document.body.append(s);
        await new Promise((r) => setTimeout(r, 50));
        return (window as unknown as { __injected?: boolean }).__injected === true;
      });
      expect(ran).toBe(false);
      expect(problems).toEqual([expect.stringMatching(/^CSP: Executing inline script violates/)]);
    } finally {
      await context.close();
    }
  });

  it('answers the page’s own calls with the token, and refuses a wrong or missing token', async () => {
    const { page, context } = await openApp(web.browser, web.app);
    try {
      const api = `${web.app.server.origin}/api/jobs.active`;
      const ok = await fetchFromPage(page, api, {
        method: 'POST',
        headers: { Authorization: `Bearer ${web.app.server.token}` },
        body: '{}',
      });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body!)).toEqual({ ok: true, value: [] });
      for (const headers of [{}, { Authorization: 'Bearer wrong' }] as Record<string, string>[]) {
        const refused = await fetchFromPage(page, api, { method: 'POST', headers, body: '{}' });
        expect(refused.status).toBe(401);
        expect(JSON.parse(refused.body!)).toMatchObject({
          ok: false,
          error: { code: 'PERMISSION_DENIED' },
        });
      }
    } finally {
      await context.close();
    }
  });

  it('a page at another origin cannot call the API (CORS), even holding the token', async () => {
    const context = await web.browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(foreignOrigin);
      const before = web.app.calls.length;
      const api = `${web.app.server.origin}/api/jobs.active`;
      // With the token: the preflight (Authorization is not a simple header) is refused.
      const withToken = await fetchFromPage(page, api, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${web.app.server.token}`,
          'Content-Type': 'application/json',
        },
        body: '{}',
      });
      expect(withToken.error).toMatch(/Failed to fetch/);
      // A "simple" request needs no preflight: it reaches the server, which refuses it.
      const simple = await fetchFromPage(page, `${web.app.server.origin}/api/jobs.startBackup`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: '{"projectId":"p","destinationId":"d"}',
        mode: 'no-cors',
      });
      expect(simple.type).toBe('opaque');
      // Nor can it read the app's page.
      const read = await fetchFromPage(page, `${web.app.server.origin}/`, {});
      expect(read.error).toMatch(/Failed to fetch/);
      expect(web.app.calls.slice(before)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('refuses a rebound DNS name (foreign Host), for the page and for API calls', async () => {
    const context = await web.browser.newContext();
    const page = await context.newPage();
    try {
      const rebound = `http://${REBOUND}:${web.app.server.port}`;
      const response = await page.goto(`${rebound}/#token=${web.app.server.token}`);
      expect(response?.status()).toBe(403);
      expect(await page.textContent('body')).toContain('Host header');
      const before = web.app.calls.length;
      // Same origin as far as the browser knows (rebind.test), and even with the token.
      const call = await fetchFromPage(page, `${rebound}/api/jobs.active`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${web.app.server.token}` },
        body: '{}',
      });
      expect(call.status).toBe(403);
      expect(JSON.parse(call.body!)).toMatchObject({ error: { code: 'PERMISSION_DENIED' } });
      expect(web.app.calls.slice(before)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
