/**
 * An axe scan of every screen, in light and dark (issue #8): no serious or critical
 * violations. Screens are listed in ./screens.ts, the one list the E2E run, the
 * screenshots and this scan share.
 */
import { expect, it } from 'vitest';
import { blocking, scanAccessibility } from './axe.js';
import { appInChromium, describeBrowser, openApp } from './harness.js';
import { SCREENS, showScreen } from './screens.js';

describeBrowser('accessibility of every screen (axe)', () => {
  const web = appInChromium();

  it('the scan is real: it reports an unlabelled button and an image without text', async () => {
    const page = await web.browser.newPage();
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
        const { page, context, problems } = await openApp(web.browser, web.app, { colorScheme });
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
