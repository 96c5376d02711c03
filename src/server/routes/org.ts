import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { API_KEY_SCOPES, ROLES, type Role } from '../../shared/rbac.js';
import { answerSchema } from '../answer-schema.js';
import { JsonText } from '../http.js';
import { toCsv, toNdjson } from '../audit-export.js';
import { appendAudit, linkedEntries, searchAudit, verifyChain } from '../audit.js';
import {
  API_KEY_PREFIX,
  anyMember,
  authenticate,
  authorize,
  membershipCheck,
  recordDenial,
  ruleFor,
  type OrgCaller,
  type ServerContext,
} from '../auth.js';
import { lastRead, type Tx } from '../db/db.js';
import {
  idempotencyKeyOf,
  idempotent,
  idempotentForUser,
  requestFingerprint,
  type WriteOutcome,
} from '../idempotency.js';
import { refuseSecrets } from '../destinations.js';
import { newId, sha256 } from '../ids.js';
import type { RouteDoc } from '../openapi.js';
import { isoTime, PageQuery } from '../pagination.js';
import { parseBody } from './body.js';
import { BILLING_ROUTES } from './billing.js';
import { CATALOG_ROUTES, getDestination } from './catalog.js';
import { INVITATION_ROUTES } from './invitations.js';
import { listRoute } from './list-route.js';
import { checkMemberChange } from './members.js';
import { notFound, param, requireProject, type OrgRoute } from './org-route.js';
import { PROJECT_WRITE_ROUTES, ProjectBody } from './projects.js';

export type { OrgRoute } from './org-route.js';

const ADMIN_TASK = ruleFor('members:manage');

const RoleBody = z.object({ role: z.enum(ROLES) });
const KeyBody = z.object({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
  /** Days until the key stops working; keys always expire (default 90 days). */
  expiresInDays: z.number().int().positive().max(3650).default(90),
});
const BackupBody = z.object({
  projectId: z.string().min(1),
  keyId: z.string().max(200).optional(),
  /** The engine's id of the backup (bkp_…) and the sources it holds (firestore, auth …). */
  backupId: z.string().min(1).max(200).optional(),
  sources: z.array(z.string().min(1).max(40)).max(20).optional(),
  sizeBytes: z.number().int().nonnegative().optional(),
  documentCount: z.number().int().nonnegative().optional(),
  /**
   * Where its archive lives: the organisation's destination (when it has it) and the URL
   * (given, or the destination's). Non-secret only: credentials in the URL are refused.
   */
  destinationId: z.string().min(1).max(200).optional(),
  destinationUrl: z.string().min(1).max(2048).optional(),
});
const AuditFilters = {
  event: z.string().optional(),
  actor: z.string().optional(),
  since: z.coerce.date().optional(),
  until: z.coerce.date().optional(),
};
const AuditExportQuery = z.object({
  ...AuditFilters,
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});
const AuditQuery = z.object({ ...AuditFilters, ...PageQuery });
const BackupsQuery = z.object({ ...PageQuery, projectId: z.string().max(200).optional() });

/** The filters of an audit query, without the ones it did not give. */
function auditFilters(q: z.infer<typeof AuditQuery> | z.infer<typeof AuditExportQuery>) {
  return {
    ...(q.event !== undefined ? { event: q.event } : {}),
    ...(q.actor !== undefined ? { actorId: q.actor } : {}),
    ...(q.since !== undefined ? { since: q.since } : {}),
    ...(q.until !== undefined ? { until: q.until } : {}),
  };
}

