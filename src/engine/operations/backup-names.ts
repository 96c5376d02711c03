import { randomBytes } from 'node:crypto';
import { BACKUP_ID_PATTERN } from '../../shared/backups.js';

export const ARCHIVE_SUFFIX = '.fbk';
export const MANIFEST_SUFFIX = '.fbm';
/** The browse directory beside an archive (docs/design.md §7). */
export const BROWSE_DIRECTORY_SUFFIX = '.fbx';

/** A new id: sortable by creation time, unique by its random tail. */
export function newBackupId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `bkp_${stamp}_${randomBytes(4).toString('hex')}`;
}

export function archiveKeyOf(id: string): string {
  return `${id}${ARCHIVE_SUFFIX}`;
}

export function manifestKeyOf(id: string): string {
  return `${id}${MANIFEST_SUFFIX}`;
}

export function browseDirectoryKeyOf(id: string): string {
  return `${id}${BROWSE_DIRECTORY_SUFFIX}`;
}

/** The backup id a manifest object belongs to, or undefined for any other object. */
export function idOfManifestKey(key: string): string | undefined {
  if (!key.endsWith(MANIFEST_SUFFIX)) return undefined;
  const id = key.slice(key.lastIndexOf('/') + 1, -MANIFEST_SUFFIX.length);
  return BACKUP_ID_PATTERN.test(id) ? id : undefined;
}

/** The creation time encoded in an id. */
export function createdAtOf(id: string): string {
  const m = /^bkp_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z_/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : '';
}
