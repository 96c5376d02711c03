import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import {
  PERMISSION_MATRIX,
  ROLES,
  SCOPE_FOR_ACTION,
  type Action,
  type ApiKeyScope,
  type Role,
} from '../shared/rbac.js';
import type { AuditLinker } from './audit-linker.js';
import { recordAudit } from './audit.js';
import type { ServerConfig } from './config.js';
import type { Db, Tx } from './db/db.js';
import { sha256 } from './ids.js';
import type { SharedState } from './shared-state.js';
import type { Tokens } from './tokens.js';

/** A verified person: what the sign-in provider vouches for. */
export interface Identity {
  email: string;
  name?: string;
}

/**
 * Turns a sign-in credential into a verified identity: the tests' own sign-in route.
 * `firebackup server` has none; people sign in with Google (routes/google.ts).
 */
export type IdentityVerifier = (credential: string) => Promise<Identity>;

export interface ServerContext {
  config: ServerConfig;
  db: Db;
  tokens: Tokens;
  now: () => Date;
  shared: SharedState;
  /** Sessions this instance checked in the database lately (see SESSION_CACHE_MS). */
  sessionCache: Map<string, CachedSession>;
  /** False only in the benchmark that measures the audit write's cost. */
  auditWrites: boolean;
  /** Links committed audit entries into the hash chain (kick it after an audited commit). */
  auditLinker: AuditLinker;
}

interface CachedSession {
  userId: string;
  email: string;
  expiresAt: number;
  checkedAt: number;
}

/**
 * How long an instance trusts its last database check of a session. Every call still
 * asks the shared revocation list (memory, or Redis across instances), and every way a
 * session ends before its expiry writes to that list, so a revocation is refused at once
 * everywhere; the cache only spares the database a read and a write per call.
 */
export const SESSION_CACHE_MS = 5000;

/** Tells every instance (through the shared revocation list) that these sessions ended. */
export async function announceRevoked(ctx: ServerContext, sessionIds: readonly string[]) {
  for (const id of sessionIds) ctx.sessionCache.delete(id);
  await ctx.shared.revocations.revoke(sessionIds, ctx.config.JWT_EXPIRES_IN);
}

export type Principal =
  | { kind: 'user'; userId: string; email: string; sessionId: string }
  | { kind: 'apiKey'; keyId: string; orgId: string; scopes: readonly ApiKeyScope[] };

/** Who may use a route: member roles, and the API key scope (null: never open to keys). */
export interface Rule {
  roles: readonly Role[];
  scope: ApiKeyScope | null;
}

/** A route that the guide's permission matrix governs through one of its actions. */
export function ruleFor(action: Action): Rule {
  return { roles: PERMISSION_MATRIX[action], scope: SCOPE_FOR_ACTION[action] ?? null };
}

/** A route every member may use (reading the organisation itself, who is in it). */
export function anyMember(scope: ApiKeyScope | null): Rule {
  return { roles: ROLES, scope };
}

export const API_KEY_PREFIX = 'fbk_';

function clientIp(request: FastifyRequest): string {
  return request.ip;
}

async function failAuth(
  ctx: ServerContext,
  request: FastifyRequest,
  reason: string,
  message: string,
): Promise<never> {
  await recordAudit(ctx.db, null, {
    level: 'warn',
    event: 'auth.failed',
    actor: { id: null, email: null, ip: clientIp(request) },
    resource: { type: 'route', id: `${request.method} ${request.routeOptions.url ?? request.url}` },
    metadata: { reason },
  });
  ctx.auditLinker.kick();
  throw new AppError('UNAUTHENTICATED', message);
}

/** Reads the Authorization header: an access JWT or an API key (`fbk_…`). */
export async function authenticate(
  ctx: ServerContext,
  request: FastifyRequest,
): Promise<Principal> {
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (token === undefined || token === '')
    throw new AppError(
      'UNAUTHENTICATED',
      'Sign in first: send "Authorization: Bearer <access token or API key>".',
    );
  if (token.startsWith(API_KEY_PREFIX)) return authenticateKey(ctx, request, token);
  let claims;
  try {
    claims = await ctx.tokens.verifyAccess(token);
  } catch (error) {
    return failAuth(ctx, request, 'invalid access token', (error as Error).message);
  }
  const now = ctx.now();
  const ended = () =>
    failAuth(
      ctx,
      request,
      'session ended',
      'This session has ended (signed out, revoked or idle); sign in again.',
    );
  if (await ctx.shared.revocations.isRevoked(claims.sessionId)) return ended();
  const timeout = ctx.config.SESSION_TIMEOUT;
  // With an idle timeout the cache may not hide more than a small part of it.
  const cacheMs = Math.min(SESSION_CACHE_MS, (timeout ?? Infinity) / 10);
  const cached = ctx.sessionCache.get(claims.sessionId);
  if (
    cached !== undefined &&
    cached.userId === claims.userId &&
    cached.expiresAt > now.getTime() &&
    now.getTime() - cached.checkedAt < cacheMs
  )
    return {
      kind: 'user',
      userId: claims.userId,
      email: cached.email,
      sessionId: claims.sessionId,
    };
  const user = await ctx.db.system(async (tx) => {
    const [row] = await tx.query<{
      email: string;
      revoked_at: Date | null;
      expires_at: Date;
      last_seen_at: Date;
    }>(
      `SELECT u.email, s.revoked_at, s.expires_at, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2`,
      [claims.sessionId, claims.userId],
    );
    if (row === undefined || row.revoked_at !== null || row.expires_at <= now) return null;
    if (timeout !== undefined && row.last_seen_at.getTime() + timeout < now.getTime()) {
      await tx.query(
        `UPDATE sessions SET revoked_at = $2, revoked_reason = 'idle timeout' WHERE id = $1`,
        [claims.sessionId, now],
      );
      return null;
    }
    await tx.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1', [claims.sessionId, now]);
    return row;
  });
  if (user === null) {
    ctx.sessionCache.delete(claims.sessionId);
    return ended();
  }
  if (ctx.sessionCache.size > 10_000) ctx.sessionCache.clear();
  ctx.sessionCache.set(claims.sessionId, {
    userId: claims.userId,
    email: user.email,
    expiresAt: user.expires_at.getTime(),
    checkedAt: now.getTime(),
  });
  return { kind: 'user', userId: claims.userId, email: user.email, sessionId: claims.sessionId };
}

