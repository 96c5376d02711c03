import { storedSchedulesFor } from '../catalog/schedule-backup.js';
import type { Catalog } from '../catalog/catalog.js';
import type { DestinationRecord } from '../catalog/projects.js';
import type { Keyring } from '../keys/keyring.js';
import { openDestination, type StorageBackend } from '../storage/index.js';
import { writeSchedulesObject } from './schedules-object.js';

/**
 * Keeps the destination's copy of the schedules that target it current (schedules.fbc),
 * so `catalog rebuild` can bring them back. The catalog is what runs them, so a failure
 * here is reported, not thrown: every front end (CLI, app) says what it means.
 */
export async function keepSchedulesInDestination(
  catalog: Catalog,
  destination: DestinationRecord,
  keyring: Keyring,
  /** How to open it (the runtime's opener adds its stored secret); default: options alone. */
  open: (d: DestinationRecord) => Promise<StorageBackend> = (d) =>
    openDestination(d.url, d.options),
): Promise<{ saved: true } | { saved: false; problem: string }> {
  try {
    if (!keyring.currentKey) return { saved: false, problem: 'no key given' };
    await writeSchedulesObject(
      await open(destination),
      keyring.current(),
      storedSchedulesFor(catalog, destination.id),
    );
    return { saved: true };
  } catch (error) {
    return { saved: false, problem: (error as Error).message };
  }
}
