/**
 * The end-to-end scenario of issue #8 in Chromium, on the web mode over the real engine,
 * Google's Firestore emulator and s3rver. The steps run in order and share one app.
 *
 * Every step goes through the screens; the catalog and the destinations are read
 * directly only to check what the screens did.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { beforeAll, expect, inject, it } from 'vitest';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { demoShop, writeRaw } from '../../src/engine/sources/firestore/testing/seed.js';
import { readAllRaw, seedDocuments, testProject } from '../helpers/firestore-seed.js';
import type {} from '../setup/global-setup.js'; // declares inject('firestoreEmulatorHost')
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';
import { blocking, scanAccessibility } from './axe.js';
import { appInChromium, describeBrowser, openApp } from './harness.js';
import { SCREENS, showScreen, waitForScreen } from './screens.js';
import { saveScreenshot } from './screenshots.js';

const firestoreHost = inject('firestoreEmulatorHost');
const s3Endpoint = inject('s3Endpoint');

const SOURCE_DOCUMENTS = demoShop('projects/x/databases/(default)/documents', 20).length;

async function countDocuments(host: string, projectId: string): Promise<number> {
  const conn = await openFirestore({ projectId, emulatorHost: host });
  try {
    return (await readAllRaw(conn)).size;
  } finally {
    await conn.close();
  }
}

/** The Backups screen with the one backup of `project` open in its detail. */
async function openBackup(page: Page, project: string) {
  await showScreen(page, { name: 'backups', title: 'Backups' });
  await page
    .getByRole('list', { name: 'Backups' })
    .getByRole('button', { name: new RegExp(project) })
    .click({ timeout: 30_000 });
  const detail = page.getByRole('region', { name: 'Backup detail' });
  await detail.waitFor();
  return detail;
}

/** Fills and submits the Projects screen's form for a project in the emulator. */
async function addEmulatorProject(page: Page, name: string, id: string, host: string) {
  await showScreen(page, { name: 'projects', title: 'Projects' });
  const form = page.getByRole('form', { name: 'Add a project' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Firebase project id').fill(id);
  await form.getByLabel('The Firestore emulator on this machine').check();
  await form.getByLabel('Emulator address').fill(host);
  await form.getByRole('button', { name: 'Add project' }).click();
  await page
    .getByRole('list', { name: 'Projects' })
    .getByRole('listitem', { name })
    .waitFor({ timeout: 30_000 });
}

/** Flips one byte in the middle of the backup's archive as s3rver stores it. */
async function flipAByte(endpoint: string, prefix: string): Promise<void> {
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: prefix }));
    const archive = (listed.Contents ?? [])
      .filter((o) => o.Key?.endsWith('.fbk'))
      .sort((a, b) => (b.Size ?? 0) - (a.Size ?? 0))[0];
    if (!archive?.Key)
      throw new Error(`no archive under ${prefix}: ${JSON.stringify(listed.Contents)}`);
    const got = await s3.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: archive.Key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await s3.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: archive.Key, Body: bytes }));
  } finally {
    s3.destroy();
  }
}

