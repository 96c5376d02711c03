import path from 'node:path';
import type { DestinationRecord } from '../../catalog/projects.js';
import { indexCacheFor } from '../../browse/index-cache.js';
import { IndexStore } from '../../browse/index-store.js';
import type { BackupIndex } from '../../browse/backup-index.js';
import { resolveBackup, type ResolvedBackup } from '../../operations/resolve-backup.js';
import type { HandlerContext } from './context.js';

/** A backup named by the contract (catalog destination + backup id), found in storage. */
export async function resolveRef(
  { runtime }: HandlerContext,
  destinationId: string,
  backupId: string,
): Promise<{ destination: DestinationRecord; backup: ResolvedBackup }> {
  const destination = runtime.catalog.destinations.get(destinationId);
  const backend = await runtime.openDestination(destination);
  return { destination, backup: await resolveBackup(backupId, backend) };
}

/**
 * The runtime's browse cache; indexes are saved beside the catalog (browse-index/), so
 * every front end on this machine that shares the catalog shares them too.
 */
function cacheOf({ runtime, keyring }: HandlerContext) {
  const file = runtime.catalog.db.name;
  const store =
    file && file !== ':memory:'
      ? new IndexStore(path.join(path.dirname(file), 'browse-index'))
      : undefined;
  return indexCacheFor(runtime, keyring, store);
}

/** The browse index of a backup, built once per backup and shared by every screen. */
export function indexOf(
  context: HandlerContext,
  destinationId: string,
  backupId: string,
): Promise<BackupIndex> {
  return cacheOf(context).get(
    `${destinationId}/${backupId}`,
    async () => (await resolveRef(context, destinationId, backupId)).backup,
  );
}

/** Indexes (and saves) a backup just made, holding no values: see BackupIndexCache.prebuild. */
export function prebuildIndex(
  context: HandlerContext,
  destinationId: string,
  backupId: string,
): Promise<void> {
  return cacheOf(context).prebuild(
    `${destinationId}/${backupId}`,
    async () => (await resolveRef(context, destinationId, backupId)).backup,
  );
}

export function forgetIndex(
  context: HandlerContext,
  destinationId: string,
  backupId: string,
): void {
  cacheOf(context).forget(`${destinationId}/${backupId}`);
}
