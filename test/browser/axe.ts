/**
 * axe-core accessibility scans in the page. axe is evaluated through the DevTools protocol
 * (page.evaluate), which the page's CSP does not govern, so the app is scanned under its
 * real policy: an injected <script> tag would be refused by `script-src 'self'`.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults, ImpactValue } from 'axe-core';

const require = createRequire(import.meta.url);
let source: Promise<string> | undefined;

export interface Violation {
  id: string;
  impact: ImpactValue | undefined;
  help: string;
  /** CSS selectors of the offending elements (the first few). */
  targets: string[];
}

/** Runs axe (WCAG 2.x A/AA rules) on the page as it is now; every violation found. */
export async function scanAccessibility(page: Page): Promise<Violation[]> {
  source ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(await source);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: object): Promise<AxeResults> } }).axe;
    return axe.run({
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
      resultTypes: ['violations'],
    });
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact ?? undefined,
    help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}

/** The violations a screen must not have: serious and critical (issue #8). */
export function blocking(violations: Violation[]): Violation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
