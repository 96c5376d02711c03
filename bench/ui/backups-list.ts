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

/** Frame pacing while the list scrolls, against the same page left idle. */
export interface ScrollFrames {
  /** The display's frame interval, from the idle frames' median (16.7 ms at 60 Hz). */
  intervalMs: number;
  /** Frames shown while scrolling end to end, one scroll step per frame. */
  frames: number;
  /** Frames missed while scrolling: each rAF delta of k intervals missed k − 1 frames. */
  dropped: number;
  /** The same count over as many frames with nothing scrolling: the machine's own noise. */
  idleDropped: number;
  p95FrameMs: number;
  worstFrameMs: number;
  /**
   * Where the long frames' time went (Chromium's long-animation-frame entries, frames
   * over 50 ms): JavaScript (React rendering the rows) against style and layout; the
   * rest of such a frame is paint and compositing.
   */
  longFrames: { count: number; scriptMs: number; styleLayoutMs: number; totalMs: number };
}

/**
 * The Backups screen itself over the seeded list: a filter typed into its search box,
 * timed in the page until the list's count line changes and a frame is painted; then
 * frame pacing while the virtualised list scrolls end to end.
 */
export async function screenTimes(
  page: Page,
): Promise<{ filterMs: number[]; scroll: ScrollFrames }> {
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
  return { filterMs, scroll: await scrollFrames(page) };
}

/**
 * Dropped frames, counted from requestAnimationFrame's own timestamps (the frame's start,
 * not when our callback ran): one rAF loop records every frame, and while scrolling each
 * frame moves the list one step (~300 steps end to end) before the next is requested,
 * as a wheel or a dragged scroll bar does. A delta of k frame intervals means k − 1
 * frames were not produced. The same loop over the idle page first gives the interval
 * and the machine's own misses, so a loaded machine is told apart from a slow list.
 */
async function scrollFrames(page: Page): Promise<ScrollFrames> {
  // tsx (esbuild's keepNames) wraps the named helpers below in __name(); the page has none.
  await page.evaluate('globalThis.__name = (f) => f');
  return page.evaluate(async () => {
    const list = document.querySelector('[role="list"][aria-label="Backups"]')!;
    let box: HTMLElement | null = list as HTMLElement;
    while (box && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
    if (!box) throw new Error('no scrollable list');
    const scroller = box;
    scroller.scrollTop = 0;
    /** Frame timestamps of `count` frames (or until `step` says stop), rAF-driven. */
    const record = (count: number, step?: () => boolean): Promise<number[]> =>
      new Promise((resolve) => {
        const stamps: number[] = [];
        const frame = (t: number): void => {
          stamps.push(t);
          const more = step ? step() : stamps.length < count;
          if (more) requestAnimationFrame(frame);
          else resolve(stamps);
        };
        requestAnimationFrame(frame);
      });
    const deltas = (stamps: number[]): number[] => stamps.slice(1).map((t, i) => t - stamps[i]!);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const missed = (ds: number[], interval: number): number =>
      ds.reduce((n, d) => n + Math.max(0, Math.round(d / interval) - 1), 0);

    await record(30); // settle: the first frames after evaluate() are not representative
    const idle = deltas(await record(301));
    const interval = median(idle);
    const long = { count: 0, scriptMs: 0, styleLayoutMs: 0, totalMs: 0 };
    interface LoAF extends PerformanceEntry {
      styleAndLayoutStart: number;
      scripts: { duration: number }[];
    }
    const observer = new PerformanceObserver((entries) => {
      for (const e of entries.getEntries() as LoAF[]) {
        long.count += 1;
        long.totalMs += e.duration;
        long.scriptMs += e.scripts.reduce((n, s) => n + s.duration, 0);
        if (e.styleAndLayoutStart > 0)
          long.styleLayoutMs += e.startTime + e.duration - e.styleAndLayoutStart;
      }
    });
    try {
      observer.observe({ type: 'long-animation-frame', buffered: false });
    } catch {
      // not this browser: the split stays empty
    }
    const stepPx = Math.max(1, Math.ceil((scroller.scrollHeight - scroller.clientHeight) / 300));
    const scrolled = deltas(
      await record(0, () => {
        if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) return false;
        scroller.scrollTop += stepPx;
        return true;
      }),
    );
    await record(2); // the last frame's entry is delivered
    observer.disconnect();
    const sorted = [...scrolled].sort((a, b) => a - b);
    const idleSample = idle.slice(0, scrolled.length);
    return {
      intervalMs: interval,
      frames: scrolled.length,
      dropped: missed(scrolled, interval),
      idleDropped: missed(idleSample, interval),
      p95FrameMs: sorted[Math.floor(sorted.length * 0.95)] ?? NaN,
      worstFrameMs: sorted.at(-1) ?? NaN,
      longFrames: long,
    };
  });
}