/**
 * API keys belong to one organisation, named by the X-Organization-Id header on every
 * call (as the public API does). The key is looked up inside that organisation's
 * row-level-security context, so a key can never be matched against another tenant.
 */
async function authenticateKey(
  ctx: ServerContext,
  request: FastifyRequest,
  key: string,
): Promise<Principal> {
  const orgId = request.headers['x-organization-id'];
  if (typeof orgId !== 'string' || orgId === '')
    throw new AppError(
      'INVALID_ARGUMENT',
      'Calls with an API key must name its organisation in the X-Organization-Id header.',
    );
  const now = ctx.now();
  const found = await ctx.db.withOrg(orgId, async (tx) => {
    const [row] = await tx.query<{ id: string; scopes: string[] }>(
      `UPDATE api_keys SET last_used_at = $2
        WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
        RETURNING id, scopes`,
      [sha256(key), now],
    );
    return row;
  });
  if (found === undefined)
    return failAuth(
      ctx,
      request,
      'unknown, revoked or expired API key',
      'The API key is not valid for this organisation (unknown, revoked or expired).',
    );
  return { kind: 'apiKey', keyId: found.id, orgId, scopes: found.scopes as ApiKeyScope[] };
}

export interface OrgCaller {
  principal: Principal;
  orgId: string;
  /** The member's role; undefined for API keys. */
  role?: Role;
  actor: { id: string; email: string | null; ip: string };
}

/**
 * The server's own permission check for a route of organisation `orgId`, inside the
 * route's own transaction (`tx`, in the organisation's RLS context), so a call costs one
 * transaction. Not a member (or a key of another organisation): 404, so other tenants' ids
 * are not even confirmed. A member without the right: `denied`, which the caller records
 * with recordDenial once the transaction has ended.
 */
export async function authorize(
  tx: Tx,
  request: FastifyRequest,
  principal: Principal,
  orgId: string,
  rule: Rule,
): Promise<{ caller: OrgCaller; allowed: boolean }> {
  const notFound = () => new AppError('NOT_FOUND', `No organisation ${orgId}.`);
  const headerOrg = request.headers['x-organization-id'];
  if (typeof headerOrg === 'string' && headerOrg !== '' && headerOrg !== orgId)
    throw new AppError(
      'INVALID_ARGUMENT',
      `X-Organization-Id (${headerOrg}) names another organisation than the URL (${orgId}).`,
    );
  if (principal.kind === 'user') {
    const [membership] = await tx.query<{ role: Role }>(
      'SELECT role FROM memberships WHERE user_id = $1',
      [principal.userId],
    );
    if (membership === undefined) throw notFound();
    return {
      caller: {
        principal,
        orgId,
        role: membership.role,
        actor: { id: principal.userId, email: principal.email, ip: clientIp(request) },
      },
      allowed: rule.roles.includes(membership.role),
    };
  }
  if (principal.orgId !== orgId) throw notFound();
  return {
    caller: {
      principal,
      orgId,
      actor: { id: principal.keyId, email: null, ip: clientIp(request) },
    },
    allowed: rule.scope !== null && principal.scopes.includes(rule.scope),
  };
}

/** Records a denied call (`access.denied`) and returns the 403 to throw. */
export async function recordDenial(
  ctx: ServerContext,
  request: FastifyRequest,
  caller: OrgCaller,
  rule: Rule,
): Promise<AppError> {
  await recordAudit(ctx.db, caller.orgId, {
    level: 'warn',
    event: 'access.denied',
    actor: caller.actor,
    resource: { type: 'route', id: `${request.method} ${request.routeOptions.url ?? ''}` },
    metadata: caller.role !== undefined ? { role: caller.role } : { apiKey: true },
  });
  ctx.auditLinker.kick();
  return new AppError(
    'PERMISSION_DENIED',
    caller.role !== undefined
      ? `Your role (${caller.role}) may not do this; ask an admin or owner of the organisation.`
      : `This API key lacks the scope this needs${rule.scope !== null ? ` (${rule.scope})` : ' (only members may do this)'}.`,
  );
}
