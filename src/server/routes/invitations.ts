import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { ROLES, type Role } from '../../shared/rbac.js';
import { appendAudit } from '../audit.js';
import { authenticate, ruleFor, type Rule, type ServerContext } from '../auth.js';
import { newId, sha256 } from '../ids.js';
import type { RouteDoc } from '../openapi.js';
import { parseBody } from './body.js';
import { notFound, param, type OrgRoute } from './org-route.js';
import { checkMemberChange } from './members.js';

/**
 * Invitations and ownership transfer. An invitation names an email address and a role;
 * its link token (`fbi_…`) is answered to the inviter once (the server sends no mail: the
 * inviter passes it on) and stored as its SHA-256 only. It works once, until
 * INVITATION_EXPIRES_IN (7 days by default), for the signed-in user whose verified email
 * is the invited one; a revoked, used or expired one is refused.
 */

export const INVITATION_PREFIX = 'fbi_';

const InviteBody = z.object({
  email: z.string().email().max(320),
  role: z.enum(ROLES),
});
const TransferBody = z.object({ userId: z.string().min(1) });
const AcceptBody = z.object({ token: z.string().min(1).max(200) });

const MANAGE_MEMBERS = ruleFor('members:manage');
/** Handing over the organisation is the owner's alone, like deleting it; never a key's. */
const OWNER_ONLY: Rule = { roles: ['owner'], scope: null };

