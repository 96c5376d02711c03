/**
 * `npm run icons`: writes the app and tray icons as SVG sources in resources/ and renders
 * each to PNG with Debian's Chromium in headless mode (no image library needed). Tray
 * icons exist per state (idle, running, failed, paused) and per theme: a dark glyph for a
 * light menu bar and a light glyph for a dark one. Rerun after changing a drawing here.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAY_STATES, type Theme, type TrayState } from '../src/main/tray-model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resources = path.join(root, 'resources');

const svg = (size: number, body: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 32 32">${body}</svg>\n`;

/** The app icon: a shield (protection) with a stacked-disk mark (backups), on orange. */
export const APP_ICON = svg(
  512,
  `<rect x="1" y="1" width="30" height="30" rx="7" fill="#f57c00"/>` +
    `<path d="M16 5l9 3.5v6.5c0 6-4 10-9 12-5-2-9-6-9-12V8.5z" fill="#fff"/>` +
    `<ellipse cx="16" cy="12" rx="5" ry="2" fill="#f57c00"/>` +
    `<path d="M11 12v7c0 1.1 2.2 2 5 2s5-.9 5-2v-7c0 1.1-2.2 2-5 2s-5-.9-5-2z" fill="#f57c00"/>`,
);

const GLYPH: Record<Theme, string> = { light: '#1f1f1f', dark: '#f2f2f2' };

/** A shield outline, with a mark for the state. */
export function trayIcon(state: TrayState, theme: Theme): string {
  const c = GLYPH[theme];
  const shield = `<path d="M16 3l11 4v8c0 7.5-5 12.5-11 14.5C10 27.5 5 22.5 5 15V7z" fill="none" stroke="${c}" stroke-width="2.5" stroke-linejoin="round"/>`;
  const mark: Record<TrayState, string> = {
    idle: `<path d="M11 16l3.5 3.5L21 13" fill="none" stroke="${c}" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>`,
    running: `<path d="M16 10v9m-4-4l4 4 4-4" fill="none" stroke="${c}" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>`,
    paused: `<path d="M13 11v9m6-9v9" stroke="${c}" stroke-width="2.8" stroke-linecap="round"/>`,
    failed: `<circle cx="24" cy="24" r="7.5" fill="#d32f2f"/><path d="M24 19.5v5" stroke="#fff" stroke-width="2.4" stroke-linecap="round"/><circle cx="24" cy="28" r="1.3" fill="#fff"/>`,
  };
  return svg(32, shield + mark[state]);
}

async function render(svgFile: string, pngFile: string, size: number, work: string): Promise<void> {
  execFileSync(
    process.env.CHROMIUM ?? 'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--user-data-dir=${work}`,
      '--default-background-color=00000000',
      `--window-size=${size},${size}`,
      `--screenshot=${pngFile}`,
      `file://${svgFile}`,
    ],
    { stdio: 'ignore' },
  );
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'fb-icons-'));
  try {
    await mkdir(path.join(resources, 'tray'), { recursive: true });
    const jobs: [svgText: string, base: string, size: number][] = [
      [APP_ICON, path.join(resources, 'icon'), 512],
      ...TRAY_STATES.flatMap((state) =>
        (['light', 'dark'] as const).map(
          (theme) =>
            [
              trayIcon(state, theme),
              path.join(resources, 'tray', `tray-${state}-${theme}`),
              32,
            ] as [string, string, number],
        ),
      ),
    ];
    for (const [text, base, size] of jobs) {
      // The SVG is drawn at the PNG's size: Chromium screenshots it 1:1.
      const sized = text.replace(/width="\d+" height="\d+"/, `width="${size}" height="${size}"`);
      await writeFile(`${base}.svg`, sized);
      await render(`${base}.svg`, `${base}.png`, size, work);
      console.log(`${path.relative(root, base)}.png`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
