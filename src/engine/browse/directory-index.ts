import type { BackupManifest } from '../../shared/backups.js';
import { AppError, isAppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import { RecordType } from '../archive/records.js';
import { SeekableArchive } from '../archive/segment-seek.js';
import type { Keyring } from '../keys/keyring.js';
import { archiveKeyOf } from '../operations/backup-names.js';
import { parseDocument } from '../operations/backup-scanner.js';
import { expectedKeyIds, readManifest } from '../operations/manifest.js';
import type { ResolvedBackup } from '../operations/resolve-backup.js';
import { bodyToBuffer } from '../storage/backend.js';
import { BackupIndex, upperBound } from './backup-index.js';
import { readBrowseDirectory, type BrowseDirectory } from './directory.js';

/**
 * The browse index of a backup that has a browse directory (docs/design.md §7.2), or
 * undefined when it has none (an older backup, or an archive file given alone): then it
 * is browsed by one full read (BackupIndex.build). Pages need only the manifest and the
 * directory; the archive's header is read when the first document is opened, and each
 * document's segment then.
 */
export async function openDirectoryIndex(
  backup: ResolvedBackup,
  keyring: Keyring,
): Promise<BackupIndex | undefined> {
  const id = backup.id;
  if (!id || backup.archiveKey !== archiveKeyOf(id)) return undefined;
  let manifest: BackupManifest;
  try {
    manifest = await readManifest(backup.destination, id, keyring);
  } catch (error) {
    // No manifest: nothing to bind a directory to. Other failures are the full read's too.
    if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  const directory = await readBrowseDirectory(backup.destination, manifest, keyring);
  if (!directory) return undefined;
  const ids = new Map<string, readonly string[]>();
  for (const [collection, docs] of directory.collections) ids.set(collection, docs.ids);
  const seek = documentReader(backup, keyring, manifest, directory);
  return BackupIndex.fromDirectory(ids, directory.header.documents, backup, keyring, seek);
}

/** Reads one document through the directory: its segment only, authenticated. */
function documentReader(
  backup: ResolvedBackup,
  keyring: Keyring,
  manifest: BackupManifest,
  directory: BrowseDirectory,
): (path: string) => Promise<FirestoreDocumentRecord> {
  const { destination, archiveKey, label } = backup;
  let archive: Promise<SeekableArchive> | undefined;
  const open = (): Promise<SeekableArchive> => {
    archive ??= SeekableArchive.open(
      async (start, end) =>
        bodyToBuffer(await destination.get(archiveKey, { range: { start, end } })),
      keyring,
      {
        expectKeyIds: expectedKeyIds(manifest),
        map: {
          offsets: directory.header.archive.offsets,
          segments: directory.header.archive.segments,
        },
        label,
      },
    ).then((opened) => {
      // The directory describes the archive whose segments are bound to this header
      // (its random nonce prefix); another archive of this backup id is refused.
      if (!opened.header.bytes.equals(directory.archiveHeader)) {
        throw new AppError(
          'ARCHIVE_MISMATCH',
          `${label}: the archive is not the one its browse directory describes (its header differs): another archive was put in its place. Refused: nothing from it was shown. Run \`firebackup verify ${manifest.backupId}\`, and make sure only FireBackup writes to this destination.`,
        );
      }
      return opened;
    });
    // A failure is not kept: the next document tries again.
    archive.catch(() => (archive = undefined));
    return archive;
  };
  return async (path) => {
    const cut = path.lastIndexOf('/');
    const docs = directory.collections.get(path.slice(0, cut));
    const at = docs ? upperBound(docs.ids, path.slice(cut + 1)) - 1 : -1;
    if (!docs || docs.ids[at] !== path.slice(cut + 1)) {
      throw new AppError('NOT_FOUND', `No document ${path} in ${label}.`);
    }
    const record = await (await open()).recordAt(docs.at[at]!);
    const doc =
      record.type === RecordType.FirestoreDocument ? parseDocument(record, label) : undefined;
    if (doc?.path !== path) {
      throw new AppError(
        'ARCHIVE_CORRUPT',
        `${label}: its browse directory does not match the archive (the record where ${path} should be is ${doc ? `document ${doc.path}` : `a record of type ${record.type}`}). Nothing from it was shown. Run \`firebackup verify ${manifest.backupId}\`.`,
      );
    }
    return doc;
  };
}
