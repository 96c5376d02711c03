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
import { appendAudit, recordAudit } from './audit.js';
import type { ServerConfig } from './config.js';
import type { Db, Statement, Tx } from './db/db.js';
import { sha256 } from './ids.js';
import { csrfMatches, isSafeMethod, tokenFromCookie } from './session-cookies.js';
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
  mfaPending: boolean;
}

/**
 * How long an instance trusts its last database check of a session. Every call still
 * asks the shared revocation list (memory, or Redis across instances), and every way a
 * session ends before its expiry writes to that list, so a revocation is refused at once
 * everywhere; the cache only spares the database a read and a write per call.
 */
export const SESSION_CACHE_MS = 5000;

/**
 * A session's last_seen_at is written at most this often (and at most every tenth of
 * SESSION_TIMEOUT), not on every check: it is a write on the request's path. The idle
 * timeout may therefore end a session up to that much early, never late.
 */
export const LAST_SEEN_EVERY_MS = 60_000;

export function lastSeenEvery(config: Pick<ServerConfig, 'SESSION_TIMEOUT'>): number {
  return Math.min(LAST_SEEN_EVERY_MS, (config.SESSION_TIMEOUT ?? Infinity) / 10);
}

/** Tells every instance (through the shared revocation list) that these sessions ended. */
export async function announceRevoked(ctx: ServerContext, sessionIds: readonly string[]) {
  for (const id of sessionIds) ctx.sessionCache.delete(id);
  await ctx.shared.revocations.revoke(sessionIds, ctx.config.JWT_EXPIRES_IN);
}

/**
 * Ends a session that was idle longer than SESSION_TIMEOUT, inside the caller's
 * transaction, and records `auth.session_idle`. True when it did (it was still live).
 */
export async function endIdleSession(
  ctx: ServerContext,
  tx: Tx,
  session: { id: string; userId: string },
  ip: string,
): Promise<boolean> {
  const ended = await tx.query(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = 'idle timeout'
      WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
    [session.id, ctx.now()],
  );
  if (ended.length === 0) return false;
  await appendAudit(
    tx,
    null,
    {
      level: 'warn',
      event: 'auth.session_idle',
      actor: { id: session.userId, email: null, ip },
      resource: { type: 'session', id: session.id },
      metadata: { timeoutMs: ctx.config.SESSION_TIMEOUT },
    },
    ctx.now(),
  );
  return true;
}

export type Principal =
  | {
      kind: 'user';
      userId: string;
      email: string;
      sessionId: string;
      /** The session still owes its second factor (only MFA routes accept it then). */
      mfaPending: boolean;
    }
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

/** Records `auth.failed` (server chain) and throws the refusal. */
export async function failAuth(
  ctx: ServerContext,
  request: FastifyRequest,
  reason: string,
  message: string,
  code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED' = 'UNAUTHENTICATED',
): Promise<never> {
  await recordAudit(ctx.db, null, {
    level: 'warn',
    event: 'auth.failed',
    actor: { id: null, email: null, ip: clientIp(request) },
    resource: { type: 'route', id: `${request.method} ${request.routeOptions.url ?? request.url}` },
    metadata: { reason },
  });
  ctx.auditLinker.kick();
  throw new AppError(code, message);
}

export const CSRF_MISSING =
  'A signed-in browser must send its X-CSRF-Token header (from the sign-in answer or the _csrf cookie) with every change.';

export interface AuthenticateOptions {
  /** The MFA routes (and sign-out) accept a session that still owes its second factor. */
  allowMfaPending?: boolean;
}

/**
 * Reads the Authorization header (an access JWT or an API key, `fbk_…`) or, without one,
 * the browser's session cookie; a cookie-authenticated write must carry X-CSRF-Token.
 */
export async function authenticate(
  ctx: ServerContext,
  request: FastifyRequest,
  options: AuthenticateOptions = {},
): Promise<Principal> {
  const header = request.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  // Cookies count only without an Authorization header: the CLI and app never mix the two.
  const cookie = header === undefined ? tokenFromCookie(ctx.config, request, 'access') : undefined;
  const token = bearer ?? cookie;
  const viaCookie = bearer === undefined && cookie !== undefined;
  if (token === undefined || token === '')
    throw new AppError(
      'UNAUTHENTICATED',
      'Sign in first: send "Authorization: Bearer <access token or API key>".',
    );
  if (!viaCookie && token.startsWith(API_KEY_PREFIX)) return authenticateKey(ctx, request, token);
  let claims;
  try {
    claims = await ctx.tokens.verifyAccess(token);
  } catch (error) {
    return failAuth(ctx, request, 'invalid access token', (error as Error).message);
  }
  if (
    viaCookie &&
    !isSafeMethod(request.method) &&
    !csrfMatches(ctx.config, request, claims.sessionId)
  )
    return failAuth(ctx, request, 'csrf', CSRF_MISSING, 'PERMISSION_DENIED');
  const user = await checkSession(ctx, request, claims);
  if (user.mfaPending && options.allowMfaPending !== true)
    throw new AppError(
      'UNAUTHENTICATED',
      'This session still needs its second factor: enrol (POST /api/v1/auth/mfa/enroll) or send a code (POST /api/v1/auth/mfa/verify) first.',
    );
  return {
    kind: 'user',
    userId: claims.userId,
    email: user.email,
    sessionId: claims.sessionId,
    mfaPending: user.mfaPending,
  };
}

