import { z } from 'zod';

/**
 * The report of `firebackup check` (a whole-destination check): pure schemas, so the
 * CLI's --json, job run details and the typed contract all carry the same shape.
 */

/** One thing found: a backup, an object or a leftover, and what was done about it. */
export const CheckItemSchema = z.object({
  /** The storage key (or the leftover's target key). */
  key: z.string(),
  id: z.string().optional(),
  size: z.number().optional(),
  modified: z.string().optional(),
  message: z.string(),
  /** With --repair: true when it was removed. */
  removed: z.boolean().optional(),
  /** With --repair: why it was kept (too young, or it gained its pair meanwhile). */
  kept: z.string().optional(),
});
export type CheckItem = z.infer<typeof CheckItemSchema>;

/**
 * damage: data that cannot be trusted or is gone (exit 3); key: backups no key given
 * can read (exit 4); notice: housekeeping (leftovers, a stale catalog), reported only.
 */
export const CheckSeveritySchema = z.enum(['damage', 'key', 'notice']);

export const CheckCategorySchema = z.object({
  title: z.string(),
  severity: CheckSeveritySchema,
  /** not-applicable: this kind of destination cannot have such things. */
  status: z.enum(['checked', 'not-checked', 'not-applicable']),
  /** Why a category was not checked (the service does not support the request…). */
  reason: z.string().optional(),
  items: z.array(CheckItemSchema),
});
export type CheckCategory = z.infer<typeof CheckCategorySchema>;

export const CHECK_CATEGORIES = [
  'manifests',
  'keys',
  'digests',
  'data',
  'orphanManifests',
  'orphanArchives',
  'temporaries',
  'uploads',
  'catalogMissing',
  'catalogUnknown',
] as const;
export type CheckCategoryName = (typeof CHECK_CATEGORIES)[number];

/** Every category, always present (a category not checked says so in its status). */
const CheckCategoriesSchema = z.object(
  Object.fromEntries(CHECK_CATEGORIES.map((name) => [name, CheckCategorySchema])) as Record<
    CheckCategoryName,
    typeof CheckCategorySchema
  >,
);

export const CheckReportSchema = z.object({
  destination: z.string(),
  /** Backups with both a manifest and an archive. */
  backups: z.number().int(),
  /** The share of backups decrypted in full, and which ones were. */
  readData: z.object({ fraction: z.number(), ids: z.array(z.string()) }),
  repair: z.boolean(),
  categories: CheckCategoriesSchema,
  /** Items found, by severity. */
  damage: z.number().int(),
  keyProblems: z.number().int(),
  notices: z.number().int(),
});
export type CheckReport = z.infer<typeof CheckReportSchema>;

/** Exit codes as for verify: 0 nothing wrong, 3 damage found, 4 a key is missing. */
export function checkExitCode(report: Pick<CheckReport, 'damage' | 'keyProblems'>): number {
  if (report.damage > 0) return 3;
  if (report.keyProblems > 0) return 4;
  return 0;
}
