import { z } from 'zod';

/**
 * Schedules and retention: the data the GUI, the CLI and the catalog exchange. Pure
 * schemas (no Node), so they can become part of the typed API contract unchanged.
 */

const count = z.number().int().min(0).max(10_000);

/**
 * Which backups to keep. Rules are unioned (restic/kopia semantics): a backup is kept
 * when any rule selects it, and the newest good backup is always kept whatever the rules
 * say. An empty policy keeps everything — retention never deletes by default.
 */
export const RetentionPolicySchema = z
  .object({
    /** The N most recent backups. */
    keepLast: count.optional(),
    /** The newest backup of each of the N most recent days that have a backup. */
    keepDaily: count.optional(),
    /** The newest backup of each of the N most recent ISO weeks that have a backup. */
    keepWeekly: count.optional(),
    /** The newest backup of each of the N most recent months that have a backup. */
    keepMonthly: count.optional(),
  })
  .strict();
export type RetentionPolicy = z.infer<typeof RetentionPolicySchema>;

/** True when the policy has at least one rule, i.e. pruning may delete something. */
export function retentionHasRules(policy: RetentionPolicy): boolean {
  return Object.values(policy).some((v) => v !== undefined);
}

/** Verification after each backup: all records, a fraction of them, or none. */
export const VerifyAfterBackupSchema = z.union([
  z.object({ mode: z.literal('full') }).strict(),
  z.object({ mode: z.literal('sample'), fraction: z.number().gt(0).lte(1) }).strict(),
  z.object({ mode: z.literal('none') }).strict(),
]);
export type VerifyAfterBackup = z.infer<typeof VerifyAfterBackupSchema>;

/**
 * A Realtime Database path ("/users", "rooms/a"): its keys may not hold . # $ [ ] or a
 * control character (the engine normalises it: src/engine/sources/rtdb/records.ts).
 */
export const RtdbPathSchema = z
  .string()
  .min(1)
  // Keys are at most 768 bytes and trees 32 levels deep: a longer path names nothing.
  .max(32 * 769)
  .refine(
    // eslint-disable-next-line no-control-regex -- control characters are not allowed in keys
    (p) => !/[.#$[\]\u0000-\u001f\u007f]/.test(p),
    'not a Realtime Database path: keys may not hold . # $ [ ] or a control character (give paths like /users/alice)',
  );

/** The sources a backup can hold, in archive order. */
export const SourceNameSchema = z.enum(['firestore', 'auth', 'rtdb', 'storage']);

/** What a backup schedule backs up: Firestore, and Auth users, RTDB trees and Storage files when named. */
export const BackupScopeSchema = z
  .object({
    /** Top-level collection ids to include; empty or absent means all. */
    collections: z.array(z.string().min(1)).optional(),
    /** Collection ids to exclude. */
    exclude: z.array(z.string().min(1)).optional(),
    /** Named Firestore database; "(default)" when absent. */
    database: z.string().min(1).optional(),
    /** The sources, in archive order; Firestore only when absent. */
    sources: z.array(SourceNameSchema).min(1).optional(),
    /** Storage buckets; the project's default bucket when absent. */
    buckets: z.array(z.string().min(1)).optional(),
    /** Only Storage objects whose name starts with this. */
    // Object names are at most 1,024 bytes (Cloud Storage's own limit).
    storagePrefix: z.string().min(1).max(1024).optional(),
    /** Realtime Database instances; every instance of the project when absent. */
    rtdbInstances: z.array(z.string().min(1).max(200)).optional(),
    /** Only these Realtime Database paths; whole trees when absent. */
    rtdbPaths: z.array(RtdbPathSchema).optional(),
  })
  .strict();
export type BackupScope = z.infer<typeof BackupScopeSchema>;

/**
 * A cron expression (5 fields, or 6 with seconds first). Syntax is checked by the
 * engine with the real parser; this only rejects the obviously wrong.
 */
export const CronExpressionSchema = z
  .string()
  .trim()
  .refine((s) => {
    const n = s.split(/\s+/).length;
    return n === 5 || n === 6;
  }, 'a cron expression has 5 fields (minute hour day month weekday), or 6 with seconds first');

/** An IANA time zone name ("Europe/Paris", "UTC"). */
export const TimeZoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not a known IANA time zone (for example "UTC" or "Europe/Paris")');

/** backup; verify: re-check old backups; check: the whole destination (`firebackup check`). */
export const ScheduleKindSchema = z.enum(['backup', 'verify', 'check']);
export type ScheduleKind = z.infer<typeof ScheduleKindSchema>;

/** What a user (or the GUI) sends to create a schedule. */
export const ScheduleInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: ScheduleKindSchema.default('backup'),
    projectId: z.string().min(1).max(200),
    destinationId: z.string().min(1).max(200),
    cron: CronExpressionSchema,
    timeZone: TimeZoneSchema.default('UTC'),
    scope: BackupScopeSchema.default({}),
    retention: RetentionPolicySchema.default({}),
    verifyAfter: VerifyAfterBackupSchema.default({ mode: 'full' }),
    /** For verify schedules: how many backups to re-check per run (least recently verified first). */
    verifyBatch: z.number().int().min(1).max(1000).default(3),
    /** Also notify when runs succeed (failures and missed runs are always notified). */
    notifyOnSuccess: z.boolean().default(false),
    /**
     * An empty backup (0 documents) is expected. Otherwise a run that backs up nothing
     * fails (flagged in history and notified) and retention ignores empty backups.
     */
    allowEmpty: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ScheduleInput = z.input<typeof ScheduleInputSchema>;

export const ScheduleSchema = ScheduleInputSchema.extend({
  id: z.string(),
  createdAt: z.string().datetime(),
  /** The latest cron occurrence already handled (run, or reported missed). */
  lastScheduledFor: z.string().datetime().nullable(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;
