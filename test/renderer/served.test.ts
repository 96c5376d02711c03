import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/shared/security-policy.js';
import { expectPageCsp } from '../helpers/csp.js';
import { startWebServer, type WebServer } from '../../src/cli/web/server.js';

/**
 * The real renderer, built from the sources by the project's Vite config into a temporary
 * folder, served by the web mode: the page and every asset it names load, under the
 * strict CSP, and the page holds no inline script or style the CSP would block (which a
 * browser would refuse silently, leaving a blank window).
 */
describe('the built renderer in web mode', () => {
  let outDir: string;
  let server: WebServer;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'fb-renderer-'));
    await build({
      configFile: path.resolve('vite.renderer.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
    server = await startWebServer({
      dispatch: async () => ({ ok: true as const, value: null }),
      events: { subscribe: () => () => {} },
      staticDir: outDir,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('serves index.html under the CSP, with external, hashed scripts and styles only', async () => {
    const page = await fetch(`${server.origin}/`);
    expect(page.status).toBe(200);
    const nonce = expectPageCsp(page.headers.get('content-security-policy'));
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain(`<meta name="csp-nonce" content="${nonce}" />`);

    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\.\/assets\/[\w-]+-[\w-]{8}\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers

    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const answer = await fetch(`${server.origin}/${asset}`);
      expect(answer.status, asset).toBe(200);
      expect(answer.headers.get('content-security-policy'), asset).toBe(CONTENT_SECURITY_POLICY);
      expect(answer.headers.get('content-type'), asset).toMatch(
        asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      expect((await answer.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
  });

  it('answers an app route (no extension) with the same page, and a missing asset with 404', async () => {
    const index = await (await fetch(`${server.origin}/`)).text();
    const route = await fetch(`${server.origin}/projects`);
    expect(route.status).toBe(200);
    // The same page but for its own style nonce (a fresh one per response, ADR 0023).
    const withoutNonce = (html: string) => html.replace(/content="[A-Za-z0-9+/]{24}"/, '');
    expect(withoutNonce(await route.text())).toBe(withoutNonce(index));
    expect((await fetch(`${server.origin}/assets/nope-12345678.js`)).status).toBe(404);
  });

  it('bundles nothing from the engine or Node', async () => {
    const files = await readdir(path.join(outDir, 'assets'));
    const js = files.filter((f) => f.endsWith('.js'));
    for (const file of js) {
      const text = await readFile(path.join(outDir, 'assets', file), 'utf8');
      expect(text, file).not.toMatch(/from ?["']node:/);
      expect(text, file).not.toContain('better-sqlite3');
    }
  });
});