export const ORG_ROUTES: readonly OrgRoute[] = [
  {
    method: 'GET',
    path: '',
    rule: anyMember(null),
    summary: "The organisation and the caller's role in it.",
    async handle(tx, c) {
      const [org] = await tx.queryAndCommit<{ id: string; name: string; created_at: Date }>(
        'SELECT id, name, created_at FROM organisations',
      );
      if (org === undefined) throw notFound('organisation', c.orgId);
      return { body: { id: org.id, name: org.name, createdAt: org.created_at, role: c.role } };
    },
  },
  {
    method: 'DELETE',
    path: '',
    rule: ruleFor('org:delete'),
    summary: 'Delete the organisation (owner).',
    async handle(tx, c, _r, audit) {
      // The audit chain of the organisation stays: it is the record that it was deleted.
      await audit({
        event: 'organization.deleted',
        resource: { type: 'organization', id: c.orgId },
        metadata: {},
      });
      await tx.query('DELETE FROM organisations');
      return { status: 204 };
    },
  },
  listRoute({
    path: '/members',
    rule: anyMember(null),
    summary: 'List the members and their roles (a page, oldest first).',
    field: 'members',
    list: {
      select: `m.user_id AS "userId", u.email, u.name, m.role, ${isoTime('m.created_at', 'joinedAt')}`,
      from: 'memberships m JOIN users u ON u.id = m.user_id',
      order: 'asc',
      key: [
        { column: 'm.created_at', type: 'timestamptz' },
        { column: 'm.user_id', type: 'text' },
      ],
    },
  }),
  {
    method: 'PATCH',
    path: '/members/:userId',
    rule: ADMIN_TASK,
    summary: "Change a member's role.",
    body: RoleBody,
    async handle(tx, c, request, audit) {
      const { role } = parseBody(RoleBody, request.body);
      const userId = param(request, 'userId');
      const [target] = await tx.query<{ role: Role }>(
        'SELECT role FROM memberships WHERE user_id = $1 FOR UPDATE',
        [userId],
      );
      if (target === undefined) throw notFound('member', userId);
      await checkMemberChange(tx, c, target, role);
      await tx.query('UPDATE memberships SET role = $2 WHERE user_id = $1', [userId, role]);
      await audit({
        event: 'member.role_changed',
        resource: { type: 'member', id: userId },
        metadata: { from: target.role, to: role },
      });
      return { body: { userId, role } };
    },
  },
  {
    method: 'DELETE',
    path: '/members/:userId',
    rule: ADMIN_TASK,
    summary: 'Remove a member.',
    async handle(tx, c, request, audit) {
      const userId = param(request, 'userId');
      const [target] = await tx.query<{ role: Role }>(
        'SELECT role FROM memberships WHERE user_id = $1 FOR UPDATE',
        [userId],
      );
      if (target === undefined) throw notFound('member', userId);
      await checkMemberChange(tx, c, target, null);
      await tx.query('DELETE FROM memberships WHERE user_id = $1', [userId]);
      await audit({
        event: 'member.removed',
        resource: { type: 'member', id: userId },
        metadata: { role: target.role },
      });
      return { status: 204 };
    },
  },
  listRoute({
    path: '/api-keys',
    rule: ADMIN_TASK,
    summary: 'List API keys (never the keys themselves; a page, oldest first).',
    field: 'apiKeys',
    list: {
      select: `id, name, prefix, scopes, created_by AS "createdBy", ${isoTime('created_at', 'createdAt')},
               ${isoTime('expires_at', 'expiresAt')}, ${isoTime('last_used_at', 'lastUsedAt')},
               ${isoTime('revoked_at', 'revokedAt')}`,
      from: 'api_keys',
      order: 'asc',
    },
  }),
  {
    method: 'POST',
    path: '/api-keys',
    rule: ADMIN_TASK,
    summary: 'Create an API key; the key is in this answer only.',
    body: KeyBody,
    async handle(tx, c, request, audit) {
      const body = parseBody(KeyBody, request.body);
      const id = newId('key');
      // fbk_ + 8 characters shown in lists and logs + the secret: recognisable by
      // secret scanners, and identifiable without storing anything reversible.
      const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const prefix = key.slice(0, API_KEY_PREFIX.length + 8);
      const expiresAt = new Date(Date.now() + body.expiresInDays * 86_400_000);
      await tx.query(
        `INSERT INTO api_keys (id, organisation_id, name, prefix, key_hash, scopes, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, c.orgId, body.name, prefix, sha256(key), body.scopes, c.actor.id, expiresAt],
      );
      await audit({
        event: 'apikey.created',
        resource: { type: 'api_key', id },
        metadata: { name: body.name, prefix, scopes: body.scopes },
      });
      // The key itself is in this answer only; the server keeps its hash.
      const created = { id, name: body.name, prefix, scopes: body.scopes, expiresAt };
      // A repeat of this request (same Idempotency-Key) gets the key's record without the
      // key: it is never stored, so a lost answer means revoking it and making another.
      return { status: 201, body: { ...created, key }, replayBody: { ...created, key: null } };
    },
  },
  {
    method: 'DELETE',
    path: '/api-keys/:keyId',
    rule: ADMIN_TASK,
    summary: 'Revoke an API key.',
    async handle(tx, _c, request, audit) {
      const keyId = param(request, 'keyId');
      const rows = await tx.query(
        'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
        [keyId],
      );
      if (rows.length === 0) throw notFound('active API key', keyId);
      await audit({
        event: 'apikey.revoked',
        resource: { type: 'api_key', id: keyId },
        metadata: {},
      });
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/audit',
    rule: ADMIN_TASK,
    summary: 'Search the audit log, newest first (a page).',
    query: AuditQuery,
    linksAuditFirst: true,
    async handle(tx, c, request) {
      const q = parseBody(AuditQuery, request.query);
      const page = await searchAudit(tx, c.orgId, auditFilters(q), q);
      return { body: { entries: page.items, nextCursor: page.nextCursor } };
    },
  },
  {
    method: 'GET',
    path: '/audit/export',
    rule: ADMIN_TASK,
    summary: 'Download the audit log (NDJSON or CSV), oldest first.',
    query: AuditExportQuery,
    linksAuditFirst: true,
    async handle(tx, c, request) {
      const q = parseBody(AuditExportQuery, request.query);
      const entries = await linkedEntries(lastRead(tx), c.orgId, {
        ...auditFilters(q),
        limit: q.limit,
      });
      return q.format === 'csv'
        ? { body: toCsv(entries), file: { type: 'text/csv; charset=utf-8', name: 'audit.csv' } }
        : {
            body: toNdjson(entries),
            file: { type: 'application/x-ndjson; charset=utf-8', name: 'audit.ndjson' },
          };
    },
  },
  {
    method: 'GET',
    path: '/audit/verify',
    rule: ADMIN_TASK,
    summary: "Verify the audit log's hash chain.",
    linksAuditFirst: true,
    async handle(tx, c) {
      return { body: await verifyChain(tx, c.orgId) };
    },
  },
  listRoute({
    path: '/projects',
    rule: anyMember('projects:read'),
    summary: 'List projects (a page, oldest first).',
    field: 'projects',
    list: {
      select: `id, name, firebase_project_id AS "firebaseProjectId", ${isoTime('created_at', 'createdAt')}`,
      from: 'projects',
      order: 'asc',
    },
  }),
  {
    method: 'POST',
    path: '/projects',
    rule: ruleFor('projects:manage'),
    summary: 'Add a project.',
    body: ProjectBody,
    async handle(tx, c, request, audit) {
      const body = parseBody(ProjectBody, request.body);
      const id = newId('prj');
      await tx.query(
        'INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ($1, $2, $3, $4)',
        [id, c.orgId, body.name, body.firebaseProjectId],
      );
      await audit({ event: 'project.created', resource: { type: 'project', id }, metadata: body });
      return { status: 201, body: { id, ...body } };
    },
  },
  {
    method: 'GET',
    path: '/projects/:projectId',
    rule: anyMember('projects:read'),
    summary: 'One project.',
    async handle(tx, _c, request) {
      const id = param(request, 'projectId');
      const [project] = await tx.queryAndCommit(
        `SELECT id, name, firebase_project_id AS "firebaseProjectId", ${isoTime('created_at', 'createdAt')}
           FROM projects WHERE id = $1`,
        [id],
      );
      if (project === undefined) throw notFound('project', id);
      return { body: project };
    },
  },
  listRoute({
    path: '/backups',
    rule: ruleFor('backups:view'),
    summary: 'List backup records (metadata only; a page, newest first).',
    field: 'backups',
    list: {
      select: `id, project_id AS "projectId", ${isoTime('created_at', 'createdAt')}, created_by AS "createdBy",
               key_id AS "keyId", size_bytes::float8 AS "sizeBytes", document_count::float8 AS "documentCount",
               backup_id AS "backupId", sources, destination_id AS "destinationId",
               destination_url AS "destinationUrl"`,
      from: 'backups',
      order: 'desc',
    },
    query: BackupsQuery,
    filters: { projectId: 'project_id' },
  }),
  {
    method: 'POST',
    path: '/backups',
    rule: ruleFor('backups:create'),
    summary: 'Record a backup (metadata only).',
    body: BackupBody,
    async handle(tx, c, request, audit) {
      const body = parseBody(BackupBody, request.body);
      await requireProject(tx, body.projectId);
      if (body.destinationUrl !== undefined) refuseSecrets({}, body.destinationUrl);
      const destination =
        body.destinationId !== undefined ? await getDestination(tx, body.destinationId) : undefined;
      const destinationUrl = body.destinationUrl ?? destination?.url;
      const id = newId('bkp');
      await tx.query(
        `INSERT INTO backups (id, organisation_id, project_id, created_by, key_id, size_bytes, document_count,
                              backup_id, sources, destination_id, destination_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          id,
          c.orgId,
          body.projectId,
          c.actor.id,
          body.keyId ?? null,
          body.sizeBytes ?? null,
          body.documentCount ?? null,
          body.backupId ?? null,
          body.sources ?? null,
          body.destinationId ?? null,
          destinationUrl ?? null,
        ],
      );
      await audit({
        event: 'backup.created',
        resource: { type: 'backup', id },
        metadata: {
          projectId: body.projectId,
          ...(body.destinationId !== undefined ? { destinationId: body.destinationId } : {}),
        },
      });
      return {
        status: 201,
        body: { id, ...body, ...(destinationUrl !== undefined ? { destinationUrl } : {}) },
      };
    },
  },
  {
    method: 'DELETE',
    path: '/backups/:backupId',
    rule: ruleFor('backups:delete'),
    summary: 'Delete a backup record.',
    async handle(tx, _c, request, audit) {
      const id = param(request, 'backupId');
      const rows = await tx.query('DELETE FROM backups WHERE id = $1 RETURNING id', [id]);
      if (rows.length === 0) throw notFound('backup', id);
      await audit({ event: 'backup.deleted', resource: { type: 'backup', id }, metadata: {} });
      return { status: 204 };
    },
  },
  ...PROJECT_WRITE_ROUTES,
  ...INVITATION_ROUTES,
  ...CATALOG_ROUTES,
  ...BILLING_ROUTES,
];

