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

/**
 * The Backups screen itself over the seeded list: a filter typed into its search box,
 * timed in the page until the list's count line changes and a frame is painted; then a
 * scripted scroll through the whole virtualised list, one step per frame, with every
 * frame's duration (a frame over 1.5 × 16.7 ms counts as dropped).
 */
export async function screenTimes(page: Page): Promise<{ filterMs: number[]; frames: number[] }> {
  const filterMs: number[] = [];
  for (const text of ['crm-eu', 'shop', 'bkp_2026', '', 'analytics', '']) {
    filterMs.push(
      await page.evaluate(async (value) => {
        const input = document.querySelector<HTMLInputElement>('input[type="search"]')!;
        const status = document.querySelector('[id$="-count"][role="status"]')!;
        const before = status.textContent;
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
        const started = performance.now();
        setter.call(input, value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        while (status.textContent === before && performance.now() - started < 5000)
          await new Promise((r) => requestAnimationFrame(r));
        await new Promise((r) => requestAnimationFrame(r));
        return performance.now() - started;
      }, text),
    );
  }
  const frames = await page.evaluate(async () => {
    const list = document.querySelector('[role="list"][aria-label="Backups"]')!;
    let box: HTMLElement | null = list as HTMLElement;
    while (box && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
    if (!box) throw new Error('no scrollable list');
    const times: number[] = [];
    let last = performance.now();
    const step = Math.max(200, Math.ceil((box.scrollHeight - box.clientHeight) / 300));
    while (box.scrollTop + box.clientHeight < box.scrollHeight - 1) {
      box.scrollTop += step;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  });
  return { filterMs, frames };
}
