import { z } from 'zod';
import { BACKUP_ID_PATTERN, backupSelectionSchema } from '../backups.js';
import { CheckReportSchema } from '../check.js';
import {
  ErrorDataSchema,
  JobEventSchema,
  JobKindSchema,
  RunSchema,
  RunStatusSchema,
} from '../jobs.js';
import type { Action } from '../rbac.js';
import { ScheduleSchema } from '../schedules.js';

/**
 * Every method the engine offers front ends, listed once: its input and output schemas
 * and the permission it needs. Electron's IPC handler, the preload bridge, the loopback
 * web server and the renderer's types are all derived from this list, so no channel
 * name is written twice and every input is validated where it arrives.
 */
export interface MethodDefinition<
  I extends z.ZodTypeAny = z.ZodTypeAny,
  O extends z.ZodTypeAny = z.ZodTypeAny,
> {
  input: I;
  output: O;
  permission: Action;
  description: string;
}

function method<I extends z.ZodTypeAny, O extends z.ZodTypeAny>(
  d: MethodDefinition<I, O>,
): MethodDefinition<I, O> {
  return d;
}

const id = z.string().min(1).max(200);

export const BackupSummarySchema = z.object({
  id: z.string().regex(BACKUP_ID_PATTERN),
  createdAt: z.string(),
  keyId: z.string(),
  size: z.number().int().nonnegative(),
  readable: z.boolean(),
  project: z.string().optional(),
  database: z.string().optional(),
  documents: z.number().int().nonnegative().optional(),
  readTime: z.string().optional(),
  completedAt: z.string().optional(),
  scheduleId: z.string().optional(),
  selection: backupSelectionSchema.optional(),
  /** Set when the backup's manifest is damaged: the backup is listed, marked. */
  error: ErrorDataSchema.optional(),
});

export const JobStateSchema = z.object({
  id,
  kind: JobKindSchema,
  status: RunStatusSchema,
});

export const contract = {
  'backups.list': method({
    description: 'The complete backups in a destination of the catalog, newest first.',
    input: z.object({ destinationId: id }).strict(),
    output: z.array(BackupSummarySchema),
    permission: 'backups:view',
  }),
  'jobs.startBackup': method({
    description: 'Back up a project of the catalog into one of its destinations now.',
    input: z.object({ projectId: id, destinationId: id }).strict(),
    output: z.object({ jobId: id }),
    permission: 'backups:create',
  }),
  'jobs.startVerify': method({
    description: 'Verify backups of a destination (the least recently verified first).',
    input: z
      .object({ destinationId: id, limit: z.number().int().min(1).max(1000).default(10) })
      .strict(),
    output: z.object({ jobId: id }),
    permission: 'backups:view',
  }),
  'jobs.cancel': method({
    description: 'Cancel a running job; a cancelled backup leaves nothing visible.',
    input: z.object({ jobId: id }).strict(),
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
  'destinations.check': method({
    description:
      'Check a whole destination (manifests, digests, orphans, leftovers, the catalog; readData = share of archives decrypted in full). Recorded as a check run.',
    input: z.object({ destinationId: id, readData: z.number().min(0).max(1).default(0) }).strict(),
    output: CheckReportSchema,
    permission: 'backups:view',
  }),
  'destinations.repair': method({
    description:
      'The same check, then remove orphans and leftovers older than a day (never an archive that has a manifest).',
    input: z.object({ destinationId: id, readData: z.number().min(0).max(1).default(0) }).strict(),
    output: CheckReportSchema,
    permission: 'backups:delete',
  }),
  'schedules.list': method({
    description: 'Every schedule.',
    input: z.object({}).strict(),
    output: z.array(ScheduleSchema),
    permission: 'schedules:view',
  }),
  'schedules.runNow': method({
    description: 'Run a schedule now, outside its timetable.',
    input: z.object({ schedule: id }).strict(),
    output: z.object({ jobId: id }),
    permission: 'backups:create',
  }),
} as const satisfies Record<string, MethodDefinition>;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type MethodInput<M extends MethodName> = z.input<Contract[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Contract[M]['output']>;

/**
 * Events pushed to front ends, declared like methods. A front end receives only the events
 * it subscribed to. `job`: every state change and progress tick of a job; `run.finished`:
 * the recorded run once a job reaches a terminal state (what history and notifications
 * show). Schedule changes will join when the schedule-editing methods do.
 */
export const events = {
  job: JobEventSchema,
  'run.finished': RunSchema,
} as const;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];
export const METHOD_NAMES = Object.keys(contract) as MethodName[];
