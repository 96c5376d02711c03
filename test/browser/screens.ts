/**
 * The screens the browser tests visit, listed once for the accessibility scan, the
 * screenshots and the UI bench. The app navigates in its store (src/renderer/store/nav.ts),
 * not by URL: a screen is reached with its button in the main navigation and is ready
 * when the shell's <h1> shows its title. Before the renderer exists, the web mode's
 * placeholder page is the one screen.
 */
import type { Page } from 'playwright-core';
import { rendererConfig } from './renderer-build.js';

export interface Screen {
  /** The screen's id (src/renderer/store/nav.ts), also the screenshot's file name. */
  name: string;
  /** Its title: the navigation entry and the page's <h1>. */
  title: string;
}

const PLACEHOLDER: Screen[] = [{ name: 'placeholder', title: 'FireBackup' }];

/** The app's main screens (src/renderer/screens.tsx), in navigation order. */
const APP_SCREENS: Screen[] = [
  { name: 'dashboard', title: 'Dashboard' },
  { name: 'backups', title: 'Backups' },
  { name: 'restore', title: 'Restore' },
  { name: 'schedules', title: 'Schedules' },
  { name: 'history', title: 'History' },
  { name: 'projects', title: 'Projects' },
  { name: 'destinations', title: 'Destinations' },
  { name: 'keys', title: 'Keys' },
  { name: 'settings', title: 'Settings' },
  { name: 'team', title: 'Team' },
];

export const SCREENS: Screen[] = rendererConfig() ? APP_SCREENS : PLACEHOLDER;

/** The page's main heading once it reads `title`: the first screen, or one navigated to. */
export async function waitForScreen(page: Page, title: string, timeout = 15_000): Promise<void> {
  await page
    .locator('h1')
    .filter({ hasText: title })
    .first()
    .waitFor({ state: 'visible', timeout });
}

/** Goes to a screen through the main navigation (as a user would) and waits until it shows. */
export async function showScreen(page: Page, screen: Screen): Promise<void> {
  if (screen.name !== 'placeholder') {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: screen.title, exact: true })
      .click();
  }
  await waitForScreen(page, screen.title);
}
