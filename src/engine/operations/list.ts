import type { BackupSummary } from '../../shared/backups.js';
import { isAppError, toErrorData } from '../../shared/errors.js';
import { peekKeyId } from '../archive/reader.js';
import type { Keyring } from '../keys/keyring.js';
import type { StorageBackend } from '../storage/backend.js';
import { mapLimit } from '../util/map-limit.js';
import { archiveKeyOf, createdAtOf, idOfManifestKey, manifestKeyOf } from './backup-names.js';
import { damagedManifest } from './bind-to-manifest.js';
import { readManifest } from './manifest.js';

/**
 * The complete backups in a destination, newest first. A backup is complete when its
 * manifest exists (it is written last); other objects are ignored. Backups whose key is
 * not held are still listed, with what can be known without it, and so are backups whose
 * manifest is damaged, with `error` set: one bad object must not hide the others.
 */
export async function listBackups(
  destination: StorageBackend,
  keyring: Keyring,
): Promise<BackupSummary[]> {
  const backups = await completeBackups(destination);
  // Manifests are small remote reads: several at once, or a year of dailies takes minutes.
  return mapLimit(backups, 8, ({ id, size }) => summarise(destination, keyring, id, size));
}

/**
 * The backups whose manifest and archive both exist, newest first (ids sort by time), with
 * their archive sizes. A manifest without its archive is a deletion stopped half-way.
 */
export async function completeBackups(
  destination: StorageBackend,
): Promise<Array<{ id: string; size: number }>> {
  const ids: string[] = [];
  const sizes = new Map<string, number>();
  for await (const info of destination.list('')) {
    if (info.key.includes('/')) continue;
    const id = idOfManifestKey(info.key);
    if (id) ids.push(id);
    else if (info.key.endsWith('.fbk')) sizes.set(info.key, info.size);
  }
  return ids
    .filter((id) => sizes.has(archiveKeyOf(id)))
    .sort()
    .reverse()
    .map((id) => ({ id, size: sizes.get(archiveKeyOf(id))! }));
}

async function summarise(
  destination: StorageBackend,
  keyring: Keyring,
  id: string,
  size: number,
): Promise<BackupSummary> {
  try {
    const m = await readManifest(destination, id, keyring);
    return {
      id,
      createdAt: m.createdAt,
      keyId: m.keyId,
      size,
      readable: true,
      project: m.project,
      database: m.database,
      documents: m.counts['firestore.documents'] ?? 0,
      sources: m.sources,
      counts: m.counts,
      readTime: m.readTime,
      completedAt: m.completedAt,
      ...(m.scheduleId ? { scheduleId: m.scheduleId } : {}),
      ...(m.selection ? { selection: m.selection } : {}),
    };
  } catch (error) {
    if (isAppError(error) && error.code === 'KEY_NOT_FOUND') {
      const keyId = await peekKeyId(await destination.get(manifestKeyOf(id)));
      return { id, createdAt: createdAtOf(id), keyId, size, readable: false };
    }
    const damage = damagedManifest(id, error);
    if (!damage) throw error;
    const keyId = await peekKeyId(await destination.get(manifestKeyOf(id))).catch(() => '');
    return {
      id,
      createdAt: createdAtOf(id),
      keyId,
      size,
      readable: false,
      error: toErrorData(damage),
    };
  }
}
