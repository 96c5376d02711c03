import { z } from 'zod';
import { backupIdSchema } from '../../backups.js';
import { entityId, method } from '../define.js';

/**
 * The Restore wizard: a dry-run plan (what would be created, overwritten, merged,
 * skipped, deleted, and how many documents per collection), then the real run as a job,
 * which needs the target's project id typed as confirmation. Firestore documents only
 * (into a folder: every source the backup holds, as `restore --to-dir` writes them).
 */

export const RestoreModeSchema = z.enum(['create', 'overwrite', 'merge', 'mirror']);

export const RestoreTargetSchema = z.discriminatedUnion('kind', [
  /** A project of the catalog: the backup's own, or another. */
  z.object({ kind: z.literal('project'), projectId: entityId }).strict(),
  /** A Firestore emulator. */
  z
    .object({
      kind: z.literal('emulator'),
      host: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'host:port, like 127.0.0.1:8080'),
      firebaseProjectId: z.string().regex(/^[a-z0-9-]{1,63}$/, 'a Firebase project id'),
      databaseId: z.string().min(1).max(100).default('(default)'),
    })
    .strict(),
  /** Plain NDJSON files in a new or empty folder of this machine (no Firebase needed). */
  z.object({ kind: z.literal('folder'), directory: z.string().min(1).max(4096) }).strict(),
]);
export type RestoreTarget = z.infer<typeof RestoreTargetSchema>;

const request = {
  destinationId: entityId,
  backupId: backupIdSchema,
  target: RestoreTargetSchema,
  mode: RestoreModeSchema.default('create'),
  /** Root collection ids or collection paths; all when absent or empty. */
  collections: z.array(z.string().min(1)).max(1000).optional(),
  /** Document or collection paths; all when absent or empty. */
  paths: z.array(z.string().min(1)).max(1000).optional(),
};

export const RestorePlanSchema = z.object({
  /** The dry run's job (recorded in the history as a restore run); null for a folder. */
  jobId: z.string().nullable(),
  /** "project/database" or the folder. */
  target: z.string(),
  /** What a real run must be confirmed with (the target's project id); null for a folder. */
  confirmWith: z.string().nullable(),
  mode: RestoreModeSchema,
  /** Documents of the selection, per root collection (subcollections included). */
  collections: z.array(z.object({ collection: z.string(), documents: z.number().int() })),
  documents: z.number().int(),
  /** Other sources the backup holds, by count (restored into a folder only). */
  otherSources: z.record(z.number()),
  planned: z.object({
    create: z.number().int(),
    overwrite: z.number().int(),
    merge: z.number().int(),
    skip: z.number().int(),
    delete: z.number().int(),
    /** The first paths a mirror would delete. */
    deletePaths: z.array(z.string()),
  }),
});
export type RestorePlan = z.infer<typeof RestorePlanSchema>;

export const restoreMethods = {
  'restore.plan': method({
    description:
      'Dry run: verify the backup, read which documents the target has, and say what a restore would do (nothing is written).',
    input: z.object(request).strict(),
    output: RestorePlanSchema,
    permission: 'backups:restore',
  }),
  'restore.start': method({
    description:
      "Restore as a job (progress as `job` events, cancellable with jobs.cancel). `confirm` must be the target's project id (for a folder: the folder).",
    input: z.object({ ...request, confirm: z.string().max(4096) }).strict(),
    output: z.object({ jobId: entityId }),
    permission: 'backups:restore',
  }),
};
