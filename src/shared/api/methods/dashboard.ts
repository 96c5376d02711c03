import { z } from 'zod';
import { ErrorDataSchema, RunStatusSchema } from '../../jobs.js';
import { entityId, method } from '../define.js';
import { withOrigin } from './sync.js';

/**
 * The Dashboard: every project's health, storage per destination, and series over time.
 * In team sync mode they are the organisation's, merged with this machine's as the other
 * catalog screens are (rows carry the same optional `origin`; ADR 0015).
 */

export const ProjectHealthSchema = withOrigin(
  z.object({
    projectId: z.string(),
    name: z.string(),
    firebaseProjectId: z.string(),
    /** never: no good backup yet; ok; stale: the last good backup is old; failing: the last run failed. */
    health: z.enum(['never', 'ok', 'stale', 'failing']),
    lastGood: z
      .object({
        runId: z.string(),
        backupId: z.string().nullable(),
        at: z.string(),
        ageSeconds: z.number(),
      })
      .nullable(),
    lastRun: z
      .object({
        runId: z.string(),
        status: RunStatusSchema,
        at: z.string(),
        error: ErrorDataSchema.nullable(),
      })
      .nullable(),
    /** The next scheduled run of any enabled schedule of the project. */
    nextRun: z
      .object({ at: z.string(), scheduleId: z.string(), scheduleName: z.string() })
      .nullable(),
    /** Failed and missed backup runs since the last good one. */
    failuresSinceGood: z.number().int(),
  }),
);

export const DestinationUsageSchema = withOrigin(
  z.object({
    destinationId: z.string(),
    name: z.string(),
    url: z.string(),
    backups: z.number().int(),
    bytes: z.number(),
  }),
);

export const SeriesPointSchema = z.object({
  projectId: z.string(),
  runId: z.string(),
  backupId: z.string().nullable(),
  at: z.string(),
  bytes: z.number().nullable(),
  documents: z.number().nullable(),
  durationSeconds: z.number().nullable(),
});

export const dashboardMethods = {
  'dashboard.overview': method({
    description:
      "Every project's health (last good backup and its age, last run, next run, failures) and the storage each destination uses (from the catalog; in team sync mode merged with the organisation's).",
    input: z
      .object({
        /** A last good backup older than this is "stale". */
        staleAfterHours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(48),
      })
      .strict(),
    output: z.object({
      projects: z.array(ProjectHealthSchema),
      destinations: z.array(DestinationUsageSchema),
      generatedAt: z.string(),
    }),
    permission: 'backups:view',
  }),
  'dashboard.series': method({
    description:
      'Successful backup runs over time (size, documents, duration), oldest first, per project: the charts.',
    input: z
      .object({
        projectId: entityId.optional(),
        days: z.number().int().min(1).max(3660).default(90),
      })
      .strict(),
    output: z.array(SeriesPointSchema),
    permission: 'backups:view',
  }),
};
