/**
 * The end-to-end scenario of issue #8 in Chromium, on the web mode over the real engine,
 * Google's Firestore emulator and s3rver. The steps run in order and share one app.
 *
 * Steps whose screen has not landed yet are `it.todo` with what they will do; their
 * set-up (project, S3 destination, a first backup) is done through the catalog and the
 * contract meanwhile, so the screens that exist are visited with real data.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { demoShop, writeRaw } from '../../src/engine/sources/firestore/testing/seed.js';
import { testProject } from '../helpers/firestore-seed.js';
import type {} from '../setup/global-setup.js'; // declares inject('firestoreEmulatorHost')
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';
import { blocking, scanAccessibility } from './axe.js';
import { describeBrowser, launchChromium, openApp, startApp, type App } from './harness.js';
import { SCREENS, showScreen } from './screens.js';
import { saveScreenshot } from './screenshots.js';

const firestoreHost = inject('firestoreEmulatorHost');
const s3Endpoint = inject('s3Endpoint');

describeBrowser('end to end in Chromium: the app over the engine, the emulator and s3rver', () => {
  if (!firestoreHost || !s3Endpoint) {
    it.skip(`SKIPPED: needs the Firestore emulator and s3rver (see the warnings above)`, () => {});
    return;
  }
  let browser: Browser;
  let app: App;
  let page: Page;
  const sourceProject = testProject('e2e-src');
  const prefix = `e2e-${randomBytes(3).toString('hex')}`;
  let projectId: string;
  let destinationId: string;

  beforeAll(async () => {
    const conn = await openFirestore({ projectId: sourceProject, emulatorHost: firestoreHost });
    try {
      await writeRaw(conn, demoShop(conn.documentsRoot, 20));
    } finally {
      await conn.close();
    }
    // s3rver's account, as a user's environment would give it (never stored in the catalog).
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    app = await startApp();
    browser = await launchChromium();
    ({ page } = await openApp(browser, app));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it.todo('adds the emulator project on the Projects screen, and its connection test passes');
  it.todo('adds an S3 destination (s3rver) on the Destinations screen, and its probe passes');

  it('(set-up until those screens land) a project and an S3 destination in the catalog', () => {
    projectId = app.runtime.catalog.projects.upsert({
      name: 'Shop (emulator)',
      firebaseProjectId: sourceProject,
      emulatorHost: firestoreHost,
    }).id;
    destinationId = app.runtime.catalog.destinations.upsert({
      name: 'S3 (s3rver)',
      url: `s3://${TEST_BUCKET}/${prefix}`,
      options: { endpoint: s3Endpoint, region: 'us-east-1' },
    }).id;
    expect(projectId).toBeTruthy();
  });

  it.todo('backs up now from the app and watches progress (phase, counts, bytes, rate, ETA)');

  it('(set-up until that screen lands) a first backup to s3rver through the contract', async () => {
    // From the page, with the token the app keeps for this tab (as its screens will call).
    const started = await page.evaluate(
      async ([ids]) => {
        const token = sessionStorage.getItem('firebackup.token');
        const r = await fetch('/api/jobs.startBackup', {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(ids),
        });
        return (await r.json()) as { ok: boolean; value?: { jobId: string } };
      },
      [{ projectId, destinationId }] as const,
    );
    expect(started.ok).toBe(true);
    const run = await app.runtime.jobs.get(started.value!.jobId)!.done;
    expect(run.status).toBe('succeeded');
  });

  it.todo('sees the backup in the Backups list and on the Dashboard chart');
  it.todo(
    'browses a document and sees its exact typed values (nanosecond timestamp, reference, bytes, geo point, int64)',
  );
  it.todo('creates a schedule from the cron editor (preset, description, next five runs)');
  it.todo(
    'restores a dry run (plan with counts), then into another project, checked in the emulator',
  );
  it.todo('verifies the backup from the app');
  it.todo('shows a clear error on screen for a tampered archive (a byte flipped in s3rver)');
  it.todo('cancels a running backup from the app, and nothing is left behind');

  it('every screen with data: no serious or critical axe violations, screenshots light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const screen of SCREENS) {
        await showScreen(page, screen);
        expect(blocking(await scanAccessibility(page)), `${screen.name} ${colorScheme}`).toEqual(
          [],
        );
        await saveScreenshot(page, `${screen.name}-${colorScheme}`);
      }
    }
  });
});
