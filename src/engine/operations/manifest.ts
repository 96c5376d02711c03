import {
  backupManifestSchema,
  type BackupHeader,
  type BackupManifest,
} from '../../shared/backups.js';
import { AppError } from '../../shared/errors.js';
import { RecordType, parseJsonPayload } from '../archive/records.js';
import { openAllRecords, sealJsonRecords } from '../archive/small-archive.js';
import type { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';
import type { StorageBackend } from '../storage/backend.js';
import type { WriteSummary } from '../archive/writer.js';
import { rtdbSelectionOf } from '../sources/rtdb/records.js';
import { archiveKeyOf, manifestKeyOf } from './backup-names.js';

/**
 * The manifest of a finished archive: what `list` shows without opening the archive.
 * `scheduleId` names the schedule that made it (absent for a manual backup); with the
 * selection it is the backup's retention scope. The RTDB instances are part of that
 * selection only when they were named (`rtdbInstancesNamed`); otherwise "every instance".
 */
export function manifestFor(
  header: BackupHeader,
  written: WriteSummary,
  keyId: string,
  completedAt: Date,
  scheduleId?: string,
  rtdbInstancesNamed = false,
): BackupManifest {
  return {
    format: 1,
    backupId: header.backupId,
    app: header.app,
    project: header.project,
    database: header.database,
    sources: header.sources,
    createdAt: header.createdAt,
    completedAt: completedAt.toISOString(),
    readTime: header.readTime,
    counts: written.trailer.counts,
    keyId,
    archive: {
      key: archiveKeyOf(header.backupId),
      size: written.archiveBytes,
      sha256: written.archiveSha256,
    },
    ...(scheduleId ? { scheduleId } : {}),
    // The retention scope: collections, and which sources (buckets, RTDB paths) the backup holds.
    selection: {
      ...header.selection,
      sources: header.sources,
      ...(header.storage ? { storage: header.storage } : {}),
      ...(header.rtdb
        ? {
            rtdb: rtdbSelectionOf(
              header.rtdb.paths,
              rtdbInstancesNamed ? header.rtdb.instances : undefined,
            ),
          }
        : {}),
    },
  };
}

/** Writes the manifest that makes a backup visible to `list` (always the last write). */
export async function writeManifest(
  destination: StorageBackend,
  manifest: BackupManifest,
  key: MasterKey,
): Promise<void> {
  const { bytes } = await sealJsonRecords(key, [{ type: RecordType.Manifest, value: manifest }], {
    purpose: 'manifest',
  });
  await destination.put(manifestKeyOf(manifest.backupId), bytes, { contentLength: bytes.length });
}

/** Reads and authenticates the manifest of a backup. */
export async function readManifest(
  destination: StorageBackend,
  id: string,
  keyring: Keyring,
): Promise<BackupManifest> {
  const stream = await destination.get(manifestKeyOf(id));
  const { records } = await openAllRecords(stream, keyring, { purpose: 'manifest' });
  const record = records.find((r) => r.type === RecordType.Manifest);
  const parsed = record ? backupManifestSchema.safeParse(parseJsonPayload(record)) : undefined;
  if (!parsed?.success || parsed.data.backupId !== id) {
    throw new AppError('ARCHIVE_CORRUPT', `The manifest of backup ${id} is not valid.`);
  }
  return parsed.data;
}

/**
 * Whether a stored archive of this size and digest is the one the manifest describes:
 * its archive, or, while `keys rewrap` switches it (docs/design.md §6), the previous one.
 */
export function archiveMatchesManifest(
  manifest: BackupManifest,
  stored: { size: number; sha256: string },
): boolean {
  return [manifest.archive, manifest.archive.previous].some(
    (a) => a !== undefined && a.size === stored.size && a.sha256 === stored.sha256,
  );
}

/**
 * The key ids an archive's envelope may name for this manifest (ArchiveReader's
 * `expectKeyId`): its own, and while `keys rewrap` switches it, the previous archive's.
 */
export function expectedKeyIds(manifest: BackupManifest): string[] {
  const previous = manifest.archive.previous?.keyId;
  return previous && previous !== manifest.keyId ? [manifest.keyId, previous] : [manifest.keyId];
}
