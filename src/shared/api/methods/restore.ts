import { z } from 'zod';
import { backupIdSchema } from '../../backups.js';
import { RtdbPathSchema, SourceNameSchema } from '../../schedules.js';
import { entityId, method } from '../define.js';

/**
 * The Restore wizard: a dry-run plan (what would be created, overwritten, merged,
 * skipped, deleted, per source, and how many documents per collection), then the real
 * run as a job, which needs the target's project id typed as confirmation. Into a
 * project, every source the backup holds unless `sources` names fewer (the engine's
 * restore the CLI's `restore --sources` runs, one mode for all: mirror is for Firestore
 * only); into a folder, every source, as `restore --to-dir` writes them.
 */

/** How each source is named to the user, and what the manifest counts it by. */
export const SOURCE_LABELS = {
  firestore: 'Firestore documents',
  auth: 'Auth users',
  rtdb: 'Realtime Database',
  storage: 'Storage files',
} as const;
export const SOURCE_COUNT_KEYS = {
  firestore: 'firestore.documents',
  auth: 'auth.users',
  rtdb: 'rtdb.records',
  storage: 'storage.objects',
} as const;

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
  /** Into a project: which of the backup's sources to restore; every one it holds when absent. */
  sources: z.array(SourceNameSchema).min(1).optional(),
  /**
   * Storage: the bucket every object is written to. Default: the buckets the objects came
   * from when restoring into the backup's own project, else the target's default bucket.
   */
  toBucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'a Cloud Storage bucket name')
    .optional(),
  /** Realtime Database: only these paths (and what is under them); whole trees when absent. */
  rtdbPaths: z.array(RtdbPathSchema).max(1000).optional(),
  /**
   * Realtime Database: the instance to write into. Default: the target's default instance
   * for the backup's default one, the instance of the same name for the others.
   */
  toRtdbInstance: z.string().min(1).max(200).optional(),
  /** Auth: archived tenant id → target tenant id, as "a=b,c=d"; unmapped tenants keep their id. */
  tenantMap: z.string().max(10_000).optional(),
};

const SourcePlanSchema = z.object({
  source: SourceNameSchema,
  /** What the backup holds of it: documents, users, RTDB records, files. */
  items: z.number().int(),
  /** Whether this restore writes it (ticked, and the target takes it). */
  included: z.boolean(),
  /** The dry run's plan for it; null when it is not included. */
  planned: z
    .object({
      create: z.number().int(),
      overwrite: z.number().int(),
      merge: z.number().int(),
      skip: z.number().int(),
    })
    .nullable(),
});
export type SourcePlan = z.infer<typeof SourcePlanSchema>;

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
  /** Other sources the backup holds, by count (the manifest's counts). */
  otherSources: z.record(z.number()),
  /** Every source the backup holds, with the dry run's plan for each one included. */
  sources: z.array(SourcePlanSchema),
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
