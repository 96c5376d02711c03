import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKUP_ID_PATTERN } from '../../shared/backups.js';
import { AppError, isAppError } from '../../shared/errors.js';
import type { StorageBackend } from '../storage/backend.js';
import { LocalBackend } from '../storage/local/local-backend.js';
import { ARCHIVE_SUFFIX, archiveKeyOf } from './backup-names.js';
import { latestBackupId } from './list.js';

/** Where one backup's archive is: everything `verify`, `inspect` and `restore` need. */
export interface ResolvedBackup {
  destination: StorageBackend;
  archiveKey: string;
  /** The backup id, when the archive follows the naming of docs/design.md §1. */
  id: string | undefined;
  /** How to name the backup in messages. */
  label: string;
}

/**
 * Turns what a user typed into an archive location: `<id>` or `latest` with `--from`,
 * or the path of an archive file on its own.
 */
export async function resolveBackup(
  ref: string,
  from: StorageBackend | undefined,
): Promise<ResolvedBackup> {
  if (!from) {
    if (!existsSync(ref) || !statSync(ref).isFile()) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${ref}" is not an archive file. Give the path of a .fbk file, or a backup id (or "latest") with --from <destination>.`,
      );
    }
    const file = path.resolve(ref);
    const name = path.basename(file);
    return {
      destination: new LocalBackend(path.dirname(file)),
      archiveKey: name,
      id: idOfArchiveName(name),
      label: file,
    };
  }
  let id: string | undefined;
  let archiveKey: string;
  if (ref === 'latest') {
    id = await latestBackupId(from);
    if (!id) throw new AppError('NOT_FOUND', `There is no complete backup in ${from.displayUrl}.`);
    archiveKey = archiveKeyOf(id);
  } else if (BACKUP_ID_PATTERN.test(ref)) {
    id = ref;
    archiveKey = archiveKeyOf(ref);
  } else if (ref.endsWith(ARCHIVE_SUFFIX)) {
    archiveKey = ref;
    id = idOfArchiveName(path.posix.basename(ref));
  } else {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${ref}" is not a backup id. Use an id from \`firebackup list --from ${from.displayUrl}\` (bkp_…), "latest", or an archive file path.`,
    );
  }
  try {
    await from.stat(archiveKey);
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') {
      throw new AppError(
        'NOT_FOUND',
        `No backup "${ref}" in ${from.displayUrl}. Run \`firebackup list --from ${from.displayUrl}\` to see the backups there.`,
      );
    }
    throw error;
  }
  return { destination: from, archiveKey, id, label: id ?? archiveKey };
}

function idOfArchiveName(name: string): string | undefined {
  const id = name.endsWith(ARCHIVE_SUFFIX) ? name.slice(0, -ARCHIVE_SUFFIX.length) : undefined;
  return id && BACKUP_ID_PATTERN.test(id) ? id : undefined;
}
