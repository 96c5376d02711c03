/**
 * "Browsing a collection of a 100,000-document backup shows its first page in < 2 s"
 * (issue #8). The backup is crafted straight into a local destination (the archive format
 * as a backup writes it; making it from the emulator would measure the backup), then
 * read into the catalog with backups.refresh. Timed from the page: the backup's
 * collections, then the first page of the big one, on a cold browse index (the first
 * browse reads and indexes the archive once).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openDestination } from '../../src/engine/storage/index.js';
import type { MasterKey } from '../../src/engine/keys/master-key.js';
import type { FirestoreDocumentRecord } from '../../src/shared/firestore.js';
import { craftBackup } from '../../test/helpers/craft-backup.js';
import type { App } from '../../test/browser/harness.js';
import { callFromPage } from './page-call.js';

function documents(n: number): FirestoreDocumentRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `events/e${String(i).padStart(7, '0')}`,
    createTime: '2026-11-28T12:00:00.123456789Z',
    updateTime: '2026-11-28T12:00:01.000000001Z',
    fields: {
      name: { stringValue: `event ${i}` },
      n: { integerValue: String(i) },
      at: { timestampValue: '2026-11-28T12:00:00.123456789Z' },
      score: { doubleValue: i / 7 },
    },
  }));
}

export interface BrowseFixture {
  destinationId: string;
  backupId: string;
}

export async function craftBigBackup(
  app: App,
  key: MasterKey,
  count: number,
): Promise<BrowseFixture> {
  const url = path.join(app.home, 'big-backups');
  const destinationId = app.runtime.catalog.destinations.upsert({ name: 'big', url }).id;
  const { id } = await craftBackup(await openDestination(url, {}), key, documents(count), {
    project: 'demo-big',
  });
  return { destinationId, backupId: id };
}

export async function firstPageMs(
  page: Page,
  f: BrowseFixture,
): Promise<{ ms: number; shown: number }> {
  const ref = { destinationId: f.destinationId, backupId: f.backupId };
  const refreshed = await callFromPage(page, 'backups.refresh', { destinationId: f.destinationId });
  if (!refreshed.result.ok) throw new Error(refreshed.result.error.message);
  const collections = await callFromPage<{ collections: { path: string }[] }>(
    page,
    'backups.collections',
    ref,
  );
  if (!collections.result.ok) throw new Error(collections.result.error.message);
  const first = await callFromPage<{ documents: unknown[] }>(page, 'backups.documents', {
    ...ref,
    collection: 'events',
    limit: 100,
  });
  if (!first.result.ok) throw new Error(first.result.error.message);
  return { ms: collections.ms + first.ms, shown: first.result.value.documents.length };
}
