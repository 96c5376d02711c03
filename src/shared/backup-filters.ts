import { z } from 'zod';

/**
 * The backups list's filters, one definition for both sides: the engine applies them to
 * the catalog (`backups.search`) and the Backups screen applies the very same function to
 * the rows it holds, so filtering thousands of rows needs no round trip and both agree.
 */

export const VerifyStateSchema = z.enum(['verified', 'failed', 'unverified']);
export type VerifyState = z.infer<typeof VerifyStateSchema>;

/** One backup as the list shows it (the catalog's cached row). */
export const BackupRowSchema = z.object({
  destinationId: z.string(),
  id: z.string(),
  /** The Firebase project id; null when the backup's key is not held. */
  project: z.string().nullable(),
  database: z.string().nullable(),
  scheduleId: z.string().nullable(),
  createdAt: z.string(),
  documents: z.number().int().nonnegative().nullable(),
  bytes: z.number().int().nonnegative().nullable(),
  verifyState: VerifyStateSchema,
  verifiedAt: z.string().nullable(),
  verifyError: z.string().nullable(),
});
export type BackupRow = z.infer<typeof BackupRowSchema>;

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'a date (ISO 8601, e.g. 2026-11-30)');

export const BackupFilterSchema = z
  .object({
    destinationId: z.string().min(1).max(200).optional(),
    /** Firebase project id, exactly. */
    project: z.string().min(1).max(200).optional(),
    verifyState: VerifyStateSchema.optional(),
    /** Created at or after (inclusive). */
    from: isoDate.optional(),
    /** Created before (exclusive); a bare date means the end of that day is not included. */
    to: isoDate.optional(),
    /** Case-insensitive substring of the id, project, database or schedule id. */
    text: z.string().max(200).optional(),
  })
  .strict();
export type BackupFilter = z.infer<typeof BackupFilterSchema>;

/** A predicate for one filter, prepared once (dates parsed, text lowered) for fast loops. */
export function backupMatcher(filter: BackupFilter): (row: BackupRow) => boolean {
  const from = filter.from ? Date.parse(filter.from) : undefined;
  const to = filter.to ? Date.parse(filter.to) : undefined;
  const text = filter.text?.trim().toLowerCase() || undefined;
  return (row) => {
    if (filter.destinationId !== undefined && row.destinationId !== filter.destinationId)
      return false;
    if (filter.project !== undefined && row.project !== filter.project) return false;
    if (filter.verifyState !== undefined && row.verifyState !== filter.verifyState) return false;
    if (from !== undefined || to !== undefined) {
      const at = Date.parse(row.createdAt);
      if (from !== undefined && at < from) return false;
      if (to !== undefined && at >= to) return false;
    }
    if (text !== undefined) {
      const hay = `${row.id} ${row.project ?? ''} ${row.database ?? ''} ${row.scheduleId ?? ''}`;
      if (!hay.toLowerCase().includes(text)) return false;
    }
    return true;
  };
}

export function filterBackups(rows: readonly BackupRow[], filter: BackupFilter): BackupRow[] {
  return rows.filter(backupMatcher(filter));
}
