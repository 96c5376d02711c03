import { z } from 'zod';
import { backupScopeProblems } from '../../backup-scope.js';
import { BackupScopeSchema } from '../../schedules.js';
import { entityId, method } from '../define.js';

/**
 * The sources of a backup in the contract: what a project's credentials can read, and
 * the selection a manual backup takes (the same fields as a schedule's scope, so a new
 * source's filter added there reaches jobs.startBackup too).
 */

/** jobs.startBackup's input: the project, the destination, and optionally the sources and their filters. */
export const StartBackupInputSchema = BackupScopeSchema.omit({ database: true })
  .extend({ projectId: entityId, destinationId: entityId })
  .strict()
  .superRefine((input, ctx) => {
    for (const message of backupScopeProblems(input)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    }
  });

export const SourceProbeSchema = z.object({
  /** The sources the project's credentials can read, in archive order (Firestore always). */
  sources: z.array(z.string()),
  /** The others, and why each cannot be read (permission denied, API not enabled, …). */
  skipped: z.array(z.object({ source: z.string(), reason: z.string() })),
});

export const sourceMethods = {
  'sources.probe': method({
    description:
      "Which sources a project's credentials can read (one cheap read each) and why the others cannot: the default selection of a backup.",
    input: z.object({ projectId: entityId }).strict(),
    output: SourceProbeSchema,
    permission: 'backups:create',
  }),
};
