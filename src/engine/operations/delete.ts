import type { StorageBackend } from '../storage/backend.js';
import { archiveKeyOf, manifestKeyOf } from './backup-names.js';

/**
 * Deletes one backup. The manifest goes first: the backup leaves `list` at once, and a
 * deletion interrupted half-way leaves an invisible archive rather than a listed,
 * broken backup (the next prune or a catalog rebuild does not see it either).
 */
export async function deleteBackup(destination: StorageBackend, id: string): Promise<void> {
  await destination.delete(manifestKeyOf(id));
  await destination.delete(archiveKeyOf(id));
}
