/**
 * The Team screen in Chromium over the web mode, against a real organisation server
 * (in-process, PGlite, the test sign-in): what an admin and a viewer see and may do,
 * the offline state, keyboard reach, and axe in light and dark for each.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { startGoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';
import { blocking, scanAccessibility } from './axe.js';
import { appInChromium, describeBrowser, openApp } from './harness.js';
import { showScreen } from './screens.js';
import { saveScreenshot } from './screenshots.js';

const TEAM = { name: 'team', title: 'Team' };

describeBrowser('the Team screen against a real organisation server', () => {
  let server: TeamTestServer;
  let orgId: string;

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', {
      'ada@acme.test': 'admin',
      'vic@acme.test': 'viewer',
    }));
  });
  afterAll(async () => {
    await server?.close();
  });
  const web = appInChromium();

  /** Signs `email` in for the web mode's engine (as a finished browser sign-in would). */
  const signInAs = async (email: string) =>
    signedInSecrets(web.app.home, await server.signIn(email, orgId));

  const openTeam = async (colorScheme: 'light' | 'dark' = 'light') => {
    const opened = await openApp(web.browser, web.app, { colorScheme });
    await showScreen(opened.page, TEAM);
    await opened.page.getByRole('heading', { name: 'Members' }).waitFor();
    return opened;
  };

  const expectAccessible = async (page: Page, problems: string[]) => {
    expect(blocking(await scanAccessibility(page))).toEqual([]);
    expect(problems).toEqual([]);
  };

  it('an admin: members with editable roles, API keys (shown once), the audit log; axe clean', async () => {
    await signInAs('ada@acme.test');
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, context, problems } = await openTeam(colorScheme);
      try {
        await page.getByRole('heading', { name: 'Audit log' }).waitFor();
        await expect(page.getByRole('heading', { name: 'API keys' }).count()).resolves.toBe(1);
        // Admins change members and viewers, never owners.
        await page.getByLabel('Role of vic@acme.test').waitFor();
        await expect(page.getByLabel('Role of owner@acme.test').count()).resolves.toBe(0);
        await expectAccessible(page, problems);
      } finally {
        await context.close();
      }
    }

    const { page, context, problems } = await openTeam();
    try {
      await page.getByLabel('Role of vic@acme.test').selectOption('member');
      await page.getByRole('status').filter({ hasText: 'Role changed to member.' }).waitFor();
      await page.getByLabel('Role of vic@acme.test').selectOption('viewer');
      await page.getByRole('status').filter({ hasText: 'Role changed to viewer.' }).waitFor();

      const form = page.getByRole('form', { name: 'Make an API key' });
      await form.getByLabel('Name').fill('nightly');
      await form.getByRole('button', { name: 'Make a key' }).click();
      const shown = page.getByRole('note', { name: 'New API key' });
      await shown.waitFor();
      await expect(shown.locator('code').textContent()).resolves.toMatch(/^fbk_/);
      await page.getByRole('cell', { name: 'nightly', exact: true }).waitFor();
      await expectAccessible(page, problems);
      await shown.getByRole('button', { name: 'I copied it' }).click();
      await expect(shown.count()).resolves.toBe(0);
    } finally {
      await context.close();
    }
  });

  it('keyboard: the organisation picker, Sync now and the role of a member are reachable with Tab', async () => {
    await signInAs('ada@acme.test');
    const { page, context } = await openTeam();
    try {
      const reached = new Set<string>();
      for (let i = 0; i < 60 && reached.size < 3; i++) {
        await page.keyboard.press('Tab');
        const label = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (el === null) return '';
          return (
            el.getAttribute('aria-label') ??
            el.closest('label')?.textContent ??
            el.textContent ??
            ''
          );
        });
        if (/Organisation/.test(label)) reached.add('organisation');
        if (/Sync now/.test(label)) reached.add('sync');
        if (/Role of vic@acme\.test/.test(label)) reached.add('role');
      }
      expect([...reached].sort()).toEqual(['organisation', 'role', 'sync']);
    } finally {
      await context.close();
    }
  });

  it('a viewer: members read-only, no API keys or audit log; axe clean in light and dark', async () => {
    await signInAs('vic@acme.test');
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, context, problems } = await openTeam(colorScheme);
      try {
        await page.getByRole('cell', { name: /ada@acme\.test/ }).waitFor();
        await expect(page.getByLabel(/^Role of /).count()).resolves.toBe(0);
        await expect(page.getByRole('button', { name: /^Remove / }).count()).resolves.toBe(0);
        await expect(page.getByRole('heading', { name: 'API keys' }).count()).resolves.toBe(0);
        await expect(page.getByRole('heading', { name: 'Audit log' }).count()).resolves.toBe(0);
        await expectAccessible(page, problems);
      } finally {
        await context.close();
      }
    }
  });

  it('offline: the last known members and the age of the last sync, said plainly', async () => {
    await signInAs('vic@acme.test');
    const { page, context, problems } = await openTeam();
    try {
      await page.getByRole('button', { name: 'Sync now' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /^Synced/ })
        .waitFor();
      await server.down();
      await page.getByRole('button', { name: 'Sync now' }).click();
      const offline = page.getByRole('note', { name: 'Offline' });
      await offline.waitFor();
      await expect(offline.textContent()).resolves.toMatch(/cannot be reached.*ago/s);
      await page.getByRole('cell', { name: /ada@acme\.test/ }).waitFor();
      await expectAccessible(page, problems);
    } finally {
      await server.up();
      await context.close();
    }
  });

  it('two-step sign-in: the enrolment step, a wrong code said in the form, recovery codes once; then the code step takes a recovery code; axe clean', async () => {
    const google = await startGoogleServer(undefined, {}, { FORCE_MFA: 'true' });
    // Signed out on this machine (the tests before signed someone in).
    await rm(path.join(web.app.home, 'team-session.json'), { force: true });
    let { page, context, problems } = await openApp(web.browser, web.app);
    try {
      const who = 'two-step@acme.test';
      await showScreen(page, TEAM);
      const signIn = async () => {
        const form = page.getByRole('form', { name: 'Sign in' });
        await form.getByLabel('Server address').fill(google.base);
        await form.getByRole('button', { name: 'Sign in' }).click();
        // The person opens the page (a new tab) and signs in at the provider there.
        const link = page.getByRole('link', { name: 'Open the sign-in page' });
        await link.waitFor();
        await browseAs((await link.getAttribute('href'))!, who);
      };
      await signIn();

      const step = () => page.getByRole('form', { name: 'Second factor' });
      await step().waitFor();
      await page.getByRole('heading', { name: 'Set up two-step sign-in' }).waitFor();
      const key = (await page.getByLabel('Setup key').textContent())!.replace(/\s+/g, '');
      // The address as a QR code, drawn in the page under the strict CSP, the key beside it.
      const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
      await qr.waitFor();
      const address = await page.locator('.enrolment dd code').nth(1).textContent();
      expect(address).toMatch(new RegExp(`^otpauth://totp/.*secret=${key}`));
      const modules = QRCode.create(address!, { errorCorrectionLevel: 'M' }).modules.size;
      await expect(qr.getAttribute('data-modules')).resolves.toBe(String(modules));
      const box = (await qr.boundingBox())!;
      expect(box.width).toBeGreaterThanOrEqual(150); // big enough to scan from a screen
      await saveScreenshot(page, 'team-enrolment');
      await expectAccessible(page, problems); // axe, and no CSP violation or page error
      const right = new TOTP({ secret: Secret.fromBase32(key) }).generate();
      const code = step().getByLabel('Code from the app');
      await code.fill(right === '000000' ? '000001' : '000000');
      await step().getByRole('button', { name: 'Continue' }).click();
      const refused = page.getByRole('alert').filter({ hasText: 'That code is not right' });
      await refused.waitFor();
      await expect(code.getAttribute('aria-invalid')).resolves.toBe('true');
      await expectAccessible(page, problems);
      await code.fill(right);
      await step().getByRole('button', { name: 'Continue' }).click();

      const codes = page.getByRole('note', { name: 'Recovery codes' });
      await codes.waitFor();
      const shown = await codes.locator('li code').allTextContents();
      expect(shown).toHaveLength(10);
      await page
        .getByRole('status')
        .filter({ hasText: `Signed in as ${who}.` })
        .waitFor();
      await expectAccessible(page, problems);
      await codes.getByRole('button', { name: 'I saved them' }).click();
      await expect(codes.count()).resolves.toBe(0);

      // Signed in again (a fresh window on a signed-out machine): this time the code step,
      // given a recovery code.
      await context.close();
      await rm(path.join(web.app.home, 'team-session.json'), { force: true });
      ({ page, context, problems } = await openApp(web.browser, web.app));
      await showScreen(page, TEAM);
      await signIn();
      await page.getByRole('heading', { name: 'Two-step sign-in' }).waitFor();
      await expectAccessible(page, problems);
      await step().getByLabel('Code or recovery code').fill(shown[0]!);
      await step().getByRole('button', { name: 'Continue' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Signed in as ${who}.` })
        .waitFor();
      await expect(page.getByRole('note', { name: 'Recovery codes' }).count()).resolves.toBe(0);
    } finally {
      await context.close();
      await google.close();
    }
  }, 120_000);
});