const CreateOrgBody = z.object({ name: z.string().min(1).max(200) });

/** A new organisation with `user` as its owner, audited, in the caller's transaction. */
async function createOrganisation(
  tx: Tx,
  ctx: ServerContext,
  user: { userId: string; email: string },
  ip: string,
  name: string,
): Promise<WriteOutcome> {
  const id = newId('org');
  await tx.query('INSERT INTO organisations (id, name, created_by) VALUES ($1, $2, $3)', [
    id,
    name,
    user.userId,
  ]);
  await tx.query(
    `INSERT INTO memberships (organisation_id, user_id, role) VALUES ($1, $2, 'owner')`,
    [id, user.userId],
  );
  await appendAudit(
    tx,
    id,
    {
      event: 'organization.created',
      actor: { id: user.userId, email: user.email, ip },
      resource: { type: 'organization', id },
      metadata: { name },
    },
    ctx.now(),
  );
  return { status: 201, body: { id, name, role: 'owner' } };
}

/** The status of each method's successful answer (as the handlers set it). */
const SUCCESS = { GET: 200, POST: 201, PATCH: 200, DELETE: 204 } as const;

export function successOf(route: OrgRoute): 200 | 201 | 204 {
  return route.success ?? SUCCESS[route.method];
}

export function registerOrgRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const createDoc: RouteDoc = {
    summary: 'Create an organisation; the caller becomes its owner.',
    auth: 'user',
    success: 201,
    body: CreateOrgBody,
    idempotent: true,
  };
  app.post('/api/v1/organizations', { config: { doc: createDoc } }, async (request, reply) => {
    const principal = await authenticate(ctx, request);
    if (principal.kind !== 'user')
      throw new AppError('PERMISSION_DENIED', 'API keys cannot create organisations; sign in.');
    const { name } = parseBody(CreateOrgBody, request.body);
    // The offline queue sends a creation again when its answer was lost: one organisation.
    const key = idempotencyKeyOf(request);
    const outcome = await ctx.db.system(async (tx) => {
      const create = () => createOrganisation(tx, ctx, principal, request.ip, name);
      if (key === undefined) return create();
      const fingerprint = requestFingerprint(request, principal.userId);
      return idempotentForUser(
        tx,
        { userId: principal.userId, key, fingerprint, now: ctx.now() },
        create,
      );
    });
    if ('replayed' in outcome) void reply.header('Idempotent-Replayed', 'true');
    else ctx.auditLinker.kick();
    return reply.status(outcome.status ?? 201).send(outcome.body);
  });

  for (const route of ORG_ROUTES) {
    const url = `/api/v1/organizations/:orgId${route.path}`;
    app.route({
      method: route.method,
      url,
      ...(route.compiledAnswer === true
        ? { schema: answerSchema(`${route.method} ${url}`, successOf(route)) }
        : {}),
      config: {
        doc: {
          summary: route.summary,
          auth: route.rule.scope === null ? 'user' : 'userOrKey',
          success: successOf(route),
          idempotent: route.method !== 'GET',
          ...(route.body !== undefined ? { body: route.body } : {}),
          ...(route.query !== undefined ? { query: route.query } : {}),
        },
      },
      handler: async (request, reply) => {
        const principal = await authenticate(ctx, request);
        const orgId = param(request, 'orgId');
        // A linker that cannot run (its error is logged) leaves entries pending, not the log unreadable.
        if (route.linksAuditFirst === true) await ctx.auditLinker.flush().catch(() => undefined);
        // Reads ignore the header; a write with one runs at most once per key.
        const key = route.method === 'GET' ? undefined : idempotencyKeyOf(request);
        let audited = false;
        const outcome = await ctx.db.withOrg<
          Awaited<ReturnType<OrgRoute['handle']>> | { denied: OrgCaller },
          { role: Role }
        >(
          orgId,
          async (tx, membership) => {
            const { caller, allowed } = authorize(
              request,
              principal,
              orgId,
              route.rule,
              membership,
            );
            if (!allowed) return { denied: caller };
            const run = () =>
              route.handle(
                tx,
                caller,
                request,
                async (input) => {
                  if (!ctx.auditWrites) return;
                  await appendAudit(tx, caller.orgId, { ...input, actor: caller.actor }, ctx.now());
                  audited = true;
                },
                ctx,
              );
            if (key === undefined) return run();
            const fingerprint = requestFingerprint(request, caller.actor.id);
            return idempotent(tx, { orgId, key, fingerprint, now: ctx.now() }, run);
          },
          membershipCheck(principal),
        );
        // Committed: the entry joins the hash chain now, after the answer (ADR 0013).
        if (audited) ctx.auditLinker.kick();
        // The denial is recorded after the route's transaction (nothing of it ran).
        if ('denied' in outcome) throw await recordDenial(ctx, request, outcome.denied, route.rule);
        const result: Awaited<ReturnType<OrgRoute['handle']>> = outcome;
        void reply.status(result.status ?? 200);
        if ('replayed' in outcome) void reply.header('Idempotent-Replayed', 'true');
        if (result.file !== undefined)
          void reply
            .type(result.file.type)
            .header('Content-Disposition', `attachment; filename="${result.file.name}"`);
        if (result.body instanceof JsonText)
          return reply.type(JsonText.TYPE).send(result.body.text);
        return result.body === undefined ? reply.send() : reply.send(result.body);
      },
    });
  }
}
