import { z } from 'zod';
import { JobKindSchema, RunSchema, RunStatusSchema } from '../../jobs.js';
import { entityId, method } from '../define.js';
import { StartBackupInputSchema } from './sources.js';

export const JobStateSchema = z.object({
  id: entityId,
  kind: JobKindSchema,
  status: RunStatusSchema,
});

export const jobMethods = {
  'jobs.startBackup': method({
    description:
      'Back up a project of the catalog into one of its destinations now: Firestore, or the sources named (see sources.probe for those the credentials can read), with their filters.',
    input: StartBackupInputSchema,
    output: z.object({ jobId: entityId }),
    permission: 'backups:create',
  }),
  'jobs.startVerify': method({
    description: 'Verify backups of a destination (the least recently verified first).',
    input: z
      .object({ destinationId: entityId, limit: z.number().int().min(1).max(1000).default(10) })
      .strict(),
    output: z.object({ jobId: entityId }),
    permission: 'backups:view',
  }),
  'jobs.cancel': method({
    description: 'Cancel a running job; a cancelled backup leaves nothing visible.',
    input: z.object({ jobId: entityId }).strict(),
    output: z.object({ cancelled: z.boolean() }),
    permission: 'backups:create',
  }),
  'jobs.active': method({
    description: 'Jobs running or queued in this process.',
    input: z.object({}).strict(),
    output: z.array(JobStateSchema),
    permission: 'backups:view',
  }),
  'runs.history': method({
    description: 'Recorded runs, newest first.',
    input: z
      .object({
        limit: z.number().int().min(1).max(1000).default(50),
        kind: JobKindSchema.optional(),
        status: RunStatusSchema.optional(),
      })
      .strict(),
    output: z.array(RunSchema),
    permission: 'backups:view',
  }),
};
