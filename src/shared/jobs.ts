import { z } from 'zod';

/**
 * Jobs and runs: what the engine pushes while work happens and what it records when it
 * ends. Pure schemas, part of the typed contract the GUI binds to.
 */

/** `rotate`: a scheduled key rotation, recorded as a run; `check`: a whole-destination check. */
export const JobKindSchema = z.enum(['backup', 'restore', 'verify', 'prune', 'check', 'rotate']);
export type JobKind = z.infer<typeof JobKindSchema>;

/**
 * Life of a run. `missed` is a scheduled occurrence that never ran (machine asleep, app
 * closed); it is recorded so the history says so, and is caught up by one later run.
 */
export const RunStatusSchema = z.enum([
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'missed',
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TERMINAL_STATUSES: readonly RunStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'missed',
];

/** Why a run started. */
export const RunTriggerSchema = z.enum(['manual', 'schedule', 'catch-up']);
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

export const ProgressSchema = z.object({
  phase: z.string(),
  items: z.number(),
  unit: z.string().optional(),
  itemsTotal: z.number().optional(),
  bytes: z.number(),
  itemsPerSecond: z.number(),
  bytesPerSecond: z.number(),
  etaSeconds: z.number().optional(),
});

export const ErrorDataSchema = z.object({
  code: z.string(),
  message: z.string(),
  fault: z.enum(['user', 'system']),
  retryable: z.boolean(),
});

/** One recorded run (the catalog's `runs` row, as the API shows it). */
export const RunSchema = z.object({
  id: z.string(),
  kind: JobKindSchema,
  status: RunStatusSchema,
  trigger: RunTriggerSchema,
  projectId: z.string().nullable(),
  destinationId: z.string().nullable(),
  scheduleId: z.string().nullable(),
  backupId: z.string().nullable(),
  /** The cron occurrence this run is for (scheduled and missed runs). */
  scheduledFor: z.string().datetime().nullable(),
  startedAt: z.string().datetime().nullable(),
  finishedAt: z.string().datetime().nullable(),
  attempts: z.number().int(),
  /** Item counts by kind ("documents", "collections"…), when the job reports them. */
  counts: z.record(z.number()).nullable(),
  bytes: z.number().nullable(),
  error: ErrorDataSchema.nullable(),
  /** Kind-specific result (verify report summary, pruned ids…), small JSON. */
  detail: z.record(z.unknown()).nullable(),
});
export type Run = z.infer<typeof RunSchema>;

/** Push events from the job manager. */
export const JobEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    jobId: z.string(),
    kind: JobKindSchema,
    status: RunStatusSchema,
    attempt: z.number().int(),
    error: ErrorDataSchema.optional(),
  }),
  z.object({ type: z.literal('progress'), jobId: z.string(), progress: ProgressSchema }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;
