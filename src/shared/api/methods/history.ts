import { z } from 'zod';
import { JobKindSchema, RunSchema, RunStatusSchema } from '../../jobs.js';
import { entityId, method } from '../define.js';
import { withOrigin } from './sync.js';

/** The History screen: every run (missed and failed included) with what to do about it. */

export const HistoryRunSchema = RunSchema.extend({
  /** What to do about a failed, missed or cancelled run; null when nothing is needed. */
  advice: z.string().nullable(),
  projectName: z.string().nullable(),
  scheduleName: z.string().nullable(),
});

export const historyMethods = {
  'history.runs': method({
    description:
      'Recorded runs, newest first, filtered by kind, status, project and schedule, each with advice.',
    input: z
      .object({
        kind: JobKindSchema.optional(),
        status: RunStatusSchema.optional(),
        projectId: entityId.optional(),
        scheduleId: entityId.optional(),
        limit: z.number().int().min(1).max(5000).default(500),
      })
      .strict(),
    output: z.array(withOrigin(HistoryRunSchema)),
    permission: 'backups:view',
  }),
  'history.run': method({
    description: 'One run (a job id is its run id), with advice: a job’s final report.',
    input: z.object({ runId: entityId }).strict(),
    output: HistoryRunSchema,
    permission: 'backups:view',
  }),
};
