import { z } from 'zod';
import { backupIdSchema, backupSelectionSchema } from '../../backups.js';
import { BackupFilterSchema, BackupRowSchema, VerifyStateSchema } from '../../backup-filters.js';
import { FirestoreDocumentSchema } from '../../typed-values.js';
import { entityId, method } from '../define.js';
import { SyncIndicatorSchema, withOrigin } from './sync.js';

/**
 * The Backups screen: the list from the catalog with filters, one backup's manifest, a
 * read-only browser of its collections and documents (exact typed values), verify now
 * and delete. Browsing builds a per-backup index with one authenticated read of the
 * archive; later pages come from memory.
 */

const ref = { destinationId: entityId, backupId: backupIdSchema };
/** A collection path ("users", "users/alice/orders"). */
const collectionPath = z
  .string()
  .min(1)
  .max(6000)
  .refine((p) => p.split('/').length % 2 === 1 && !p.split('/').includes(''), {
    message: 'a collection path has an odd number of segments, like users or users/alice/orders',
  });
const documentPath = z
  .string()
  .min(1)
  .max(6000)
  .refine((p) => p.split('/').length % 2 === 0 && !p.split('/').includes(''), {
    message: 'a document path has an even number of segments, like users/alice',
  });

export const BackupDetailSchema = z.object({
  destinationId: z.string(),
  id: z.string(),
  project: z.string(),
  database: z.string(),
  createdAt: z.string(),
  completedAt: z.string(),
  readTime: z.string(),
  sources: z.array(z.string()),
  /** The manifest's counts ("firestore.documents", "auth.users", "storage.objects"…). */
  counts: z.record(z.number()),
  selection: backupSelectionSchema.nullable(),
  scheduleId: z.string().nullable(),
  keyId: z.string(),
  archive: z.object({ key: z.string(), size: z.number(), sha256: z.string() }),
  verification: z.object({
    state: VerifyStateSchema,
    at: z.string().nullable(),
    error: z.string().nullable(),
  }),
});

export const BrowseCollectionSchema = z.object({
  id: z.string(),
  path: z.string(),
  /** Documents directly in this collection (not in its subcollections). */
  documents: z.number().int().nonnegative(),
});

export const BrowseDocumentSchema = z.object({
  id: z.string(),
  path: z.string(),
  /** Not in the backup itself: listed because it has subcollections that are. */
  missing: z.boolean(),
  subcollections: z.number().int().nonnegative(),
});

export const backupBrowseMethods = {
  'backups.search': method({
    description:
      'Backups in the catalog (every destination, or one), newest first, with filters: project, verification state, date range, text.',
    input: BackupFilterSchema.extend({
      limit: z.number().int().min(1).max(50_000).default(10_000),
    }).strict(),
    output: z.object({
      backups: z.array(withOrigin(BackupRowSchema)),
      total: z.number().int(),
      /** Team sync mode: how the organisation's backups were read (absent outside it). */
      sync: SyncIndicatorSchema.optional(),
    }),
    permission: 'backups:view',
  }),
  'backups.refresh': method({
    description:
      "Re-read a destination's manifests into the catalog (backups made elsewhere appear, deleted ones go).",
    input: z.object({ destinationId: entityId }).strict(),
    output: z.object({ added: z.number().int(), removed: z.number().int() }),
    permission: 'backups:view',
  }),
  'backups.detail': method({
    description: "One backup's manifest (authenticated) and its verification state.",
    input: z.object(ref).strict(),
    output: BackupDetailSchema,
    permission: 'backups:view',
  }),
  'backups.collections': method({
    description:
      'The collections of a backup under a document (the root collections when parent is absent), with document counts.',
    input: z.object({ ...ref, parent: documentPath.optional() }).strict(),
    output: z.object({
      collections: z.array(BrowseCollectionSchema),
      totalDocuments: z.number().int(),
    }),
    permission: 'backups:view',
  }),
  'backups.documents': method({
    description:
      'A page of the document ids of one collection of a backup, in Firestore order; pass nextCursor back for the next page.',
    input: z
      .object({
        ...ref,
        collection: collectionPath,
        cursor: z.string().max(1500).optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    output: z.object({
      documents: z.array(BrowseDocumentSchema),
      total: z.number().int(),
      nextCursor: z.string().nullable(),
    }),
    permission: 'backups:view',
  }),
  'backups.document': method({
    description:
      'One document of a backup with its exact typed values (the archive encoding: int64 as strings, timestamps with nanoseconds, bytes as base64…).',
    input: z.object({ ...ref, path: documentPath }).strict(),
    output: z.object({
      document: FirestoreDocumentSchema,
      subcollections: z.array(BrowseCollectionSchema),
    }),
    permission: 'backups:view',
  }),
  'backups.verify': method({
    description: 'Verify one backup now, in full, as a job; the result is recorded in the catalog.',
    input: z.object(ref).strict(),
    output: z.object({ jobId: entityId }),
    permission: 'backups:view',
  }),
  'backups.delete': method({
    description:
      'Delete one backup (manifest first, then archive). `confirm` must repeat the backup id: the engine refuses otherwise.',
    input: z.object({ ...ref, confirm: z.string().max(200) }).strict(),
    output: z.object({ deleted: z.literal(true) }),
    permission: 'backups:delete',
  }),
};