/**
 * Is the access token's session alive: not revoked (shared list first, then the database
 * unless this instance checked it within SESSION_CACHE_MS), not expired, not idle for longer
 * than SESSION_TIMEOUT; and does it still owe a second factor.
 */
async function checkSession(
  ctx: ServerContext,
  request: FastifyRequest,
  claims: { userId: string; sessionId: string },
): Promise<{ email: string; mfaPending: boolean }> {
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
  // A pending session is always checked afresh: it may have passed its second factor on
  // another instance a moment ago. (The other way, a user's enrolment making their other
  // sessions pending, reaches other instances within SESSION_CACHE_MS.)
  if (
    cached !== undefined &&
    !cached.mfaPending &&
    cached.userId === claims.userId &&
    cached.expiresAt > now.getTime() &&
    now.getTime() - cached.checkedAt < cacheMs
  )
    return cached;
  const outcome = await ctx.db.system(async (tx) => {
    const [row] = await tx.query<{
      email: string;
      revoked_at: Date | null;
      expires_at: Date;
      last_seen_at: Date;
      mfa_verified_at: Date | null;
      mfa_enabled: boolean;
    }>(
      `SELECT u.email, s.revoked_at, s.expires_at, s.last_seen_at, s.mfa_verified_at,
              (m.enabled_at IS NOT NULL) AS mfa_enabled
         FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN user_mfa m ON m.user_id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2`,
      [claims.sessionId, claims.userId],
    );
    if (row === undefined || row.revoked_at !== null || row.expires_at <= now)
      return { state: 'ended' as const };
    const idleMs = now.getTime() - row.last_seen_at.getTime();
    if (timeout !== undefined && idleMs > timeout) {
      await endIdleSession(ctx, tx, { id: claims.sessionId, userId: claims.userId }, request.ip);
      return { state: 'idle' as const };
    }
    if (idleMs >= lastSeenEvery(ctx.config))
      await tx.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1', [
        claims.sessionId,
        now,
      ]);
    const mfaPending = row.mfa_verified_at === null && (ctx.config.FORCE_MFA || row.mfa_enabled);
    return { state: 'live' as const, row, mfaPending };
  });
  if (outcome.state !== 'live') {
    ctx.sessionCache.delete(claims.sessionId);
    if (outcome.state === 'ended') return ended();
    await announceRevoked(ctx, [claims.sessionId]);
    // Recorded as auth.session_idle in the transaction above.
    throw new AppError(
      'UNAUTHENTICATED',
      'This session was idle for longer than the server allows (SESSION_TIMEOUT); sign in again.',
    );
  }
  if (ctx.sessionCache.size > 10_000) ctx.sessionCache.clear();
  const entry: CachedSession = {
    userId: claims.userId,
    email: outcome.row.email,
    expiresAt: outcome.row.expires_at.getTime(),
    checkedAt: now.getTime(),
    mfaPending: outcome.mfaPending,
  };
  ctx.sessionCache.set(claims.sessionId, entry);
  return entry;
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
    // The transaction's one statement: it leaves with the COMMIT (ADR 0027).
    const [row] = await tx.queryAndCommit<{ id: string; scopes: string[] }>(
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
 * The caller's membership row, read by authorize: the statement Db.withOrg sends with the
 * transaction's opening (one round trip for BEGIN, the RLS settings and this), in the
 * organisation's RLS context. None for API keys (they were matched in that context).
 */
export function membershipCheck(principal: Principal): Statement | undefined {
  return principal.kind === 'user'
    ? { sql: 'SELECT role FROM memberships WHERE user_id = $1', params: [principal.userId] }
    : undefined;
}

/**
 * The server's own permission check for a route of organisation `orgId`, inside the
 * route's own transaction (in the organisation's RLS context), so a call costs one
 * transaction; `membership` holds the rows of membershipCheck's statement. Not a member
 * (or a key of another organisation): 404, so other tenants' ids are not even confirmed.
 * A member without the right: `denied`, which the caller records with recordDenial once
 * the transaction has ended.
 */
export function authorize(
  request: FastifyRequest,
  principal: Principal,
  orgId: string,
  rule: Rule,
  membership: readonly { role: Role }[],
): { caller: OrgCaller; allowed: boolean } {
  const notFound = () => new AppError('NOT_FOUND', `No organisation ${orgId}.`);
  const headerOrg = request.headers['x-organization-id'];
  if (typeof headerOrg === 'string' && headerOrg !== '' && headerOrg !== orgId)
    throw new AppError(
      'INVALID_ARGUMENT',
      `X-Organization-Id (${headerOrg}) names another organisation than the URL (${orgId}).`,
    );
  if (principal.kind === 'user') {
    const [member] = membership;
    if (member === undefined) throw notFound();
    return {
      caller: {
        principal,
        orgId,
        role: member.role,
        actor: { id: principal.userId, email: principal.email, ip: clientIp(request) },
      },
      allowed: rule.roles.includes(member.role),
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
