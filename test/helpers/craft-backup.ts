import type { BackupHeader } from '../../src/shared/backups.js';
import type { FirestoreDocumentRecord } from '../../src/shared/firestore.js';
import { RecordType } from '../../src/engine/archive/records.js';
import { DirectoryBuilder, writeBrowseDirectory } from '../../src/engine/browse/directory.js';
import { sealJsonRecords } from '../../src/engine/archive/small-archive.js';
import type { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf, newBackupId } from '../../src/engine/operations/backup-names.js';
import { manifestFor, writeManifest } from '../../src/engine/operations/manifest.js';
import type { StorageBackend } from '../../src/engine/storage/backend.js';

/** Documents with a little of everything, for tests that need no Firestore. */
export function sampleDocuments(n: number): FirestoreDocumentRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    path: i % 3 === 2 ? `users/u${i}/orders/o${i}` : `${i % 2 ? 'users' : 'products'}/d${i}`,
    createTime: '2026-11-28T12:00:00.123456789Z',
    updateTime: '2026-11-28T12:00:01.000000001Z',
    fields: {
      name: { stringValue: `document ${i}` },
      big: { integerValue: '9007199254740993' },
      neg0: { doubleValue: '-0' },
    },
  }));
}

/**
 * Writes a complete backup (archive + manifest) as runBackup would, from given
 * documents: for tests of list/verify/inspect/restore that need no Firestore.
 */
export async function craftBackup(
  destination: StorageBackend,
  key: MasterKey,
  docs: FirestoreDocumentRecord[],
  options: {
    project?: string;
    blockSize?: number;
    createdAt?: Date;
    id?: string;
    /** Also write the browse directory `<id>.fbx`, as runBackup does (docs/design.md §7). */
    directory?: boolean;
  } = {},
): Promise<{ id: string; archive: Buffer }> {
  const createdAt = options.createdAt ?? new Date();
  // A given id makes a second, different archive of the same backup (attack tests).
  const id = options.id ?? newBackupId(createdAt);
  const header: BackupHeader = {
    format: 1,
    backupId: id,
    app: 'firebackup test',
    createdAt: createdAt.toISOString(),
    project: options.project ?? 'demo-crafted',
    database: '(default)',
    sources: ['firestore'],
    readTime: '2026-11-29T00:00:00.000000000Z',
    selection: { collections: [], exclude: [] },
    compression: { algorithm: 'brotli', quality: 5 },
  };
  const directory = options.directory ? new DirectoryBuilder() : undefined;
  const { bytes, summary } = await sealJsonRecords(
    key,
    [
      { type: RecordType.BackupHeader, value: header },
      ...docs.map((value) => ({ type: RecordType.FirestoreDocument, value })),
    ],
    {
      blockSize: options.blockSize ?? 4096,
      ...(directory
        ? {
            onRecord: (type: RecordType, value: unknown, position: number, length: number) => {
              if (type === RecordType.FirestoreDocument)
                directory.add((value as FirestoreDocumentRecord).path, position, length);
            },
          }
        : {}),
    },
  );
  await destination.put(archiveKeyOf(id), bytes);
  const entries = directory?.build(id, { size: bytes.length, layout: summary.layout });
  if (entries) await writeBrowseDirectory(destination, id, key, entries);
  await writeManifest(destination, manifestFor(header, summary, key.id, createdAt), key);
  return { id, archive: bytes };
}