describeBrowser('end to end in Chromium: the app over the engine, the emulator and s3rver', () => {
  if (!firestoreHost || !s3Endpoint) {
    // Locally, without Java for the emulator, say so and skip; in CI that is a broken set-up.
    const why = 'needs the Firestore emulator and s3rver (see the warnings above)';
    if (process.env.CI === 'true')
      it(`${why}, which CI must start (.ci/run)`, () => {
        throw new Error(`The end-to-end run ${why}.`);
      });
    else it.skip(`SKIPPED: ${why}`, () => {});
    return;
  }
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
  });
  // s3rver's account is typed into the Destinations form: the secret is kept in the
  // app's SecretStore (the app's environment has no AWS credentials).
  const web = appInChromium();
  beforeAll(async () => {
    ({ page } = await openApp(web.browser, web.app));
  });

  it('adds the emulator project on the Projects screen, and its connection test passes', async () => {
    await addEmulatorProject(page, 'Shop (emulator)', sourceProject, firestoreHost);
    const card = page.getByRole('list', { name: 'Projects' }).getByRole('listitem', {
      name: 'Shop (emulator)',
    });
    await card.getByRole('button', { name: 'Test connection to Shop (emulator)' }).click();
    await expect
      .poll(() => card.getByRole('status').textContent(), { timeout: 30_000 })
      .toMatch(/Connected in \d+ ms\. Collections: .*users/);
    projectId = web.app.runtime.catalog.projects.findByName('Shop (emulator)')!.id;
  });

  it('adds an S3 destination (s3rver) on the Destinations screen, and its probe passes', async () => {
    await showScreen(page, { name: 'destinations', title: 'Destinations' });
    await page.getByLabel('Kind').selectOption('s3');
    const form = page.getByRole('form', { name: 'Add a destination' });
    await form.getByLabel('Name', { exact: true }).fill('S3 (s3rver)');
    await form.getByLabel('Location').fill(`s3://${TEST_BUCKET}/${prefix}`);
    await form.getByLabel('Endpoint', { exact: true }).fill(s3Endpoint);
    await form.getByLabel('Region', { exact: true }).fill('us-east-1');
    await form.getByLabel('Access key ID', { exact: true }).fill(S3RVER_CREDENTIALS.accessKeyId);
    await form
      .getByLabel('Secret access key', { exact: true })
      .fill(S3RVER_CREDENTIALS.secretAccessKey);
    await form.getByRole('button', { name: 'Test', exact: true }).click();
    await expect
      .poll(() => form.textContent(), { timeout: 30_000 })
      .toMatch(/Test passed: FireBackup wrote, read back and deleted a test file/);
    await form.getByRole('button', { name: 'Add destination' }).click();
    await page
      .getByRole('list', { name: 'Destinations' })
      .getByRole('listitem', { name: 'S3 (s3rver)' })
      .waitFor();
    const saved = web.app.runtime.catalog.destinations.findByName('S3 (s3rver)')!;
    destinationId = saved.id;
    // The secret is in the SecretStore under the destination's id, not in the catalog.
    expect(Object.keys(saved.options)).not.toContain('secretAccessKey');
    expect(await web.app.runtime.secrets.names()).toEqual([`s3-secret-key:${destinationId}`]);
    await expect
      .poll(() => page.getByRole('listitem', { name: 'S3 (s3rver)' }).textContent())
      .toMatch(/Secret access keySaved \(encrypted, never shown\)/);
  });

  it('backs up now from a Dashboard project card and watches progress (phase, counts), then the Dashboard refreshes', async () => {
    await showScreen(page, { name: 'dashboard', title: 'Dashboard' });
    const row = page
      .getByRole('region', { name: 'Projects' })
      .getByRole('row', { name: /Shop \(emulator\)/ });
    await row.waitFor({ timeout: 30_000 });
    // Every text the progress's status line and item count show, as they change.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => {
        const section = document.querySelector('section[aria-label="Backup progress"]');
        if (!section) return;
        const text = `${section.querySelector('[role="status"]')?.textContent ?? ''} | ${section.querySelector('dd')?.textContent ?? ''}`;
        if (seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const button = row.getByRole('button', { name: 'Back up Shop (emulator) now' });
    await button.focus(); // reachable by keyboard, started with Enter
    await page.keyboard.press('Enter');
    const progress = row.getByRole('region', { name: 'Backup progress' });
    await expect
      .poll(() => progress.getByRole('status').textContent(), { timeout: 60_000 })
      .toBe('Done');
    const seen = await page.evaluate(
      () => (window as unknown as { progressSeen: string[] }).progressSeen,
    );
    // It was seen running in a named phase, then done with every document counted.
    expect(
      seen.some((t) => /^Running: \w+/.test(t)),
      seen.join('\n'),
    ).toBe(true);
    expect(seen.at(-1)).toMatch(new RegExp(`^Done \\| ${SOURCE_DOCUMENTS}\\b`));
    expect(new Set(seen).size).toBeGreaterThan(1);
    expect(await progress.getByRole('button', { name: /Cancel/ }).count()).toBe(0);
    // The Dashboard followed the finished run: the project now has a good backup.
    await expect
      .poll(() => row.locator('.health').getAttribute('data-health'), { timeout: 30_000 })
      .toBe('ok');
    const runs = web.app.runtime.catalog.runs.list({ projectId, kind: 'backup' });
    expect(runs.map((r) => [r.status, r.destinationId])).toEqual([['succeeded', destinationId]]);
  });

  it('follows a notification’s route in the URL fragment: History opens on that run', async () => {
    const [run] = web.app.runtime.catalog.runs.list({ projectId, kind: 'backup' });
    // What the desktop app does on a notification's click (a same-document fragment change).
    await page.evaluate((route) => (window.location.hash = route), `#/history?run=${run!.id}`);
    await page.getByRole('heading', { level: 1, name: 'History' }).waitFor();
    const opened = page.getByRole('region', { name: 'The run you opened' });
    await expect.poll(() => opened.locator(`tr[data-run="${run!.id}"]`).count()).toBe(1);
    expect(await opened.locator('tr').first().getAttribute('aria-current')).toBe('true');
    // The fragment is cleared, so the same notification clicked again is seen again.
    expect(await page.evaluate(() => window.location.hash)).toBe('');
  });

  it('sees the backup in the Backups list and opens it', async () => {
    await showScreen(page, { name: 'backups', title: 'Backups' });
    const row = page
      .getByRole('list', { name: 'Backups' })
      .getByRole('button', { name: new RegExp(sourceProject) });
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(() => row.count()).toBe(1);
    await row.click();
    await page.getByRole('region', { name: 'Backup detail' }).waitFor();
  });
  it('sees the project and the backup on the Dashboard, and its charts', async () => {
    await showScreen(page, { name: 'dashboard', title: 'Dashboard' });
    const projects = page.getByRole('region', { name: 'Projects' });
    await projects.getByRole('rowheader', { name: 'Shop (emulator)' }).waitFor({ timeout: 30_000 });
    const storage = page.getByRole('region', { name: 'Storage' });
    await storage.getByRole('rowheader', { name: 'S3 (s3rver)' }).waitFor();
    const charts = page.getByRole('region', { name: 'Charts' });
    await charts.locator('figure svg').first().waitFor({ timeout: 30_000 });
    expect(await charts.locator('figure').count()).toBeGreaterThan(0);
  });

  it('browses a document and sees its exact typed values (nanosecond timestamp, reference, bytes, geo point, int64)', async () => {
    await openBackup(page, sourceProject);
    const browser = page.getByRole('region', { name: 'Document browser' });
    await browser
      .getByRole('list', { name: 'Collections' })
      .getByRole('button', { name: /^users/ })
      .click({ timeout: 30_000 });
    await browser
      .getByRole('list', { name: 'Documents of users' })
      .getByRole('button', { name: 'zoë', exact: true })
      .click({ timeout: 30_000 });
    const doc = page.getByRole('region', { name: 'Document users/zoë' });
    await doc.waitFor({ timeout: 30_000 });
    const value = (field: string) => doc.locator(`tr[data-field="${field}"] td`).last();
    expect(await doc.locator('tr[data-field="joined"]').getAttribute('data-type')).toBe(
      'timestamp',
    );
    // Seeded with nanoseconds 123456789; Firestore keeps microseconds, and the screen
    // shows exactly what was stored, with all nine digits.
    expect(await value('joined').textContent()).toContain('2023-11-14T22:13:20.123456000Z');
    expect(await value('maxInt').textContent()).toContain('9223372036854775807');
    expect(await value('minInt').textContent()).toContain('-9223372036854775808');
    expect(await doc.locator('tr[data-field="home"]').getAttribute('data-type')).toBe('geopoint');
    expect(await value('home').textContent()).toContain('48.8566');
    expect(await doc.locator('tr[data-field="favourite"]').getAttribute('data-type')).toBe(
      'reference',
    );
    expect(await value('favourite').textContent()).toContain('products/coffee');
    // Bytes: a product's thumbnail, opened through the reference.
    await doc.getByRole('button', { name: /Open referenced document .*products\/coffee/ }).click();
    const product = page.getByRole('region', { name: 'Document products/coffee' });
    await product.waitFor({ timeout: 30_000 });
    expect(await product.locator('tr[data-field="thumbnail"]').getAttribute('data-type')).toBe(
      'bytes',
    );
    await saveScreenshot(page, 'backup-browser-light');
  });

  it('creates a schedule from the cron editor (preset, description, next five runs)', async () => {
    await showScreen(page, { name: 'schedules', title: 'Schedules' });
    await page.getByRole('button', { name: 'New schedule' }).click();
    const form = page.getByRole('form', { name: 'New schedule' });
    await form.getByLabel('Name').fill('Nightly');
    await form
      .getByRole('combobox', { name: /^Project/ })
      .selectOption({ label: 'Shop (emulator)' });
    await form
      .getByRole('combobox', { name: /^Destination/ })
      .selectOption({ label: 'S3 (s3rver)' });
    await form
      .getByRole('combobox', { name: /^Preset/ })
      .selectOption({ label: 'Every day at 02:00' });
    expect(await form.getByLabel('Cron expression').inputValue()).toBe('0 2 * * *');
    await form.getByLabel('Time zone').fill('Europe/Paris');
    await expect
      .poll(
        () => form.getByRole('list', { name: 'Next five runs' }).getByRole('listitem').count(),
        { timeout: 30_000 },
      )
      .toBe(5);
    expect(await form.getByText(/02:00/).first().textContent()).toBeTruthy();
    await saveScreenshot(page, 'schedule-editor-light');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByRole('button', { name: 'Edit Nightly' }).waitFor({ timeout: 30_000 });
    const saved = web.app.runtime.catalog.schedules.list().find((x) => x.name === 'Nightly');
    expect(saved).toMatchObject({
      cron: '0 2 * * *',
      timeZone: 'Europe/Paris',
      projectId,
      destinationId,
    });
  });
  it('restores a dry run (plan with counts), then into another project, checked in the emulator', async () => {
    const targetProject = testProject('e2e-dst');
    await addEmulatorProject(page, 'Restore target', targetProject, firestoreHost);
    await showScreen(page, { name: 'backups', title: 'Backups' });
    await page
      .getByRole('list', { name: 'Backups' })
      .getByRole('button', { name: new RegExp(sourceProject) })
      .click();
    await page
      .getByRole('region', { name: 'Backup detail' })
      .getByRole('button', { name: 'Restore…' })
      .click();
    await waitForScreen(page, 'Restore');
    const next = page.getByRole('button', { name: 'Next', exact: true });
    await expect
      .poll(() => page.getByLabel('Backup to restore').inputValue())
      .toContain(destinationId);
    await next.click(); // the backup, preselected from the Backups screen
    await page.getByRole('group', { name: /Root collections/ }).waitFor();
    // The sources the backup holds, all ticked (this one holds Firestore only).
    const sources = page.getByRole('group', { name: /^Sources/ });
    await expect
      .poll(() => sources.getByRole('checkbox', { name: /Firestore documents/ }).isChecked())
      .toBe(true);
    expect(await sources.getByRole('checkbox').count()).toBe(1);
    await next.click(); // every collection
    await page.getByLabel('A project (the same one, or another)').check();
    await page
      .getByLabel('Target project')
      .selectOption({ label: `Restore target (${targetProject})` });
    await next.click();
    await page
      .getByRole('group', { name: 'Restore mode' })
      .getByRole('radio', { name: /^create\b/ })
      .check();
    await next.click();
    await page.getByRole('button', { name: 'Run the dry run' }).click();
    const plan = page.getByRole('region', { name: 'Restore plan' });
    await plan.waitFor({ timeout: 60_000 });
    expect(await plan.locator('td[data-count="Create"]').textContent()).toBe(
      String(SOURCE_DOCUMENTS),
    );
    expect(await plan.locator('td[data-count="Delete"]').textContent()).toBe('0');
    // Per source: what the backup holds and what would be created.
    expect(await plan.locator('tr[data-source="firestore"] td').allTextContents()).toEqual([
      `${SOURCE_DOCUMENTS.toLocaleString('en-US')} documents`,
      SOURCE_DOCUMENTS.toLocaleString('en-US'),
      '0',
      '0',
      '0',
    ]);
    await saveScreenshot(page, 'restore-plan-light');
    // The dry run wrote nothing.
    expect(await countDocuments(firestoreHost, targetProject)).toBe(0);
    await next.click();
    await page.getByLabel('Target project id').fill(targetProject);
    await page.getByRole('button', { name: 'Restore now' }).click();
    const progress = page.getByRole('region', { name: 'Restore progress' });
    await expect
      .poll(() => progress.getByRole('status').textContent(), { timeout: 60_000 })
      .toBe('Done');
    await page.getByRole('region', { name: 'Restore report' }).waitFor();
    expect(await countDocuments(firestoreHost, targetProject)).toBe(SOURCE_DOCUMENTS);
  });

  it('verifies the backup from the app', async () => {
    const detail = await openBackup(page, sourceProject);
    await detail.getByRole('button', { name: 'Verify now' }).click();
    const progress = detail.getByRole('region', { name: 'Verify progress' });
    await expect
      .poll(() => progress.getByRole('status').textContent(), { timeout: 60_000 })
      .toBe('Done');
  });

  it('shows a clear error on screen for a tampered archive (a byte flipped in s3rver)', async () => {
    await flipAByte(s3Endpoint, prefix);
    const detail = page.getByRole('region', { name: 'Backup detail' });
    await detail.getByRole('button', { name: 'Verify now' }).click();
    const progress = detail.getByRole('region', { name: 'Verify progress' });
    await expect
      .poll(() => progress.getByRole('status').textContent(), { timeout: 60_000 })
      .toBe('Failed');
    const alert = progress.getByRole('alert');
    expect(await alert.getAttribute('data-error-code')).toBe('INTEGRITY');
    // Which backup, what it means, what to do.
    expect(await alert.textContent()).toMatch(
      /1 of 1 backups failed verification \(bkp_\w+\)\. They are marked bad .*make a new backup/,
    );
    await saveScreenshot(page, 'tampered-archive-light');
  });

  it('cancels a running backup from the Projects screen (destination chosen), and nothing is left behind', async () => {
    // A project big enough that its backup is still running when Cancel is pressed.
    const bigProject = testProject('e2e-big');
    await seedDocuments(firestoreHost, bigProject, {
      count: 8000,
      withSubcollections: true,
      docBytes: 1500,
    });
    await addEmulatorProject(page, 'Big shop', bigProject, firestoreHost);
    const bigId = web.app.runtime.catalog.projects.findByName('Big shop')!.id;
    // A second destination, a local folder, so the card offers a choice.
    const folder = await mkdtemp(path.join(tmpdir(), 'fb-e2e-cancel-'));
    web.app.runtime.catalog.destinations.upsert({ name: 'Local folder', url: folder });
    await showScreen(page, { name: 'destinations', title: 'Destinations' });
    await showScreen(page, { name: 'projects', title: 'Projects' });
    const card = page
      .getByRole('list', { name: 'Projects' })
      .getByRole('listitem', { name: 'Big shop' });
    await card
      .getByRole('combobox', { name: 'Destination for Big shop' })
      .selectOption({ label: 'Local folder' });
    await card.getByRole('button', { name: 'Back up Big shop now' }).click();
    const progress = card.getByRole('region', { name: 'Backup progress' });
    // Cancel once documents are being read, as a user who changed their mind would.
    await expect
      .poll(() => progress.locator('dd').first().textContent(), { timeout: 60_000 })
      .toMatch(/^[1-9]/);
    await progress.getByRole('button', { name: 'Cancel backup' }).click();
    await expect
      .poll(() => progress.getByRole('status').textContent(), { timeout: 60_000 })
      .toBe('Cancelled; nothing partial was kept');
    const runs = web.app.runtime.catalog.runs.list({ projectId: bigId, kind: 'backup' });
    expect(runs.map((r) => r.status)).toEqual(['cancelled']);
    // Nothing in the folder: no archive, no manifest, no temporary.
    expect(await readdir(folder)).toEqual([]);
    expect(web.app.runtime.catalog.backups.list({ firebaseProjectId: bigProject })).toEqual([]);
    // The button is back, for a later try.
    expect(await card.getByRole('button', { name: 'Back up Big shop now' }).isEnabled()).toBe(true);
  });

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
