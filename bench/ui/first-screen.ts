/**
 * "First screen usable < 1.5 s after the page opens" (issue #8): navigation start (the
 * page's time origin) to the first moment the shell's <h1> shows the first screen's title
 * beside the main navigation, with nothing in the screen still loading (aria-busy). Each
 * run is a fresh browser context: a cold cache, as when `firebackup ui` was just started.
 */
import type { Browser } from 'playwright-core';
import type { App } from '../../test/browser/harness.js';

export async function firstScreenTimes(
  browser: Browser,
  app: App,
  o: { runs: number; title: string },
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const context = await browser.newContext();
    // Injected before any of the page's own scripts (through DevTools: the CSP does not
    // apply). A string, not a function: tsx would wrap named inner functions in a helper
    // that does not exist in the page.
    await context.addInitScript(usableProbe(o.title));
    const page = await context.newPage();
    await page.goto(`${app.server.origin}/#token=${app.server.token}`);
    await page.waitForFunction(
      () => (window as { __usableAt?: number }).__usableAt !== undefined,
      null,
      {
        timeout: 30_000,
      },
    );
    times.push(await page.evaluate(() => (window as unknown as { __usableAt: number }).__usableAt));
    await context.close();
  }
  return times;
}

/** Sets window.__usableAt (ms since navigation start) once the screen is usable. */
function usableProbe(title: string): string {
  return `(() => {
    const title = ${JSON.stringify(title)};
    const observer = new MutationObserver(() => {
      const h1 = document.querySelector('h1');
      if (
        h1 && h1.textContent === title &&
        document.querySelector('nav button') !== null &&
        document.querySelector('main [aria-busy="true"]') === null
      ) {
        window.__usableAt = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  })();`;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
