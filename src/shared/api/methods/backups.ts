import { z } from 'zod';
import { BACKUP_ID_PATTERN, backupSelectionSchema } from '../../backups.js';
import { ErrorDataSchema } from '../../jobs.js';
import { entityId, method } from '../define.js';
import { withOrigin } from './sync.js';

export const BackupSummarySchema = z.object({
  id: z.string().regex(BACKUP_ID_PATTERN),
  createdAt: z.string(),
  keyId: z.string(),
  size: z.number().int().nonnegative(),
  readable: z.boolean(),
  project: z.string().optional(),
  database: z.string().optional(),
  documents: z.number().int().nonnegative().optional(),
  /** The sources the backup holds, and its per-source counts ("auth.users", "storage.objects", …). */
  sources: z.array(z.string()).optional(),
  counts: z.record(z.string(), z.number()).optional(),
  readTime: z.string().optional(),
  completedAt: z.string().optional(),
  scheduleId: z.string().optional(),
  selection: backupSelectionSchema.optional(),
  /** Set when the backup's manifest is damaged: the backup is listed, marked. */
  error: ErrorDataSchema.optional(),
});

export const backupMethods = {
  'backups.list': method({
    description: 'The complete backups in a destination of the catalog, newest first.',
    input: z.object({ destinationId: entityId }).strict(),
    output: z.array(withOrigin(BackupSummarySchema)),
    permission: 'backups:view',
  }),
};
