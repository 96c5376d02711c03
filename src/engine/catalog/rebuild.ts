import { toErrorData, type ErrorData } from '../../shared/errors.js';
import type { BackupFacts } from './backups.js';
import type { Catalog } from './catalog.js';
import type { DestinationRecord } from './projects.js';
import { restoreStoredSchedules, type RestoredSchedules } from './schedule-backup.js';

/** Lists what a destination holds (its manifests), as catalog facts. */
export type BackupLister = (destination: DestinationRecord) => Promise<BackupFacts[]>;
/** Reads the schedules a destination keeps (undefined: it keeps none). */
export type ScheduleReader = (destination: DestinationRecord) => Promise<unknown[] | undefined>;

export interface RebuildReport {
  destinations: {
    id: string;
    url: string;
    backups: number;
    added: number;
    removed: number;
    error?: ErrorData;
    /** Schedules brought back from the destination's schedules object. */
    schedules?: RestoredSchedules;
    schedulesError?: ErrorData;
  }[];
}

/**
 * Recreates the catalog's backup rows from storage: for every destination, what its
 * manifests say replaces what the catalog had. A destination that cannot be read keeps
 * its rows (a network blip must not make backups vanish from the list) and is reported.
 * With `readSchedules`, schedules the catalog lacks are brought back from each
 * destination's schedules object. Run history is not kept anywhere else: it cannot be
 * rebuilt.
 */
export async function rebuildCatalog(
  catalog: Catalog,
  list: BackupLister,
  readSchedules?: ScheduleReader,
): Promise<RebuildReport> {
  const report: RebuildReport = { destinations: [] };
  for (const destination of catalog.destinations.list()) {
    try {
      const facts = await list(destination);
      const changes = catalog.backups.replaceForDestination(destination.id, facts);
      const entry: RebuildReport['destinations'][number] = {
        id: destination.id,
        url: destination.url,
        backups: facts.length,
        ...changes,
      };
      if (readSchedules) {
        try {
          const kept = await readSchedules(destination);
          if (kept) entry.schedules = restoreStoredSchedules(catalog, destination.id, kept);
        } catch (error) {
          entry.schedulesError = toErrorData(error);
        }
      }
      report.destinations.push(entry);
    } catch (error) {
      report.destinations.push({
        id: destination.id,
        url: destination.url,
        backups: 0,
        added: 0,
        removed: 0,
        error: toErrorData(error),
      });
    }
  }
  return report;
}
