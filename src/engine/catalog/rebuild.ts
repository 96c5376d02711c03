import { toErrorData, type ErrorData } from '../../shared/errors.js';
import type { BackupFacts } from './backups.js';
import type { Catalog } from './catalog.js';
import type { DestinationRecord } from './projects.js';

/** Lists what a destination holds (its manifests), as catalog facts. */
export type BackupLister = (destination: DestinationRecord) => Promise<BackupFacts[]>;

export interface RebuildReport {
  destinations: {
    id: string;
    url: string;
    backups: number;
    added: number;
    removed: number;
    error?: ErrorData;
  }[];
}

/**
 * Recreates the catalog's backup rows from storage: for every destination, what its
 * manifests say replaces what the catalog had. A destination that cannot be read keeps
 * its rows (a network blip must not make backups vanish from the list) and is reported.
 */
export async function rebuildCatalog(catalog: Catalog, list: BackupLister): Promise<RebuildReport> {
  const report: RebuildReport = { destinations: [] };
  for (const destination of catalog.destinations.list()) {
    try {
      const facts = await list(destination);
      const changes = catalog.backups.replaceForDestination(destination.id, facts);
      report.destinations.push({
        id: destination.id,
        url: destination.url,
        backups: facts.length,
        ...changes,
      });
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
