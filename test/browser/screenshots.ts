/**
 * Screenshots of the app's screens taken by the E2E run: always into
 * .test-results/screenshots/ (to look at after a run), and into docs/screenshots/ — the
 * ones the README shows — only when FIREBACKUP_UPDATE_SCREENSHOTS=1
 * (`npm run screenshots`), so an ordinary test run never rewrites the docs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from './renderer-build.js';

export async function saveScreenshot(page: Page, name: string): Promise<void> {
  const folders = [path.join(ROOT, '.test-results', 'screenshots')];
  if (process.env.FIREBACKUP_UPDATE_SCREENSHOTS === '1')
    folders.push(path.join(ROOT, 'docs', 'screenshots'));
  const image = await page.screenshot({ fullPage: false, animations: 'disabled' });
  for (const folder of folders) {
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `${name}.png`), image);
  }
}
