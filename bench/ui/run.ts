/**
 * `npm run bench ui`: the renderer in Debian's Chromium on the real web mode (issue #8).
 * Run as its own process by bench/run.ts (this code needs the DOM types, see
 * test/browser/tsconfig.json); prints a table and one FB_UI_BENCH=<json> line of results.
 */
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { launchChromium, openApp, startApp, chromiumMissing } from '../../test/browser/harness.js';
import { rendererForTests } from '../../test/browser/renderer-build.js';
import type { BenchLine } from '../lib.js';
import { INITIAL_BUNDLE_BUDGET, initialBundle, totalGzip } from './bundle.js';
import { filterTimes, screenTimes, seedList } from './backups-list.js';
import { showScreen } from '../../test/browser/screens.js';
import { craftBigBackup, firstPageMs } from './browse.js';
import { firstScreenTimes, percentile } from './first-screen.js';

const RUNS = Number(process.env.BENCH_UI_RUNS ?? 10);
const LIST_BACKUPS = 5000;
const BROWSE_DOCUMENTS = Number(process.env.BENCH_UI_BROWSE_DOCUMENTS ?? 100_000);

async function main(): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  const renderer = await rendererForTests();
  if (!renderer) throw new Error('No renderer to measure (vite.renderer.config.ts is missing).');
  const bundle = await initialBundle(renderer);
  const gzip = totalGzip(bundle);
  lines.push({
    name: `initial renderer bundle, gzipped (${bundle.map((f) => f.file.replace(/^.*\//, '')).join(', ')})`,
    value: gzip / 1024,
    unit: 'KiB',
    target: `< ${INITIAL_BUNDLE_BUDGET / 1024} KiB`,
    pass: gzip < INITIAL_BUNDLE_BUDGET,
  });
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const key = MasterKey.generate();
  const app = await startApp({ keyring: new Keyring(key) });
  const browser = await launchChromium();
  try {
    const times = await firstScreenTimes(browser, app, { runs: RUNS, title: 'Dashboard' });
    const p50 = percentile(times, 50);
    const worst = Math.max(...times);
    lines.push({
      name: `first screen usable after navigation start, p50 of ${RUNS} cold loads`,
      value: p50,
      unit: 'ms',
      target: '< 1500 ms',
      pass: p50 < 1500,
    });
    lines.push({ name: 'first screen usable, slowest load', value: worst, unit: 'ms' });

    seedList(app, LIST_BACKUPS);
    const { page } = await openApp(browser, app);
    const filters = await filterTimes(page, LIST_BACKUPS);
    const filterP95 = percentile(filters.ms, 95);
    // The screen filters its loaded list in memory (src/shared/backup-filters.ts); this is
    // the server-side search a filter change costs when it asks the engine instead.
    lines.push({
      name: `backups list of ${LIST_BACKUPS}: backups.search from the page, p95 of ${filters.ms.length} filter changes`,
      value: filterP95,
      unit: 'ms',
    });

    await showScreen(page, { name: 'backups', title: 'Backups' });
    await page.getByRole('list', { name: 'Backups' }).getByRole('button').first().waitFor();
    const screen = await screenTimes(page);
    lines.push({
      name: `Backups screen with ${LIST_BACKUPS}: a filter typed until the list shows it, worst of ${screen.filterMs.length}`,
      value: Math.max(...screen.filterMs),
      unit: 'ms',
      target: '< 100 ms',
      pass: Math.max(...screen.filterMs) < 100,
    });
    const { scroll } = screen;
    lines.push({
      name: `Backups screen scrolled end to end (${scroll.frames} frames at ${scroll.intervalMs.toFixed(1)} ms, p95 ${scroll.p95FrameMs.toFixed(1)} ms, worst ${scroll.worstFrameMs.toFixed(1)} ms): dropped frames`,
      value: scroll.dropped,
      unit: 'frames',
      target: '0',
      pass: scroll.dropped === 0,
    });
    lines.push({
      name: `long frames (> 50 ms) while scrolling, of which JavaScript ${scroll.longFrames.scriptMs.toFixed(0)} ms and style + layout ${scroll.longFrames.styleLayoutMs.toFixed(0)} ms of ${scroll.longFrames.totalMs.toFixed(0)} ms`,
      value: scroll.longFrames.count,
      unit: 'frames',
    });
    lines.push({
      name: `the same page idle over ${scroll.frames} frames (the machine's own noise): dropped frames`,
      value: scroll.idleDropped,
      unit: 'frames',
    });

    process.stderr.write(`crafting a ${BROWSE_DOCUMENTS}-document backup…\n`);
    const big = await craftBigBackup(app, key, BROWSE_DOCUMENTS);
    const browse = await firstPageMs(page, big);
    lines.push({
      name: `first page (${browse.shown} documents) of a ${BROWSE_DOCUMENTS}-document backup's collection, cold, from the page`,
      value: browse.ms,
      unit: 'ms',
      target: '< 2000 ms',
      pass: browse.ms < 2000,
    });
    const again = await firstPageMs(page, big);
    lines.push({
      name: 'the same first page again (browse index in memory)',
      value: again.ms,
      unit: 'ms',
      target: '< 2000 ms',
      pass: again.ms < 2000,
    });
  } finally {
    await browser.close();
    await app.close();
  }
  return lines;
}

const lines = await main();
for (const l of lines) console.log(`${l.name}: ${l.value.toFixed(1)} ${l.unit}`);
console.log(`FB_UI_BENCH=${JSON.stringify(lines)}`);
