/**
 * Styles injected at run time under the web mode's CSP (ADR 0023): Radix's dialogs lock
 * the page's scroll with a <style> element (react-remove-scroll → react-style-singleton),
 * which `style-src 'self'` refused — two CSP violations in the console at every confirm
 * dialog. The page now gets a fresh nonce with every response and hands it to the style
 * injector, so the dialog's style applies with no violation, while a style injected
 * without that nonce (an attacker's markup) is still refused.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { appInChromium, describeBrowser, openApp } from './harness.js';
import { rendererConfig } from './renderer-build.js';
import { showScreen } from './screens.js';

/** Collects `securitypolicyviolation` events from the page's first moment (CDP, not CSP-governed). */
async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`),
    );
  });
}

const violations = (page: Page) =>
  page.evaluate(() => [...(window as unknown as { __violations: string[] }).__violations]);

/** The style-src directive of a CSP header. */
const styleSrc = (csp: string | undefined) =>
  (csp ?? '')
    .split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith('style-src '));

describeBrowser('styles injected at run time under the web mode’s CSP', () => {
  const web = appInChromium();

  it.skipIf(!rendererConfig())(
    'a confirm dialog opens with no CSP violation; its scroll lock applies; an injected style without the nonce is still refused',
    async () => {
      const { page, context, problems } = await openApp(web.browser, web.app, { route: '/' });
      try {
        await recordViolations(page);
        const response = await page.reload();
        const csp = response?.headers()['content-security-policy'];
        expect(styleSrc(csp)).toMatch(/^style-src 'self' 'nonce-[A-Za-z0-9+/_-]{22,}={0,2}'$/);
        expect(csp).toContain("script-src 'self';"); // the nonce never reaches script-src
        // A destination to remove: its Remove button opens the confirm dialog.
        const added = await page.evaluate(
          async ([token, url]) => {
            const r = await fetch('/api/destinations.add', {
              method: 'POST',
              headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
              body: JSON.stringify({ name: 'Archive', url, options: {} }),
            });
            return r.status;
          },
          [web.app.server.token, `${web.app.home}/archive`] as const,
        );
        expect(added).toBe(200);
        await showScreen(page, { name: 'destinations', title: 'Destinations' });
        await page.getByRole('button', { name: 'Remove Archive' }).click();
        const dialog = page.getByRole('alertdialog', { name: 'Remove Archive?' });
        await dialog.waitFor();
        // The scroll lock's stylesheet is in force (it was refused before the nonce).
        await expect
          .poll(() => page.evaluate(() => getComputedStyle(document.body).overflow))
          .toBe('hidden');
        await page.waitForTimeout(100); // violation events are reported asynchronously
        expect(await violations(page)).toEqual([]);
        expect(problems).toEqual([]);
        await dialog.getByRole('button', { name: 'Keep it' }).click();
        await dialog.waitFor({ state: 'detached' });

        // Markup injected without the nonce (or with a guessed one) is still refused.
        const applied = await page.evaluate(async () => {
          const tries = [undefined, 'AAAAAAAAAAAAAAAAAAAAAAAA'];
          const colours: string[] = [];
          for (const nonce of tries) {
            const style = document.createElement('style');
            if (nonce) style.setAttribute('nonce', nonce);
            style.textContent = 'body { background-color: rgb(1, 2, 3) !important; }';
            document.head.append(style);
            await new Promise((r) => setTimeout(r, 50));
            colours.push(getComputedStyle(document.body).backgroundColor);
            style.remove();
          }
          // A style attribute in markup: the nonce never covers attributes.
          const holder = document.createElement('div');
          holder.innerHTML = '<p style="color: rgb(1, 2, 3)">x</p>';
          document.body.append(holder);
          await new Promise((r) => setTimeout(r, 50));
          colours.push(getComputedStyle(holder.firstElementChild!).color);
          holder.remove();
          return colours;
        });
        expect(applied).not.toContain('rgb(1, 2, 3)');
        const refused = await violations(page);
        expect(refused).toHaveLength(3);
        for (const v of refused.slice(0, 2)) expect(v).toMatch(/^style-src-elem inline/);
        expect(refused[2]).toMatch(/^style-src-attr inline/);
      } finally {
        await context.close();
      }
    },
    60_000,
  );

  it('every page load gets its own nonce, in the header and the page alike', async () => {
    const { page, context } = await openApp(web.browser, web.app);
    try {
      const nonces: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await page.reload();
        const nonce = /'nonce-([^']+)'/.exec(response?.headers()['content-security-policy'] ?? '');
        expect(nonce).not.toBeNull();
        nonces.push(nonce![1]!);
        if (rendererConfig())
          await expect(
            page.locator('meta[name="csp-nonce"]').getAttribute('content'),
          ).resolves.toBe(nonce![1]);
      }
      expect(new Set(nonces).size).toBe(3);
    } finally {
      await context.close();
    }
  });
});
