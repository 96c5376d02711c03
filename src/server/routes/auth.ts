import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { appendAudit } from '../audit.js';
import {
  announceRevoked,
  authenticate,
  CSRF_MISSING,
  endIdleSession,
  failAuth,
  type IdentityVerifier,
  type Principal,
  type ServerContext,
} from '../auth.js';
import type { RouteDoc } from '../openapi.js';
import {
  clearSessionCookies,
  csrfMatches,
  deliverTokens,
  tokenFromCookie,
} from '../session-cookies.js';
import { recordLoginFailure, startUserSession, upsertUser } from '../sign-in.js';
import { parseBody } from './body.js';

const LoginBody = z.object({
  credential: z.string().min(1),
  /** A browser: the token pair in cookies (SESSION_* settings), not in the answer. */
  cookie: z.boolean().optional(),
});
/** Without refreshToken, the browser's refresh cookie (then X-CSRF-Token is needed). */
const RefreshBody = z.object({ refreshToken: z.string().min(1).optional() });

const doc = (summary: string, auth: RouteDoc['auth'], extra: Partial<RouteDoc> = {}) => ({
  config: { doc: { summary, auth, success: 200 as const, ...extra } },
});

/**
 * /api/v1/auth: sign-in (only when an identity verifier is configured), refresh with
 * rotation and reuse detection, sign-out, /api/v1/me and the user's sessions (listed and
 * revocable one by one or all at once).
 */
