import type { StorageBackend } from '../storage/backend.js';
import { archiveKeyOf, browseDirectoryKeyOf, manifestKeyOf } from './backup-names.js';

/**
 * Deletes one backup. The manifest goes first: the backup leaves `list` at once, and a
 * deletion interrupted half-way leaves an invisible archive rather than a listed,
 * broken backup (the next prune or a catalog rebuild does not see it either). The
 * browse directory goes last: without its archive it is never read.
 */
export async function deleteBackup(destination: StorageBackend, id: string): Promise<void> {
  await destination.delete(manifestKeyOf(id));
  await destination.delete(archiveKeyOf(id));
  await destination.delete(browseDirectoryKeyOf(id));
}
