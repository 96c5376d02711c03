import { backupMatcher, type BackupRow } from '../../../shared/backup-filters.js';
import { AppError } from '../../../shared/errors.js';
import type { CatalogBackup } from '../../catalog/backups.js';
import { verifyJob } from '../../jobs/specs.js';
import { readManifest } from '../../operations/manifest.js';
import { forgetIndex, indexOf, prebuildIndex, resolveRef } from './backup-ref.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

type Methods =
  | 'backups.search'
  | 'backups.refresh'
  | 'backups.detail'
  | 'backups.collections'
  | 'backups.documents'
  | 'backups.document'
  | 'backups.verify'
  | 'backups.delete';

export function toBackupRow(b: CatalogBackup): BackupRow {
  return {
    destinationId: b.destinationId,
    id: b.id,
    project: b.firebaseProjectId,
    database: b.databaseId,
    scheduleId: b.scheduleId,
    createdAt: b.createdAt,
    documents: b.counts?.['firestore.documents'] ?? null,
    bytes: b.bytes,
    verifyState:
      b.verifyStatus === 'ok' ? 'verified' : b.verifyStatus === 'failed' ? 'failed' : 'unverified',
    verifiedAt: b.verifiedAt,
    verifyError: b.verifyError,
  };
}

export function backupBrowseHandlers(context: HandlerContext): HandlersFor<Methods> {
  const { runtime, keyring } = context;
  const { catalog } = runtime;
  // A backup made here is indexed as it finishes (and the index saved), so browsing it
  // is instant the first time too; a failure only means building on first browse.
  runtime.jobs.subscribe((e) => {
    if (e.type !== 'state' || e.kind !== 'backup' || e.status !== 'succeeded') return;
    const run = catalog.runs.get(e.jobId);
    if (run?.backupId && run.destinationId)
      prebuildIndex(context, run.destinationId, run.backupId).catch(() => undefined);
  });
  return {
    'backups.search': async ({ limit, ...filter }) => {
      const matches = backupMatcher(filter);
      const rows = catalog.backups
        .list(filter.destinationId ? { destinationId: filter.destinationId } : {})
        .map(toBackupRow)
        .filter(matches);
      // Team sync mode: the organisation's backups too (rows and limit as here).
      return syncedCatalogOf(context).search(rows, matches, limit);
    },

    'backups.refresh': async ({ destinationId }) => {
      const destination = catalog.destinations.get(destinationId);
      return catalog.backups.replaceForDestination(
        destinationId,
        await runtime.engine.list(destination),
      );
    },

    'backups.detail': async ({ destinationId, backupId }) => {
      const { backup } = await resolveRef(context, destinationId, backupId);
      const m = await readManifest(backup.destination, backupId, keyring);
      const row = catalog.backups.get(destinationId, backupId);
      const state = row ? toBackupRow(row) : undefined;
      return {
        destinationId,
        id: m.backupId,
        project: m.project,
        database: m.database,
        createdAt: m.createdAt,
        completedAt: m.completedAt,
        readTime: m.readTime,
        sources: m.sources,
        counts: m.counts,
        selection: m.selection ?? null,
        scheduleId: m.scheduleId ?? null,
        keyId: m.keyId,
        archive: { key: m.archive.key, size: m.archive.size, sha256: m.archive.sha256 },
        verification: {
          state: state?.verifyState ?? 'unverified',
          at: state?.verifiedAt ?? null,
          error: state?.verifyError ?? null,
        },
      };
    },

    'backups.collections': async ({ destinationId, backupId, parent }) => {
      const index = await indexOf(context, destinationId, backupId);
      return { collections: index.collections(parent ?? ''), totalDocuments: index.totalDocuments };
    },

    'backups.documents': async ({ destinationId, backupId, collection, cursor, limit }) => {
      const index = await indexOf(context, destinationId, backupId);
      const page = index.page(collection, cursor, limit);
      return {
        documents: page.ids.map((id) => {
          const path = `${collection}/${id}`;
          return {
            id,
            path,
            missing: index.isMissing(path),
            subcollections: index.subcollectionCount(path),
          };
        }),
        total: page.total,
        nextCursor: page.nextCursor,
      };
    },

    'backups.document': async ({ destinationId, backupId, path }) => {
      const index = await indexOf(context, destinationId, backupId);
      return { document: await index.document(path), subcollections: index.collections(path) };
    },

    'backups.verify': async ({ destinationId, backupId }) => {
      const { destination } = await resolveRef(context, destinationId, backupId);
      const job = runtime.jobs.start(
        verifyJob(runtime, { destination, backupIds: [backupId], sample: 1 }),
      );
      return { jobId: job.id };
    },

    'backups.delete': async ({ destinationId, backupId, confirm }) => {
      if (confirm.trim() !== backupId) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `To delete backup ${backupId}, confirm with its id exactly (got "${confirm}"). Nothing was deleted.`,
        );
      }
      const { destination } = await resolveRef(context, destinationId, backupId);
      await runtime.engine.deleteBackup(destination, backupId);
      catalog.backups.recordDeletion(destinationId, backupId, 'deleted from the app', null);
      forgetIndex(context, destinationId, backupId);
      return { deleted: true as const };
    },
  };
}