export function registerAuthRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  verifier: IdentityVerifier | undefined,
): void {
  if (verifier !== undefined) {
    app.post(
      '/api/v1/auth/login',
      doc('Exchange a verified sign-in credential for a token pair.', 'none', { body: LoginBody }),
      async (request, reply) => {
        const { credential, cookie } = parseBody(LoginBody, request.body);
        let identity;
        try {
          identity = await verifier(credential);
        } catch (error) {
          await recordLoginFailure(ctx, request.ip, (error as Error).message);
          throw new AppError('UNAUTHENTICATED', 'Sign-in was refused; sign in again.', {
            cause: error,
          });
        }
        const user = await upsertUser(ctx, identity);
        const { accessToken, refreshToken, expiresIn, sessionId, ...extra } =
          await startUserSession(ctx, user, request.ip, {});
        // extra.mfa: 'verify' or 'enroll' means the session can call only the MFA routes.
        return reply
          .status(200)
          .send(
            deliverTokens(
              ctx.config,
              reply,
              { accessToken, refreshToken, expiresIn, sessionId },
              cookie === true,
              extra,
            ),
          );
      },
    );
  }

  app.post(
    '/api/v1/auth/refresh',
    doc('Rotate a refresh token; a reused one revokes its session.', 'none', { body: RefreshBody }),
    async (request, reply) => {
      const body = parseBody(RefreshBody, request.body);
      const fromCookie = body.refreshToken === undefined;
      const refreshToken = body.refreshToken ?? tokenFromCookie(ctx.config, request, 'refresh');
      if (refreshToken === undefined)
        throw new AppError(
          'UNAUTHENTICATED',
          'Send the refresh token ({ "refreshToken": … }) or, from a browser, its refresh cookie.',
        );
      let csrfRefused = false;
      const rotation = ctx.tokens.rotate(ctx.db, refreshToken, {
        onReuse: async (tx, session) => {
          await appendAudit(tx, null, {
            level: 'warn',
            event: 'auth.refresh_reuse',
            actor: { id: session.userId, email: null, ip: request.ip },
            resource: { type: 'session', id: session.id },
            metadata: { action: 'session revoked' },
          });
          // Announced before the commit: refusing a moment early is the safe side.
          await announceRevoked(ctx, [session.id]);
        },
        onIdle: async (tx, session) => {
          if (await endIdleSession(ctx, tx, session, request.ip))
            await announceRevoked(ctx, [session.id]);
        },
        // A cookie is sent by any page: a browser's refresh needs its CSRF token too.
        ...(fromCookie
          ? {
              check: (session: { id: string }) => {
                if (csrfMatches(ctx.config, request, session.id)) return;
                csrfRefused = true;
                throw new AppError('PERMISSION_DENIED', CSRF_MISSING);
              },
            }
          : {}),
      });
      // Refused before anything changed; recorded like any other CSRF refusal.
      const pair = await rotation.catch((error: unknown) =>
        csrfRefused
          ? failAuth(ctx, request, 'csrf', CSRF_MISSING, 'PERMISSION_DENIED')
          : Promise.reject(error),
      );
      const { userId, ...tokens } = pair;
      return deliverTokens(ctx.config, reply, tokens, fromCookie, { userId });
    },
  );

  /** Ends the user's sessions (`only` one of them, or all) and records it. */
  const endSessions = async (
    request: FastifyRequest,
    principal: Extract<Principal, { kind: 'user' }>,
    event: string,
    only: string | null,
  ): Promise<number> => {
    const ended = await ctx.db.system(async (tx) => {
      const ended = await tx.query<{ id: string }>(
        `UPDATE sessions SET revoked_at = $2, revoked_reason = $4
          WHERE user_id = $1 AND revoked_at IS NULL AND ($3::text IS NULL OR id = $3)
          RETURNING id`,
        [principal.userId, ctx.now(), only, event],
      );
      if (ended.length > 0)
        await appendAudit(tx, null, {
          event,
          actor: { id: principal.userId, email: principal.email, ip: request.ip },
          resource: { type: 'session', id: only },
          metadata: { sessions: ended.map((r) => r.id) },
        });
      return ended.map((r) => r.id);
    });
    await announceRevoked(ctx, ended);
    return ended.length;
  };

  /** `pendingOk`: signing out is allowed before the second factor too. */
  const userOnly = async (request: FastifyRequest, pendingOk = false) => {
    const principal = await authenticate(ctx, request, { allowMfaPending: pendingOk });
    if (principal.kind !== 'user')
      throw new AppError('PERMISSION_DENIED', 'Sessions belong to signed-in users, not API keys.');
    return principal;
  };

  app.post(
    '/api/v1/auth/logout',
    doc('End this session.', 'user', { success: 204 }),
    async (request, reply) => {
      const principal = await userOnly(request, true);
      await endSessions(request, principal, 'auth.logout', principal.sessionId);
      clearSessionCookies(ctx.config, reply);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/me/sessions',
    doc("List the caller's live sessions.", 'user'),
    async (request) => {
      const principal = await userOnly(request);
      const sessions = await ctx.db.system((tx) =>
        tx.queryAndCommit<{ id: string }>(
          `SELECT id, created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt"
           FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
          ORDER BY created_at`,
          [principal.userId, ctx.now()],
        ),
      );
      return { sessions: sessions.map((s) => ({ ...s, current: s.id === principal.sessionId })) };
    },
  );

  app.delete(
    '/api/v1/me/sessions/:sessionId',
    doc('End one of your sessions.', 'user', { success: 204 }),
    async (request, reply) => {
      const principal = await userOnly(request);
      const id = (request.params as { sessionId: string }).sessionId;
      if ((await endSessions(request, principal, 'auth.session_revoked', id)) === 0)
        throw new AppError('NOT_FOUND', `No active session ${id} of yours.`);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/api/v1/me/sessions',
    doc('End all your sessions.', 'user', { success: 204 }),
    async (request, reply) => {
      const principal = await userOnly(request);
      await endSessions(request, principal, 'auth.sessions_revoked', null);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/me',
    doc('Who is calling: the user and their organisations, or the API key.', 'userOrKey'),
    async (request) => {
      const principal = await authenticate(ctx, request);
      if (principal.kind !== 'user')
        return {
          apiKey: { id: principal.keyId, organization: principal.orgId, scopes: principal.scopes },
        };
      // The caller's own memberships across organisations: a server-side query by user id.
      const organizations = await ctx.db.system((tx) =>
        tx.queryAndCommit<{ id: string; name: string; role: string }>(
          `SELECT o.id, o.name, m.role FROM memberships m JOIN organisations o ON o.id = m.organisation_id
          WHERE m.user_id = $1 ORDER BY o.created_at`,
          [principal.userId],
        ),
      );
      return { user: { id: principal.userId, email: principal.email }, organizations };
    },
  );
}
