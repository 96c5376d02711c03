/**
 * The Backups list over 5,000 backups (issue #8): filtering must answer in < 100 ms.
 * Timed from the page through backups.search, as the screen filters.
 */
import type { Page } from 'playwright-core';
import type { App } from '../../test/browser/harness.js';
import { seedCatalogBackups } from './catalog-fixture.js';
import { callFromPage } from './page-call.js';

export function seedList(app: App, count: number): string {
  const destinationId = app.runtime.catalog.destinations.upsert({
    name: 'many',
    url: `${app.home}/many-backups`,
  }).id;
  seedCatalogBackups(app.runtime, destinationId, count);
  return destinationId;
}

/** Times of each filter change: all, a project, a text search, a date range. */
export async function filterTimes(
  page: Page,
  count: number,
): Promise<{ ms: number[]; total: number }> {
  const filters = [
    {},
    { project: 'crm-eu' },
    { text: 'shop' },
    { from: '2026-01-01', to: '2026-06-30' },
    { text: 'bkp_2025' },
  ];
  const ms: number[] = [];
  let total = 0;
  for (let round = 0; round < 4; round++) {
    for (const filter of filters) {
      const call = await callFromPage<{ total: number }>(page, 'backups.search', filter);
      if (!call.result.ok) throw new Error(call.result.error.message);
      if (Object.keys(filter).length === 0) total = call.result.value.total;
      ms.push(call.ms);
    }
  }
  if (total !== count) throw new Error(`expected ${count} backups listed, got ${total}`);
  return { ms, total };
}
