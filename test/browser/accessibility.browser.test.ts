/**
 * An axe scan of every screen, in light and dark (issue #8): no serious or critical
 * violations. Screens are listed in ./screens.ts, the one list the E2E run, the
 * screenshots and this scan share.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { blocking, scanAccessibility } from './axe.js';
import { describeBrowser, launchChromium, openApp, startApp, type App } from './harness.js';
import { SCREENS, showScreen } from './screens.js';

describeBrowser('accessibility of every screen (axe)', () => {
  let browser: Browser;
  let app: App;

  beforeAll(async () => {
    app = await startApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('the scan is real: it reports an unlabelled button and an image without text', async () => {
    const page = await browser.newPage();
    try {
      await page.setContent('<main><h1>t</h1><img src="a.png"><button></button></main>');
      const ids = blocking(await scanAccessibility(page)).map((v) => v.id);
      expect(ids).toEqual(expect.arrayContaining(['image-alt', 'button-name']));
    } finally {
      await page.close();
    }
  });

  for (const screen of SCREENS) {
    for (const colorScheme of ['light', 'dark'] as const) {
      it(`${screen.name} (${colorScheme}): no serious or critical violations`, async () => {
        const { page, context, problems } = await openApp(browser, app, { colorScheme });
        try {
          await showScreen(page, screen);
          const violations = await scanAccessibility(page);
          expect(blocking(violations)).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });
    }
  }
});
