import { z } from 'zod';
import type { ErrorData } from './errors.js';

/** Backup ids sort by creation time: bkp_<YYYYMMDDTHHMMSSmmmZ>_<8 hex>. */
export const BACKUP_ID_PATTERN = /^bkp_\d{8}T\d{9}Z_[0-9a-f]{8}$/;
export const backupIdSchema = z.string().regex(BACKUP_ID_PATTERN, 'not a backup id (bkp_…)');

/** Which collections a backup holds: empty `collections` means all of them. */
export const backupSelectionSchema = z.object({
  collections: z.array(z.string()),
  exclude: z.array(z.string()),
  /**
   * The sources and Storage scope the backup holds, recorded in manifests (absent in those
   * made before other sources existed: Firestore only). Part of the retention scope, so a
   * Firestore-only backup never stands in for one that also holds Auth users or files.
   */
  sources: z.array(z.string()).optional(),
  storage: z.object({ buckets: z.array(z.string()), prefix: z.string() }).optional(),
  /**
   * The Realtime Database paths read (normalised; empty: whole trees) and the instances,
   * when named (absent: every instance of the project). Absent in manifests made before
   * RTDB selections were recorded: whole trees.
   */
  rtdb: z
    .object({ paths: z.array(z.string()), instances: z.array(z.string()).optional() })
    .optional(),
});
export type BackupSelection = z.infer<typeof backupSelectionSchema>;

/** The manifest record of docs/design.md §3.4, validated whenever one is read. */
export const backupManifestSchema = z.object({
  format: z.literal(1),
  backupId: backupIdSchema,
  app: z.string(),
  project: z.string(),
  database: z.string(),
  sources: z.array(z.string()),
  createdAt: z.string(),
  completedAt: z.string(),
  readTime: z.string(),
  counts: z.record(z.number().int().nonnegative()),
  keyId: z.string(),
  archive: z.object({
    key: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /**
     * Only while `keys rewrap` replaces the archive (docs/design.md §6): the archive still
     * stored before the switch, same segments under the old envelope.
     */
    previous: z
      .object({
        size: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        keyId: z.string(),
      })
      .optional(),
  }),
  /**
   * Who made the backup and of what, so retention only ever considers backups of one
   * scope. Optional: manifests written before these fields existed lack them (such
   * backups belong to no scope, so retention never deletes them). Sealed with the rest.
   */
  scheduleId: z.string().min(1).optional(),
  selection: backupSelectionSchema.optional(),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** One row of `list`: what a user needs to pick a backup. */
export interface BackupSummary {
  id: string;
  createdAt: string;
  keyId: string;
  /** Archive size in bytes. */
  size: number;
  /** False when no key held can open the manifest; the fields below are then unknown. */
  readable: boolean;
  project?: string;
  database?: string;
  documents?: number;
  /** The sources the backup holds and the manifest's per-source counts. */
  sources?: string[];
  counts?: Record<string, number>;
  readTime?: string;
  completedAt?: string;
  /** The schedule that made it; absent for manual backups and for older manifests. */
  scheduleId?: string;
  /** Absent for manifests written before the selection was recorded. */
  selection?: BackupSelection;
  /** Set when the manifest is damaged (or unreadable by this version): why. */
  error?: ErrorData;
}

/** The backup header record of docs/design.md §3.1. */
export const backupHeaderSchema = z.object({
  format: z.literal(1),
  backupId: backupIdSchema,
  app: z.string(),
  createdAt: z.string(),
  project: z.string(),
  database: z.string(),
  sources: z.array(z.string()),
  readTime: z.string(),
  selection: z.object({ collections: z.array(z.string()), exclude: z.array(z.string()) }),
  compression: z.object({ algorithm: z.string(), quality: z.number() }),
  /** The Storage buckets and prefix read, when the backup holds Storage objects. */
  storage: z.object({ buckets: z.array(z.string()), prefix: z.string() }).optional(),
  /** The Realtime Database instances and paths read (empty paths: whole trees). */
  rtdb: z.object({ instances: z.array(z.string()), paths: z.array(z.string()) }).optional(),
});
export type BackupHeader = z.infer<typeof backupHeaderSchema>;
