/**
 * The browser test harness: Debian's Chromium driven by playwright-core (never a
 * downloaded browser, see docs/testing notes in README), on the real web mode
 * (`startWebServer` over a real runtime, the same composition as `firebackup ui`).
 *
 * Chromium missing: locally the browser tests are SKIPPED LOUDLY (a warning and a skipped
 * test that names the reason); in CI (CI=true) that is a failure, since the browser tests
 * are part of what CI must prove. FIREBACKUP_CHROMIUM overrides /usr/bin/chromium.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createApiEvents } from '../../src/engine/api/events.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { startWebServer, type WebServer } from '../../src/cli/web/server.js';
import { rendererForTests } from './renderer-build.js';

export const CHROMIUM_PATH = process.env.FIREBACKUP_CHROMIUM ?? '/usr/bin/chromium';

/** The flags of shared/design/test-infrastructure.md: headless, quiet, no network chatter. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set FIREBACKUP_CHROMIUM)`;
}

/**
 * `describe` for browser tests. Without Chromium: in CI one failing test says why; locally
 * a loud warning and one skipped test that names the reason.
 */
export function describeBrowser(name: string, body: () => void): void {
  const missing = chromiumMissing();
  if (!missing) return void describe(name, body);
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium, which CI must install (.ci/run)', () => {
        throw new Error(missing);
      });
    });
    return;
  }
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n! Browser tests SKIPPED: ${missing}.\n${line}\n`);
  describe(name, () => {
    it.skip(`SKIPPED: ${missing}`, () => undefined);
  });
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

export interface App {
  server: WebServer;
  runtime: Runtime;
  keyring: Keyring;
  /** The FIREBACKUP_HOME this app's catalog lives in. */
  home: string;
  /** The renderer folder served (undefined: the placeholder page). */
  rendererDir: string | undefined;
  /** Every contract method the dispatcher was asked for, in order (what reached the engine's door). */
  calls: string[];
  close(): Promise<void>;
}

/**
 * The web mode as `firebackup ui --no-open --port 0` composes it (src/cli/commands/ui.ts),
 * in-process so tests can seed and inspect the catalog: a real runtime over a sandbox
 * FIREBACKUP_HOME, a fresh key, the shared dispatcher, the built renderer.
 */
export async function startApp(o: { home?: string; keyring?: Keyring } = {}): Promise<App> {
  const home = o.home ?? (await mkdtemp(path.join(tmpdir(), 'fb-e2e-')));
  const keyring = o.keyring ?? new Keyring(MasterKey.generate());
  const runtime = createRuntime({ env: { FIREBACKUP_HOME: home }, keyring });
  const rendererDir = await rendererForTests();
  const env = { ...process.env, FIREBACKUP_HOME: home };
  const dispatch = createDispatcher(createApiHandlers(runtime, keyring, { env }));
  const calls: string[] = [];
  const server = await startWebServer({
    dispatch: (method, input, caller) => {
      calls.push(method);
      return dispatch(method, input, caller);
    },
    events: createApiEvents(runtime),
    ...(rendererDir ? { staticDir: rendererDir } : {}),
  });
  return {
    server,
    runtime,
    keyring,
    home,
    rendererDir,
    calls,
    close: async () => {
      await server.close();
      runtime.close();
    },
  };
}

/** The app and Chromium of one browser test file (see appInChromium). */
export interface BrowserApp {
  readonly app: App;
  readonly browser: Browser;
}

/**
 * The web-mode app and Chromium for the enclosing describe: both started before its tests
 * (beforeAll) and closed after them (afterAll, the browser first). Read `.app` and
 * `.browser` in tests and hooks, not at describe time (they exist once started). What a
 * file sets up before the app (a team server, seeded data) goes in a beforeAll registered
 * before this call; vitest runs after-hooks in reverse, so its afterAll runs after these
 * are closed.
 */
export function appInChromium(o: { chromiumArgs?: string[] } = {}): BrowserApp {
  let app: App | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    app = await startApp();
    browser = await launchChromium(o.chromiumArgs);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is started in beforeAll: read it in a test`);
    return value;
  };
  return {
    get app() {
      return started(app, 'The app');
    },
    get browser() {
      return started(browser, 'Chromium');
    },
  };
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations and page errors seen so far. */
  problems: string[];
}

/**
 * A fresh browser context on the app's address (token in the fragment, as printed), with
 * CSP violations and uncaught page errors collected: a screen that needs an inline script
 * or throws is a failure, not a console line nobody reads.
 */
export async function openApp(
  browser: Browser,
  app: App,
  o: { colorScheme?: 'light' | 'dark'; route?: string } = {},
): Promise<AppPage> {
  const context = await browser.newContext({
    colorScheme: o.colorScheme ?? 'light',
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
      problems.push(`CSP: ${m.text()}`);
  });
  const route = o.route ?? '/';
  await page.goto(`${app.server.origin}${route}#token=${app.server.token}`);
  return { context, page, problems };
}
