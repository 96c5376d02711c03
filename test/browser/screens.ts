/**
 * The screens the browser tests visit, listed once for the accessibility scan, the
 * screenshots and the UI bench: how to reach each one and what shows it is ready.
 * Before the renderer exists, the web mode's placeholder page is the one screen.
 */
import type { Page } from 'playwright-core';
import { rendererConfig } from './renderer-build.js';

export interface Screen {
  name: string;
  /** Path opened in the app (the token is added by openApp). */
  route: string;
  /** A selector that is visible once the screen is usable. */
  ready: string;
}

const PLACEHOLDER: Screen[] = [{ name: 'placeholder', route: '/', ready: 'h1' }];

/** The app's screens (src/renderer/features/*), as their routes land. */
const APP_SCREENS: Screen[] = [{ name: 'home', route: '/', ready: 'main h1' }];

export const SCREENS: Screen[] = rendererConfig() ? APP_SCREENS : PLACEHOLDER;

/** Opens a screen by its route in an already opened app page and waits until it is usable. */
export async function showScreen(page: Page, screen: Screen): Promise<void> {
  const url = new URL(page.url());
  if (url.pathname !== screen.route) {
    await page.goto(`${url.origin}${screen.route}${url.hash}`);
  }
  await page.locator(screen.ready).first().waitFor({ state: 'visible', timeout: 15_000 });
}
