import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { ScheduleInputSchema } from '../../shared/schedules.js';
import { anyMember, ruleFor } from '../auth.js';
import { lastRead, type Reader, type Tx } from '../db/db.js';
import { checkDestination, refuseSecrets, shapeOf } from '../destinations.js';
import { newId } from '../ids.js';
import { isoTime, isoTimes, PageQuery } from '../pagination.js';
import { parseBody } from './body.js';
import { listRoute } from './list-route.js';
import { notFound, param, requireProject, type OrgRoute } from './org-route.js';

/**
 * The shared catalog beside projects and backups: destinations, schedules and runs, so
 * every member of the organisation sees the same state. Reads are open to every member;
 * writes follow the guide's matrix: destinations are settings (owner, admin, as projects),
 * schedules are managed by members too, and a run is reported by whoever may create
 * backups. Every write is audited in the same transaction.
 */

// ---- destinations --------------------------------------------------------------------

const DestinationBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    url: z.string().min(1).max(2048),
    options: z.record(z.unknown()).default({}),
  })
  .strict();
const DestinationPatch = DestinationBody.omit({ url: true }).partial().strict();

interface DestinationRow {
  id: string;
  name: string;
  url: string;
  options: Record<string, unknown>;
  createdBy: string;
  /** ISO 8601 text (isoTime), as the answer carries it. */
  createdAt: string;
  updatedAt: string;
}

const DESTINATION_COLUMNS = `id, name, url, options, created_by AS "createdBy",
  ${isoTime('created_at', 'createdAt')}, ${isoTime('updated_at', 'updatedAt')}`;