export const INVITATION_ROUTES: readonly OrgRoute[] = [
  {
    method: 'GET',
    path: '/invitations',
    rule: MANAGE_MEMBERS,
    summary: 'List pending invitations (never their links).',
    async handle(tx, _c, _r, _a, ctx) {
      const invitations = await tx.queryAndCommit(
        `SELECT id, email, role, created_by AS "createdBy", created_at AS "createdAt",
                expires_at AS "expiresAt"
           FROM invitations
          WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1
          ORDER BY created_at`,
        [ctx.now()],
      );
      return { body: { invitations } };
    },
  },
  {
    method: 'POST',
    path: '/invitations',
    rule: MANAGE_MEMBERS,
    summary: 'Invite an email address with a role; the link token is in this answer only.',
    body: InviteBody,
    async handle(tx, c, request, audit, ctx) {
      const body = parseBody(InviteBody, request.body);
      const email = body.email.toLowerCase();
      // Inviting an owner makes an owner: only owners may.
      await checkMemberChange(tx, c, { role: 'viewer' }, body.role);
      const [member] = await tx.query(
        'SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1',
        [email],
      );
      if (member !== undefined)
        throw new AppError('ALREADY_EXISTS', `${email} is already a member of this organisation.`);
      const now = ctx.now();
      // An expired one no longer blocks a new invitation of the same address.
      await tx.query(
        `UPDATE invitations SET revoked_at = $2
          WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at <= $2`,
        [email, now],
      );
      const [pending] = await tx.query(
        'SELECT 1 FROM invitations WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL',
        [email],
      );
      if (pending !== undefined)
        throw new AppError(
          'ALREADY_EXISTS',
          `${email} has a pending invitation; revoke it first to send a new one.`,
        );
      const id = newId('inv');
      const token = `${INVITATION_PREFIX}${randomBytes(32).toString('base64url')}`;
      const expiresAt = new Date(now.getTime() + ctx.config.INVITATION_EXPIRES_IN);
      await tx.query(
        `INSERT INTO invitations (id, organisation_id, email, role, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, c.orgId, email, body.role, sha256(token), c.actor.id, now, expiresAt],
      );
      await audit({
        event: 'invitation.created',
        resource: { type: 'invitation', id },
        metadata: { email, role: body.role, expiresAt: expiresAt.toISOString() },
      });
      return { status: 201, body: { id, email, role: body.role, expiresAt, token } };
    },
  },
  {
    method: 'DELETE',
    path: '/invitations/:invitationId',
    rule: MANAGE_MEMBERS,
    summary: 'Revoke a pending invitation.',
    async handle(tx, _c, request, audit, ctx) {
      const id = param(request, 'invitationId');
      const rows = await tx.query<{ email: string }>(
        `UPDATE invitations SET revoked_at = $2
          WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING email`,
        [id, ctx.now()],
      );
      if (rows.length === 0) throw notFound('pending invitation', id);
      await audit({
        event: 'invitation.revoked',
        resource: { type: 'invitation', id },
        metadata: { email: rows[0]!.email },
      });
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/ownership',
    rule: OWNER_ONLY,
    success: 200,
    summary: 'Transfer ownership to another member; the caller becomes admin.',
    body: TransferBody,
    async handle(tx, c, request, audit) {
      const { userId } = parseBody(TransferBody, request.body);
      if (userId === c.actor.id)
        throw new AppError('INVALID_ARGUMENT', 'Name another member to hand the organisation to.');
      const [target] = await tx.query<{ role: Role }>(
        'SELECT role FROM memberships WHERE user_id = $1 FOR UPDATE',
        [userId],
      );
      if (target === undefined) throw notFound('member', userId);
      await checkMemberChange(tx, c, target, 'owner');
      // The new owner first, so the organisation is never without one.
      await tx.query(`UPDATE memberships SET role = 'owner' WHERE user_id = $1`, [userId]);
      await checkMemberChange(tx, c, { role: 'owner' }, 'admin');
      await tx.query(`UPDATE memberships SET role = 'admin' WHERE user_id = $1`, [c.actor.id]);
      await audit({
        event: 'organization.ownership_transferred',
        resource: { type: 'organization', id: c.orgId },
        metadata: { from: c.actor.id, to: userId, previousRole: target.role },
      });
      return { body: { owner: userId, previousOwner: { userId: c.actor.id, role: 'admin' } } };
    },
  },
];

const acceptDoc: RouteDoc = {
  summary: 'Accept an invitation: the signed-in user whose email it names joins.',
  auth: 'user',
  success: 200,
  body: AcceptBody,
};

/** POST /api/v1/invitations/accept: not an organisation route, the caller is not in it yet. */
export function registerInvitationAcceptRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/invitations/accept', { config: { doc: acceptDoc } }, async (request) => {
    const principal = await authenticate(ctx, request);
    if (principal.kind !== 'user')
      throw new AppError('PERMISSION_DENIED', 'Invitations are accepted by a signed-in person.');
    const { token } = parseBody(AcceptBody, request.body);
    const now = ctx.now();
    // Found by its hash across organisations (the server's own rights), then everything
    // else happens in that organisation.
    return ctx.db.system(async (tx) => {
      const [inv] = await tx.query<{
        id: string;
        organisation_id: string;
        email: string;
        role: Role;
        expires_at: Date;
        accepted_at: Date | null;
        revoked_at: Date | null;
        name: string;
      }>(
        `SELECT i.id, i.organisation_id, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at, o.name
           FROM invitations i JOIN organisations o ON o.id = i.organisation_id
          WHERE i.token_hash = $1 FOR UPDATE OF i`,
        [sha256(token)],
      );
      if (inv === undefined)
        throw new AppError('NOT_FOUND', 'No such invitation; check the link you were sent.');
      const refused = (why: string) =>
        new AppError('INVALID_ARGUMENT', `This invitation ${why}; ask for a new one.`);
      if (inv.accepted_at !== null) throw refused('has already been used');
      if (inv.revoked_at !== null) throw refused('was revoked');
      if (inv.expires_at <= now) throw refused('has expired');
      if (principal.email.toLowerCase() !== inv.email)
        throw new AppError(
          'PERMISSION_DENIED',
          'This invitation is for another email address; sign in with the address it was sent to.',
        );
      const joined = await tx.query(
        `INSERT INTO memberships (organisation_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING user_id`,
        [inv.organisation_id, principal.userId, inv.role],
      );
      if (joined.length === 0)
        throw new AppError('ALREADY_EXISTS', 'You are already a member of this organisation.');
      await tx.query('UPDATE invitations SET accepted_at = $2, accepted_by = $3 WHERE id = $1', [
        inv.id,
        now,
        principal.userId,
      ]);
      await appendAudit(
        tx,
        inv.organisation_id,
        {
          event: 'invitation.accepted',
          actor: { id: principal.userId, email: principal.email, ip: request.ip },
          resource: { type: 'invitation', id: inv.id },
          metadata: { role: inv.role },
        },
        now,
      );
      return { organization: { id: inv.organisation_id, name: inv.name }, role: inv.role };
    });
  });
}
