import { z } from 'zod';
import {
  BackupScopeSchema,
  CronExpressionSchema,
  RetentionPolicySchema,
  ScheduleInputSchema,
  ScheduleSchema,
  TimeZoneSchema,
} from '../../schedules.js';
import { entityId, method } from '../define.js';

/**
 * The Schedules screen: create, edit, pause/resume and remove schedules, preview the
 * next runs of a cron expression in a time zone, and preview which existing backups a
 * retention policy would keep or prune. Every change is pushed as `schedule.changed`.
 */

/** What a change answers: the schedule, and whether its destination's copy was updated. */
const ScheduleChangeSchema = z.object({
  schedule: ScheduleSchema,
  /** The destination keeps a copy of its schedules (for `catalog rebuild`); why not, if not. */
  savedInDestination: z.boolean(),
  warning: z.string().optional(),
});

export const ScheduleChangedEventSchema = z.object({
  change: z.enum(['created', 'updated', 'removed']),
  schedule: ScheduleSchema,
});

export const RetentionPreviewSchema = z.object({
  /** Which backups the policy considers, in words. */
  scope: z.string(),
  keep: z.array(z.object({ id: z.string(), createdAt: z.string(), reasons: z.array(z.string()) })),
  prune: z.array(z.object({ id: z.string(), createdAt: z.string() })),
  /** Empty backups of the scope: never counted, never pruned. */
  emptyIgnored: z.array(z.string()),
});

export const scheduleEditMethods = {
  'schedules.create': method({
    description: 'Add a schedule (cron in a time zone, scope, retention, verify policy).',
    input: ScheduleInputSchema,
    output: ScheduleChangeSchema,
    permission: 'schedules:manage',
  }),
  'schedules.update': method({
    description:
      'Change a schedule; a new timetable starts now (earlier occurrences are not reported missed).',
    input: z.object({ id: entityId, changes: ScheduleInputSchema.partial() }).strict(),
    output: ScheduleChangeSchema,
    permission: 'schedules:manage',
  }),
  'schedules.pause': method({
    description: 'Switch a schedule off (it keeps its settings, backups and history).',
    input: z.object({ id: entityId }).strict(),
    output: ScheduleChangeSchema,
    permission: 'schedules:manage',
  }),
  'schedules.resume': method({
    description:
      'Switch a schedule back on; occurrences while it was paused are not reported missed.',
    input: z.object({ id: entityId }).strict(),
    output: ScheduleChangeSchema,
    permission: 'schedules:manage',
  }),
  'schedules.remove': method({
    description: 'Remove a schedule; its backups and run history stay.',
    input: z.object({ id: entityId }).strict(),
    output: ScheduleChangeSchema,
    permission: 'schedules:manage',
  }),
  'schedules.preview': method({
    description:
      'The next runs of a cron expression in a time zone (by the parser the scheduler uses), as instants and as local times.',
    input: z
      .object({
        cron: CronExpressionSchema,
        timeZone: TimeZoneSchema.default('UTC'),
        count: z.number().int().min(1).max(50).default(5),
        /** Runs strictly after this instant; now when absent. */
        after: z.string().datetime().optional(),
      })
      .strict(),
    output: z.object({
      runs: z.array(z.object({ at: z.string(), local: z.string() })),
    }),
    permission: 'schedules:view',
  }),
  'schedules.retentionPreview': method({
    description:
      "Which of the backups now in the catalog a policy would keep (and why) and prune: an existing schedule's backups, or manual backups of a project's selection.",
    input: z
      .object({
        retention: RetentionPolicySchema,
        timeZone: TimeZoneSchema.default('UTC'),
        /** The schedule whose backups to consider (editing a schedule). */
        scheduleId: entityId.optional(),
        /** Otherwise: manual backups of this project's selection on this destination. */
        projectId: entityId.optional(),
        destinationId: entityId.optional(),
        scope: BackupScopeSchema.default({}),
        allowEmpty: z.boolean().default(false),
      })
      .strict()
      .refine((i) => i.scheduleId !== undefined || (i.projectId && i.destinationId), {
        message: 'give scheduleId, or projectId and destinationId',
      }),
    output: RetentionPreviewSchema,
    permission: 'schedules:view',
  }),
};