/** The answer for a destination: what it is (kind, bucket, prefix, folder) and its options. */
function destinationView(row: DestinationRow) {
  const { kind, ...where } = shapeOf(row.url);
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    kind,
    ...where,
    options: row.options,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function getDestination(
  tx: Reader,
  id: string,
  lock = false,
): Promise<DestinationRow> {
  const [row] = await tx.query<DestinationRow>(
    `SELECT ${DESTINATION_COLUMNS} FROM destinations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  if (row === undefined) throw notFound('destination', id);
  return row;
}

async function nameFree(tx: Tx, name: string, except?: string): Promise<void> {
  const [taken] = await tx.query(
    'SELECT 1 FROM destinations WHERE name = $1 AND id IS DISTINCT FROM $2',
    [name, except ?? null],
  );
  if (taken !== undefined)
    throw new AppError(
      'ALREADY_EXISTS',
      `A destination named "${name}" is already in this organisation; choose another name.`,
    );
}

// ---- schedules -----------------------------------------------------------------------

/**
 * The engine's own schedule input (src/shared/schedules.ts), so the app sends its
 * schedules unchanged; `paused` is accepted as the opposite of `enabled`, the word the
 * catalog uses.
 */
const ScheduleBody = ScheduleInputSchema.extend({ paused: z.boolean().optional() });
const SchedulePatch = ScheduleInputSchema.partial().extend({ paused: z.boolean().optional() });
type ScheduleFields = z.output<typeof ScheduleInputSchema>;

interface ScheduleRow {
  id: string;
  name: string;
  projectId: string;
  destinationId: string;
  cron: string;
  timeZone: string;
  paused: boolean;
  settings: Omit<
    ScheduleFields,
    'name' | 'projectId' | 'destinationId' | 'cron' | 'timeZone' | 'enabled'
  >;
  createdBy: string;
  /** ISO 8601 text (isoTime), as the answer carries it. */
  createdAt: string;
  updatedAt: string;
}

const SCHEDULE_COLUMNS = `id, name, project_id AS "projectId", destination_id AS "destinationId",
  cron, time_zone AS "timeZone", paused, settings, created_by AS "createdBy",
  ${isoTime('created_at', 'createdAt')}, ${isoTime('updated_at', 'updatedAt')}`;

function scheduleFields(row: ScheduleRow): ScheduleFields {
  return {
    ...row.settings,
    name: row.name,
    projectId: row.projectId,
    destinationId: row.destinationId,
    cron: row.cron,
    timeZone: row.timeZone,
    enabled: !row.paused,
  };
}

function scheduleView(row: ScheduleRow) {
  return {
    id: row.id,
    ...scheduleFields(row),
    paused: row.paused,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** `paused` and `enabled` say the same thing; both given, they must agree. */
function withPaused<T extends { enabled?: boolean; paused?: boolean | undefined }>(
  input: T,
): Omit<T, 'paused'> {
  const { paused, ...rest } = input;
  if (paused === undefined) return rest;
  if (rest.enabled !== undefined && rest.enabled === paused)
    throw new AppError(
      'INVALID_ARGUMENT',
      'The request is not valid: paused and enabled contradict each other; send one of them.',
    );
  return { ...rest, enabled: !paused };
}

/** The schedule's project and destination must be this organisation's (RLS hides others'). */
async function checkReferences(tx: Tx, s: ScheduleFields): Promise<void> {
  await requireProject(tx, s.projectId);
  await getDestination(tx, s.destinationId);
}

/** Creates or replaces schedule `id` with `s` (one statement for both). */
async function writeSchedule(
  tx: Tx,
  id: string,
  s: ScheduleFields,
  c: { orgId: string; actor: { id: string } },
): Promise<ScheduleRow> {
  const { name, projectId, destinationId, cron, timeZone, enabled, ...settings } = s;
  const [row] = await tx.query<ScheduleRow>(
    `INSERT INTO schedules (id, organisation_id, name, project_id, destination_id, cron,
                            time_zone, paused, settings, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, project_id = EXCLUDED.project_id,
        destination_id = EXCLUDED.destination_id, cron = EXCLUDED.cron,
        time_zone = EXCLUDED.time_zone, paused = EXCLUDED.paused,
        settings = EXCLUDED.settings, updated_at = now()
     RETURNING ${SCHEDULE_COLUMNS}`,
    [
      id,
      c.orgId,
      name,
      projectId,
      destinationId,
      cron,
      timeZone,
      !enabled,
      JSON.stringify(settings),
      c.actor.id,
    ],
  );
  return row!;
}

async function getSchedule(tx: Reader, id: string): Promise<ScheduleRow> {
  const [row] = await tx.query<ScheduleRow>(
    `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (row === undefined) throw notFound('schedule', id);
  return row;
}

// ---- runs ----------------------------------------------------------------------------

const RUN_STATUSES = ['started', 'finished', 'failed'] as const;
const count = z.number().int().nonnegative();
const RunOutcome = {
  finishedAt: z.coerce.date().optional(),
  documentCount: count.optional(),
  bytes: count.optional(),
  errorMessage: z.string().min(1).max(4000).optional(),
  /** The app's error code (UNAVAILABLE, PERMISSION_DENIED, …), for filtering the history. */
  errorCode: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'an error code like UNAVAILABLE')
    .optional(),
  backupId: z.string().min(1).max(200).optional(),
};
const needsError = (
  r: { status: string; errorMessage?: string | undefined },
  ctx: z.RefinementCtx,
) => {
  if (r.status === 'failed' && r.errorMessage === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['errorMessage'],
      message: 'a failed run needs its errorMessage (what went wrong)',
    });
};
const RunBody = z
  .object({
    projectId: z.string().min(1).max(200),
    scheduleId: z.string().min(1).max(200).optional(),
    destinationId: z.string().min(1).max(200).optional(),
    status: z.enum(RUN_STATUSES).default('started'),
    startedAt: z.coerce.date().optional(),
    ...RunOutcome,
  })
  .strict()
  .superRefine(needsError);
const RunPatch = z
  .object({ status: z.enum(['finished', 'failed']), ...RunOutcome })
  .strict()
  .superRefine(needsError);
const RunsQuery = z.object({
  ...PageQuery,
  status: z.enum(RUN_STATUSES).optional(),
  projectId: z.string().max(200).optional(),
  scheduleId: z.string().max(200).optional(),
});

const RUN_COLUMNS = `id, project_id AS "projectId", schedule_id AS "scheduleId",
  destination_id AS "destinationId", status, started_at AS "startedAt",
  finished_at AS "finishedAt", document_count::float8 AS "documentCount",
  bytes::float8 AS "bytes", error_message AS "errorMessage", error_code AS "errorCode", backup_id AS "backupId",
  reported_by AS "reportedBy", created_at AS "createdAt"`;

interface RunRow {
  id: string;
  projectId: string;
  scheduleId: string | null;
  status: (typeof RUN_STATUSES)[number];
  documentCount: number | null;
  bytes: number | null;
  errorMessage: string | null;
  errorCode: string | null;
  backupId: string | null;
}

/** What the audit log keeps of a run (its error shortened: the run's record has it whole). */
function runMetadata(r: RunRow): Record<string, unknown> {
  return {
    projectId: r.projectId,
    ...(r.scheduleId !== null ? { scheduleId: r.scheduleId } : {}),
    ...(r.backupId !== null ? { backupId: r.backupId } : {}),
    ...(r.documentCount !== null ? { documentCount: r.documentCount } : {}),
    ...(r.bytes !== null ? { bytes: r.bytes } : {}),
    ...(r.errorMessage !== null ? { error: r.errorMessage.slice(0, 500) } : {}),
    ...(r.errorCode !== null ? { errorCode: r.errorCode } : {}),
  };
}

const READ_CATALOG = anyMember('projects:read');
const MANAGE_DESTINATIONS = ruleFor('projects:manage');

export const CATALOG_ROUTES: readonly OrgRoute[] = [
  listRoute<DestinationRow>({
    path: '/destinations',
    rule: READ_CATALOG,
    summary: 'List destinations (non-secret options only; a page, oldest first).',
    field: 'destinations',
    list: { select: DESTINATION_COLUMNS, from: 'destinations', order: 'asc' },
    view: destinationView,
  }),
  {
    method: 'GET',
    path: '/destinations/:destinationId',
    rule: READ_CATALOG,
    summary: 'One destination.',
    async handle(tx, _c, request) {
      const row = await getDestination(lastRead(tx), param(request, 'destinationId'));
      return { body: destinationView(row) };
    },
  },
  {
    method: 'POST',
    path: '/destinations',
    rule: MANAGE_DESTINATIONS,
    summary: 'Add a destination: a folder, s3:// or gs:// URL and non-secret options.',
    body: DestinationBody,
    async handle(tx, c, request, audit) {
      refuseSecrets(request.body, (request.body as { url?: unknown } | undefined)?.url as string);
      const body = parseBody(DestinationBody, request.body);
      const { kind } = checkDestination(body.url, body.options);
      await nameFree(tx, body.name);
      const id = newId('dst');
      const [row] = await tx.query<DestinationRow>(
        `INSERT INTO destinations (id, organisation_id, name, url, kind, options, created_by)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING ${DESTINATION_COLUMNS}`,
        [id, c.orgId, body.name, body.url, kind, JSON.stringify(body.options), c.actor.id],
      );
      await audit({
        event: 'destination.created',
        resource: { type: 'destination', id },
        metadata: { name: body.name, kind, url: body.url },
      });
      return { status: 201, body: destinationView(row!) };
    },
  },
  {
    method: 'PATCH',
    path: '/destinations/:destinationId',
    rule: MANAGE_DESTINATIONS,
    summary: 'Rename a destination or replace its options (its URL stays: that is its identity).',
    body: DestinationPatch,
    async handle(tx, _c, request, audit) {
      const current = await getDestination(tx, param(request, 'destinationId'), true);
      refuseSecrets(request.body, current.url);
      const patch = parseBody(DestinationPatch, request.body);
      const options = patch.options ?? current.options;
      checkDestination(current.url, options);
      if (patch.name !== undefined) await nameFree(tx, patch.name, current.id);
      const [row] = await tx.query<DestinationRow>(
        `UPDATE destinations SET name = $2, options = $3::jsonb, updated_at = now()
          WHERE id = $1 RETURNING ${DESTINATION_COLUMNS}`,
        [current.id, patch.name ?? current.name, JSON.stringify(options)],
      );
      await audit({
        event: 'destination.updated',
        resource: { type: 'destination', id: current.id },
        metadata: { changed: Object.keys(patch) },
      });
      return { body: destinationView(row!) };
    },
  },
  {
    method: 'DELETE',
    path: '/destinations/:destinationId',
    rule: MANAGE_DESTINATIONS,
    summary: 'Remove a destination no schedule uses (its backups stay where they are).',
    async handle(tx, _c, request, audit) {
      const current = await getDestination(tx, param(request, 'destinationId'), true);
      const [used] = await tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM schedules WHERE destination_id = $1',
        [current.id],
      );
      if (used !== undefined && used.n > 0)
        throw new AppError(
          'INVALID_ARGUMENT',
          `Destination "${current.name}" is used by ${used.n} schedule${used.n === 1 ? '' : 's'}; point them elsewhere or delete them first.`,
        );
      await tx.query('DELETE FROM destinations WHERE id = $1', [current.id]);
      await audit({
        event: 'destination.deleted',
        resource: { type: 'destination', id: current.id },
        metadata: { name: current.name, url: current.url },
      });
      return { status: 204 };
    },
  },
  listRoute<ScheduleRow>({
    path: '/schedules',
    rule: ruleFor('schedules:view'),
    summary: 'List schedules (a page, oldest first).',
    field: 'schedules',
    list: { select: SCHEDULE_COLUMNS, from: 'schedules', order: 'asc' },
    view: scheduleView,
  }),
  {
    method: 'GET',
    path: '/schedules/:scheduleId',
    rule: ruleFor('schedules:view'),
    summary: 'One schedule.',
    async handle(tx, _c, request) {
      return { body: scheduleView(await getSchedule(lastRead(tx), param(request, 'scheduleId'))) };
    },
  },
  {
    method: 'POST',
    path: '/schedules',
    rule: ruleFor('schedules:manage'),
    summary: "Add a schedule (the engine's schedule fields; paused or enabled).",
    body: ScheduleBody,
    async handle(tx, c, request, audit) {
      const input = withPaused(parseBody(ScheduleBody, request.body));
      await checkReferences(tx, input);
      const id = newId('sch');
      const row = await writeSchedule(tx, id, input, c);
      await audit({
        event: 'schedule.created',
        resource: { type: 'schedule', id },
        metadata: {
          name: input.name,
          projectId: input.projectId,
          destinationId: input.destinationId,
          cron: input.cron,
          timeZone: input.timeZone,
        },
      });
      return { status: 201, body: scheduleView(row) };
    },
  },
  {
    method: 'PATCH',
    path: '/schedules/:scheduleId',
    rule: ruleFor('schedules:manage'),
    summary: 'Change a schedule (any of its fields; paused: true to pause it).',
    body: SchedulePatch,
    async handle(tx, c, request, audit) {
      const current = await getSchedule(tx, param(request, 'scheduleId'));
      const patch = withPaused(parseBody(SchedulePatch, request.body));
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      // The result is checked whole, as a new schedule would be.
      const merged = parseBody(ScheduleInputSchema, { ...scheduleFields(current), ...defined });
      await checkReferences(tx, merged);
      const row = await writeSchedule(tx, current.id, merged, c);
      await audit({
        event: 'schedule.updated',
        resource: { type: 'schedule', id: current.id },
        metadata: { changed: Object.keys(defined), paused: row.paused },
      });
      return { body: scheduleView(row) };
    },
  },
  {
    method: 'DELETE',
    path: '/schedules/:scheduleId',
    rule: ruleFor('schedules:manage'),
    summary: 'Delete a schedule (its runs stay in the history).',
    async handle(tx, _c, request, audit) {
      const current = await getSchedule(tx, param(request, 'scheduleId'));
      await tx.query('DELETE FROM schedules WHERE id = $1', [current.id]);
      await audit({
        event: 'schedule.deleted',
        resource: { type: 'schedule', id: current.id },
        metadata: { name: current.name },
      });
      return { status: 204 };
    },
  },
  listRoute({
    path: '/runs',
    rule: ruleFor('backups:view'),
    summary: 'The run history, newest first (a page; filters: status, projectId, scheduleId).',
    field: 'runs',
    list: {
      select: isoTimes(RUN_COLUMNS, ['started_at', 'finished_at', 'created_at']),
      from: 'runs',
      order: 'desc',
    },
    query: RunsQuery,
    filters: { status: 'status', projectId: 'project_id', scheduleId: 'schedule_id' },
  }),
  {
    method: 'POST',
    path: '/runs',
    rule: ruleFor('backups:create'),
    summary: "Report a run from a member's app: started, or already finished or failed.",
    body: RunBody,
    async handle(tx, c, request, audit) {
      const body = parseBody(RunBody, request.body);
      await requireProject(tx, body.projectId);
      if (body.scheduleId !== undefined) await getSchedule(tx, body.scheduleId);
      if (body.destinationId !== undefined) await getDestination(tx, body.destinationId);
      const id = newId('run');
      const done = body.status !== 'started';
      const [row] = await tx.query<RunRow>(
        `INSERT INTO runs (id, organisation_id, project_id, schedule_id, destination_id, status,
                           started_at, finished_at, document_count, bytes, error_message,
                           backup_id, reported_by, error_code)
         VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()), $8, $9, $10, $11, $12, $13, $14)
         RETURNING ${RUN_COLUMNS}`,
        [
          id,
          c.orgId,
          body.projectId,
          body.scheduleId ?? null,
          body.destinationId ?? null,
          body.status,
          body.startedAt ?? null,
          done ? (body.finishedAt ?? new Date()) : null,
          body.documentCount ?? null,
          body.bytes ?? null,
          body.errorMessage ?? null,
          body.backupId ?? null,
          c.actor.id,
          body.errorCode ?? null,
        ],
      );
      await audit({
        event: `run.${body.status}`,
        level: body.status === 'failed' ? 'warn' : 'info',
        resource: { type: 'run', id },
        metadata: runMetadata(row!),
      });
      return { status: 201, body: row };
    },
  },
  {
    method: 'PATCH',
    path: '/runs/:runId',
    rule: ruleFor('backups:create'),
    summary: 'Report how a started run ended: finished (counts, bytes, backup id) or failed.',
    body: RunPatch,
    async handle(tx, _c, request, audit) {
      const id = param(request, 'runId');
      const body = parseBody(RunPatch, request.body);
      const [current] = await tx.query<{ status: string }>(
        'SELECT status FROM runs WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (current === undefined) throw notFound('run', id);
      if (current.status !== 'started')
        throw new AppError(
          'ALREADY_EXISTS',
          `Run ${id} was already reported ${current.status}; a run's outcome is reported once.`,
        );
      const [row] = await tx.query<RunRow>(
        `UPDATE runs SET status = $2, finished_at = $3, document_count = $4, bytes = $5,
                error_message = $6, backup_id = $7, error_code = $8
          WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
        [
          id,
          body.status,
          body.finishedAt ?? new Date(),
          body.documentCount ?? null,
          body.bytes ?? null,
          body.errorMessage ?? null,
          body.backupId ?? null,
          body.errorCode ?? null,
        ],
      );
      await audit({
        event: `run.${body.status}`,
        level: body.status === 'failed' ? 'warn' : 'info',
        resource: { type: 'run', id },
        metadata: runMetadata(row!),
      });
      return { body: row };
    },
  },
];
