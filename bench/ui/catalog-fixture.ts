/**
 * Many backups in a catalog, for the Backups list bench and tests: catalog rows as a
 * destination's manifests would give them (several projects, one every few hours, a mix
 * of verification states), written straight into the catalog — the list reads the
 * catalog, and creating 5,000 real archives would measure the backup, not the list.
 */
import { createHash } from 'node:crypto';
import type { Runtime } from '../../src/engine/jobs/runtime.js';

const PROJECTS = ['shop-prod', 'shop-staging', 'analytics', 'crm-eu', 'crm-us'];

function backupId(at: Date, i: number): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
  // bkp_YYYYMMDDTHHMMSSmmmZ_xxxxxxxx: the time to milliseconds, then 8 hex digits.
  const hex = createHash('sha256').update(String(i)).digest('hex').slice(0, 8);
  return `bkp_${stamp.slice(0, 8)}T${stamp.slice(9, 18)}Z_${hex}`;
}

/** Writes `count` backups of `destinationId` into the catalog, newest at `newest`. */
export function seedCatalogBackups(
  runtime: Runtime,
  destinationId: string,
  count: number,
  newest = new Date('2026-11-29T12:00:00Z'),
): void {
  const db = runtime.catalog;
  for (let i = 0; i < count; i++) {
    const at = new Date(newest.getTime() - i * 3 * 3600_000);
    const id = backupId(at, i);
    db.backups.upsert({
      destinationId,
      id,
      firebaseProjectId: PROJECTS[i % PROJECTS.length]!,
      databaseId: '(default)',
      createdAt: at.toISOString(),
      archiveKey: `${id}/archive.fbk`,
      manifestKey: `${id}/manifest.json`,
      counts: { 'firestore.documents': 1000 + ((i * 37) % 5000) },
      bytes: 1_000_000 + ((i * 7919) % 9_000_000),
    });
  }
}
