/**
 * The catalog screens in team sync mode, in Chromium over the web mode, against a real
 * organisation server (in-process, PGlite, the test sign-in): the Projects screen shows
 * the organisation's projects, only the actions the role allows, and the offline banner
 * when the server is down.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';
import { blocking, scanAccessibility } from './axe.js';
import { appInChromium, describeBrowser, openApp } from './harness.js';
import { showScreen } from './screens.js';
import { saveScreenshot } from './screenshots.js';

const PROJECTS = { name: 'projects', title: 'Projects' };
const DASHBOARD = { name: 'dashboard', title: 'Dashboard' };
const BACKUPS = { name: 'backups', title: 'Backups' };
const SHARED_URL = 's3://acme-owner-vault/shop';
const SHARED_BACKUP = 'bkp_20261130T080000000Z_0a1b2c3d';

describeBrowser('the Projects screen signed into an organisation', () => {
  let server: TeamTestServer;
  let orgId: string;

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', {
      'vic@acme.test': 'viewer',
      'mia@acme.test': 'member',
    }));
    const shop = await server.publish('owner@acme.test', orgId, '/projects', {
      name: 'Shop',
      firebaseProjectId: 'shop-prod',
    });
    // A backup the owner's machine made and reported: the archive and key stay there.
    const vault = await server.publish('owner@acme.test', orgId, '/destinations', {
      name: 'Owner vault',
      url: SHARED_URL,
    });
    await server.publish('owner@acme.test', orgId, '/runs', {
      projectId: shop.id,
      destinationId: vault.id,
      status: 'finished',
      startedAt: '2026-11-30T08:00:00.000Z',
      finishedAt: '2026-11-30T08:01:00.000Z',
      documentCount: 42,
      bytes: 2048,
      backupId: SHARED_BACKUP,
    });
    await server.publish('owner@acme.test', orgId, '/backups', {
      projectId: shop.id,
      keyId: 'k00ownerkey000001',
      sizeBytes: 2048,
      documentCount: 42,
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  const web = appInChromium();

  const signInAs = async (email: string) =>
    signedInSecrets(web.app.home, await server.signIn(email, orgId));

  /** The Projects screen, once it shows the organisation's project and its sync line. */
  const openProjects = async (line: RegExp, colorScheme: 'light' | 'dark' = 'light') => {
    const opened = await openApp(web.browser, web.app, { colorScheme });
    await showScreen(opened.page, PROJECTS);
    await opened.page.getByRole('listitem', { name: 'Shop' }).waitFor();
    await opened.page.getByText(line).waitFor();
    return opened;
  };

  it("a viewer: the organisation's project, marked not set up here; no add, remove or back-up; axe clean", async () => {
    await signInAs('vic@acme.test');
    const { page, context, problems } = await openProjects(/Shared with Acme: you are a viewer/);
    try {
      const shop = page.getByRole('listitem', { name: 'Shop' });
      await expect(shop.textContent()).resolves.toContain('shop-prod');
      await expect(shop.getByText('Not set up on this machine').count()).resolves.toBe(1);
      await expect(page.getByRole('heading', { name: 'Add a project' }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: /^Remove / }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: /^Back up/ }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: /^Test connection/ }).count()).resolves.toBe(0);
      expect(blocking(await scanAccessibility(page))).toEqual([]);
      expect(problems).toEqual([]);
      await saveScreenshot(page, 'projects-team-viewer-light');

      // By keyboard alone: Tab walks the whole page and never lands on a write action.
      const focused: string[] = [];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        focused.push(
          await page.evaluate(() => {
            const el = document.activeElement as HTMLElement | null;
            return `${el?.tagName ?? ''} ${el?.getAttribute('aria-label') ?? el?.textContent ?? ''}`.trim();
          }),
        );
      }
      expect(focused.some((f) => /Projects/.test(f))).toBe(true);
      expect(focused.filter((f) => /Remove|Back up|Add project|Test connection/.test(f))).toEqual(
        [],
      );
    } finally {
      await context.close();
    }
  });

  it('a viewer in dark mode: the same screen, axe clean', async () => {
    await signInAs('vic@acme.test');
    const { page, context, problems } = await openProjects(
      /Shared with Acme: you are a viewer/,
      'dark',
    );
    try {
      expect(blocking(await scanAccessibility(page))).toEqual([]);
      expect(problems).toEqual([]);
      await saveScreenshot(page, 'projects-team-viewer-dark');
    } finally {
      await context.close();
    }
  });

  it('the owner: the same project with Remove, and the add form', async () => {
    await signInAs('owner@acme.test');
    const { page, context } = await openProjects(/Shared with Acme: you are an owner/);
    try {
      await page.getByRole('heading', { name: 'Add a project' }).waitFor();
      await expect(page.getByRole('heading', { name: 'Projects of Acme' }).count()).resolves.toBe(
        1,
      );
      await expect(page.getByRole('button', { name: 'Remove Shop' }).count()).resolves.toBe(1);
    } finally {
      await context.close();
    }
  });

  it("server down: the last known projects under the banner “Offline — showing the organisation's state as of …”", async () => {
    await signInAs('vic@acme.test');
    const first = await openProjects(/Shared with Acme/);
    await first.context.close();
    await server.down();
    try {
      const { page, context, problems } = await openProjects(
        /^Offline — showing the organisation's state as of /,
      );
      try {
        const banner = page.getByRole('status').filter({ hasText: /^Offline/ });
        await expect(banner.count()).resolves.toBe(1);
        await expect(page.getByRole('heading', { name: 'Add a project' }).count()).resolves.toBe(0);
        expect(blocking(await scanAccessibility(page))).toEqual([]);
        expect(problems).toEqual([]);
        await saveScreenshot(page, 'projects-team-offline-light');
      } finally {
        await context.close();
      }
    } finally {
      await server.up();
    }
  });

  it("the Dashboard: the organisation's project, named for it, marked not set up here, no back-up; offline the banner; axe clean", async () => {
    await signInAs('vic@acme.test');
    const opened = await openApp(web.browser, web.app);
    try {
      const { page, problems } = opened;
      await showScreen(page, DASHBOARD);
      await page.getByRole('heading', { name: 'Projects of Acme' }).waitFor();
      const shop = page.getByRole('row', { name: /Shop/ });
      await shop.waitFor();
      await expect(shop.getByText('Not set up on this machine').count()).resolves.toBe(1);
      await expect(page.getByRole('button', { name: /^Back up/ }).count()).resolves.toBe(0);
      await page.getByText(/Shared with Acme: you are a viewer/).waitFor();
      await expect(
        page.getByRole('heading', { name: 'Storage used by Acme' }).count(),
      ).resolves.toBe(1);
      expect(blocking(await scanAccessibility(page))).toEqual([]);
      expect(problems).toEqual([]);
      await saveScreenshot(page, 'dashboard-team-viewer-light');
    } finally {
      await opened.context.close();
    }
    await server.down();
    try {
      const { page, context } = await openApp(web.browser, web.app);
      try {
        await showScreen(page, DASHBOARD);
        await page.getByText(/^Offline — showing the organisation's state as of /).waitFor();
        await page.getByRole('row', { name: /Shop/ }).waitFor();
      } finally {
        await context.close();
      }
    } finally {
      await server.up();
    }
  });

  it("another member's backup: its detail from the server's metadata, what restoring needs, no Restore button; axe clean", async () => {
    await signInAs('mia@acme.test');
    const { page, context, problems } = await openApp(web.browser, web.app);
    try {
      await showScreen(page, BACKUPS);
      await page.getByRole('heading', { name: 'Backups of Acme' }).waitFor();
      await page.getByRole('button', { name: /Organisation's, not here/ }).click();
      const detail = page.getByRole('region', { name: 'Backup detail' });
      await detail.getByText(/this is what the organisation server knows of it/).waitFor();
      await detail.getByRole('heading', { name: 'To restore it on this machine' }).waitFor();
      const text = (await detail.textContent()) ?? '';
      expect(text).toContain(SHARED_BACKUP);
      expect(text).toContain(SHARED_URL);
      expect(text).toContain('k00ownerkey000001');
      expect(text).toContain('owner@acme.test');
      expect(text).toMatch(new RegExp(`Add the destination ${SHARED_URL} with its credentials`));
      expect(text).toMatch(/Import the key k00ownerkey000001/);
      await expect(detail.getByRole('button', { name: /Restore/ }).count()).resolves.toBe(0);
      await expect(detail.getByRole('button', { name: /^Read it from/ }).count()).resolves.toBe(0);
      expect(blocking(await scanAccessibility(page))).toEqual([]);
      expect(problems).toEqual([]);
      await saveScreenshot(page, 'backups-team-shared-detail-light');
    } finally {
      await context.close();
    }
  });

  it('the shared backup open, its destination added (through the contract, as another window would): “Read it from …” appears without a refresh', async () => {
    await signInAs('mia@acme.test');
    const { page, context, problems } = await openApp(web.browser, web.app);
    try {
      await showScreen(page, BACKUPS);
      await page.getByRole('button', { name: /42 docs.*Organisation's, not here/ }).click();
      const detail = page.getByRole('region', { name: 'Backup detail' });
      await detail.getByRole('heading', { name: 'To restore it on this machine' }).waitFor();
      await expect(detail.getByRole('button', { name: /^Read it from/ }).count()).resolves.toBe(0);
      const added = await fetch(`${web.app.server.origin}/api/destinations.add`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${web.app.server.token}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ name: 'Vault here', url: SHARED_URL, options: {} }),
      });
      expect(added.status, await added.text()).toBe(200);
      await detail
        .getByRole('button', { name: 'Read it from Vault here on this machine' })
        .waitFor({ timeout: 15_000 });
      // The list follows too: the row is still the organisation's, shown once.
      await expect(
        page.getByRole('button', { name: /42 docs.*Organisation's, not here/ }).count(),
      ).resolves.toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the Backups list at 1280 px with the detail open (and at 1024 px), light and dark: numbers whole, long names cut with an ellipsis and their title', async () => {
    // A big backup of a project with a long id: the widest row the list shows.
    const longId = 'acme-prod-eu-west-analytics-wh';
    const big = await server.publish('owner@acme.test', orgId, '/projects', {
      name: 'Warehouse',
      firebaseProjectId: longId,
    });
    await server.publish('owner@acme.test', orgId, '/backups', {
      projectId: big.id,
      backupId: 'bkp_20261130T090000000Z_5555eeee',
      destinationUrl: 's3://acme-owner-vault/warehouse',
      sizeBytes: 2_200_000,
      documentCount: 1_234_567,
    });
    await signInAs('mia@acme.test');
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, context, problems } = await openApp(web.browser, web.app, { colorScheme });
      try {
        await showScreen(page, BACKUPS);
        const row = page.getByRole('button', { name: /1,234,567 docs/ });
        await row.click();
        const detail = page.getByRole('region', { name: 'Backup detail' });
        await detail.getByRole('heading', { name: 'To restore it on this machine' }).waitFor();
        for (const width of [1280, 1024]) {
          await page.setViewportSize({ width, height: 800 });
          await saveScreenshot(page, `backups-team-layout-${width}-${colorScheme}`);
          const cells = await rowCells(row);
          const where = `${colorScheme}, ${width} px`;
          // Numbers are never cut: each shows whole, on one line, inside the row.
          for (const text of ['2.1 MiB', '1,234,567 docs'])
            expect(
              cells.find((c) => c.text === text),
              `${text} (${where})`,
            ).toMatchObject({
              fits: true,
              visible: true,
            });
          const date = cells[0]!;
          expect(date, `date (${where})`).toMatchObject({ fits: true, visible: true });
          // A long name may be cut, with an ellipsis, and then says itself in its title.
          for (const c of cells.filter((c) => !c.fits))
            expect(c, `${c.text} (${where})`).toMatchObject({ ellipsis: true, title: c.text });
          const project = cells.find((c) => c.text === longId)!;
          // Cut or not, enough of it shows to recognise it.
          expect(project, where).toMatchObject({ visible: true, width: expect.any(Number) });
          expect(project.width, where).toBeGreaterThanOrEqual(80);
        }
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });
});

/** Each cell of a Backups list row: its text, whether it fits (one line, not cut) and shows. */
function rowCells(row: Locator) {
  return row.evaluate((button) => {
    const box = button.getBoundingClientRect();
    return [...button.children].map((cell) => {
      const el = cell as HTMLElement;
      const r = el.getBoundingClientRect();
      return {
        text: el.textContent ?? '',
        title: el.getAttribute('title'),
        fits: el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1,
        ellipsis: getComputedStyle(el).textOverflow === 'ellipsis',
        width: r.width,
        // Inside the row's box, not pushed onto a line the row's height hides.
        visible:
          r.width > 0 &&
          r.left >= box.left &&
          r.right <= box.right + 0.5 &&
          r.top >= box.top &&
          r.bottom <= box.bottom + 0.5,
      };
    });
  });
}
