import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { appendAudit, type AuditInput } from '../audit.js';
import { authenticate, type Principal, type ServerContext } from '../auth.js';
import type { Tx } from '../db/db.js';
import {
  acceptCode,
  MfaSecrets,
  mfaRow,
  newRecoveryCodes,
  newTotpSecret,
  otpauthUri,
  useRecoveryCode,
} from '../mfa.js';
import type { RouteDoc } from '../openapi.js';
import { parseBody } from './body.js';

const Code = z.string().regex(/^\d{6}$/, 'the 6-digit code of your authenticator app');
const CodeBody = z.object({ code: Code });
const VerifyBody = z
  .object({ code: Code.optional(), recoveryCode: z.string().min(1).max(64).optional() })
  .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), {
    message: 'send either code or recoveryCode',
  });

type User = Extract<Principal, { kind: 'user' }>;

const doc = (summary: string, success: RouteDoc['success'], body?: z.ZodTypeAny) => ({
  config: { doc: { summary, auth: 'user' as const, success, ...(body ? { body } : {}) } },
});

const WRONG_CODE =
  'The code is not valid (wrong, from another step, or already used); wait for the next one and try again.';

/**
 * /api/v1/auth/mfa: TOTP enrolment (secret made here and shown once, confirmed by a first
 * code, which also gives ten recovery codes), the check a pending session must pass, and
 * turning it off (never while FORCE_MFA=true). A pending session may call these routes
 * (and sign out) and nothing else (auth.ts). Under /api/v1/auth/ they share the stricter
 * per-address limit; attempts at a code are also limited per user (attempt()).
 */
export function registerMfaRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const secrets = new MfaSecrets(ctx.config);
  /** The signed-in user; `pendingOk`: also a session that still owes its second factor. */
  const userOf = async (request: FastifyRequest, pendingOk: boolean): Promise<User> => {
    const p = await authenticate(ctx, request, { allowMfaPending: pendingOk });
    if (p.kind !== 'user')
      throw new AppError(
        'PERMISSION_DENIED',
        'A second factor belongs to a signed-in user, not an API key.',
      );
    return p;
  };

  const audit = (tx: Tx, request: FastifyRequest, user: User, input: Omit<AuditInput, 'actor'>) =>
    appendAudit(
      tx,
      null,
      { ...input, actor: { id: user.userId, email: user.email, ip: request.ip } },
      ctx.now(),
    );

  /**
   * One attempt at a code, counted per user whatever the address or session (the
   * per-address limit alone would let a spread-out guesser through): AUTH_RATE_LIMIT_MAX per
   * AUTH_RATE_LIMIT_WINDOW, even when RATE_LIMIT_ENABLED=false, since a 6-digit code falls
   * to unlimited guessing.
   */
  const attempt = async (reply: FastifyReply, user: User) => {
    const now = ctx.now().getTime();
    const hit = await ctx.shared.rateLimits.hit(
      `mfa:${user.userId}`,
      ctx.config.AUTH_RATE_LIMIT_WINDOW,
      now,
    );
    if (hit.count > ctx.config.AUTH_RATE_LIMIT_MAX) {
      const retryAfter = Math.max(1, Math.ceil((hit.resetAt - now) / 1000));
      void reply.header('Retry-After', String(retryAfter));
      throw new AppError(
        'RESOURCE_EXHAUSTED',
        `Too many attempts at a code; try again in ${retryAfter} seconds.`,
      );
    }
  };

  /** Marks the session as having passed its second factor (this instance's cache forgets it). */
  const verifySession = async (tx: Tx, user: User) => {
    await tx.query('UPDATE sessions SET mfa_verified_at = $2 WHERE id = $1', [
      user.sessionId,
      ctx.now(),
    ]);
    ctx.sessionCache.delete(user.sessionId);
  };

  /**
   * Runs `body`; when it says the code failed, records `mfa.failed` in its own transaction
   * (the failed one changed nothing) and answers 401.
   */
  const checked = async (
    request: FastifyRequest,
    user: User,
    body: (tx: Tx) => Promise<boolean>,
  ) => {
    const ok = await ctx.db.system(body);
    if (ok) return;
    await ctx.db.system((tx) =>
      audit(tx, request, user, {
        level: 'warn',
        event: 'mfa.failed',
        resource: { type: 'session', id: user.sessionId },
        metadata: {},
      }),
    );
    throw new AppError('UNAUTHENTICATED', WRONG_CODE);
  };

  app.get(
    '/api/v1/auth/mfa',
    doc('Second factor: on or off, whether this session owes it, recovery codes left.', 200),
    async (request) => {
      const user = await userOf(request, true);
      return ctx.db.system(async (tx) => {
        const row = await mfaRow(tx, user.userId);
        const [left] = await tx.queryAndCommit<{ n: number }>(
          'SELECT count(*)::int AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL',
          [user.userId],
        );
        return {
          enabled: row?.enabled_at != null,
          pending: user.mfaPending,
          required: ctx.config.FORCE_MFA,
          recoveryCodesLeft: row?.enabled_at != null ? (left?.n ?? 0) : 0,
        };
      });
    },
  );

  app.post(
    '/api/v1/auth/mfa/enroll',
    doc('Start TOTP enrolment: the secret and its otpauth:// URI, shown this once.', 201),
    async (request, reply) => {
      const user = await userOf(request, true);
      const secret = newTotpSecret();
      await ctx.db.system(async (tx) => {
        const row = await mfaRow(tx, user.userId);
        // Also what stops a session that owes a code from replacing the factor instead.
        if (row?.enabled_at != null)
          throw new AppError(
            'ALREADY_EXISTS',
            'Two-step sign-in is already on for this account; turn it off first (POST /api/v1/auth/mfa/disable) to enrol another authenticator.',
          );
        await tx.query(
          `INSERT INTO user_mfa (user_id, secret_enc, created_at) VALUES ($1, $2, $3)
           ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc,
             created_at = EXCLUDED.created_at, last_step = NULL`,
          [user.userId, secrets.encrypt(user.userId, secret), ctx.now()],
        );
      });
      return reply
        .status(201)
        .send({ secret: secret.base32, otpauthUri: otpauthUri(secret, user.email) });
    },
  );

  app.post(
    '/api/v1/auth/mfa/confirm',
    doc('Finish enrolment with a first code; answers the one-use recovery codes.', 200, CodeBody),
    async (request, reply) => {
      const user = await userOf(request, true);
      const { code } = parseBody(CodeBody, request.body);
      await attempt(reply, user);
      let recoveryCodes: string[] = [];
      await checked(request, user, async (tx) => {
        const row = await mfaRow(tx, user.userId);
        if (row === undefined || row.enabled_at !== null)
          throw new AppError(
            'INVALID_ARGUMENT',
            row === undefined
              ? 'Start with POST /api/v1/auth/mfa/enroll.'
              : 'Two-step sign-in is already on for this account.',
          );
        if (!(await acceptCode(tx, secrets, user.userId, row, code, ctx.now()))) return false;
        await tx.query('UPDATE user_mfa SET enabled_at = $2 WHERE user_id = $1', [
          user.userId,
          ctx.now(),
        ]);
        recoveryCodes = await newRecoveryCodes(tx, user.userId);
        await verifySession(tx, user);
        await audit(tx, request, user, {
          event: 'mfa.enrolled',
          resource: { type: 'user', id: user.userId },
          metadata: { method: 'totp' },
        });
        return true;
      });
      return { recoveryCodes };
    },
  );

  app.post(
    '/api/v1/auth/mfa/verify',
    doc("Pass this session's second factor: a TOTP code or a recovery code.", 200, VerifyBody),
    async (request, reply) => {
      const user = await userOf(request, true);
      const body = parseBody(VerifyBody, request.body);
      await attempt(reply, user);
      await checked(request, user, async (tx) => {
        const row = await mfaRow(tx, user.userId);
        if (row?.enabled_at == null)
          throw new AppError(
            'INVALID_ARGUMENT',
            'This account has no second factor yet; enrol first (POST /api/v1/auth/mfa/enroll).',
          );
        const ok =
          body.code !== undefined
            ? await acceptCode(tx, secrets, user.userId, row, body.code, ctx.now())
            : await useRecoveryCode(tx, user.userId, body.recoveryCode!, ctx.now());
        if (!ok) return false;
        await verifySession(tx, user);
        const method = body.code !== undefined ? 'totp' : 'recovery code';
        if (body.recoveryCode !== undefined)
          await audit(tx, request, user, {
            level: 'warn',
            event: 'mfa.recovery_used',
            resource: { type: 'user', id: user.userId },
            metadata: {},
          });
        await audit(tx, request, user, {
          event: 'mfa.verified',
          resource: { type: 'session', id: user.sessionId },
          metadata: { method },
        });
        return true;
      });
      return { verified: true };
    },
  );

  app.post(
    '/api/v1/auth/mfa/disable',
    doc(
      'Turn two-step sign-in off (needs a current code; never while FORCE_MFA=true).',
      204,
      CodeBody,
    ),
    async (request, reply) => {
      const user = await userOf(request, false);
      const { code } = parseBody(CodeBody, request.body);
      if (ctx.config.FORCE_MFA)
        throw new AppError(
          'PERMISSION_DENIED',
          'This server requires a second factor for everyone (FORCE_MFA=true); it cannot be turned off.',
        );
      await attempt(reply, user);
      await checked(request, user, async (tx) => {
        const row = await mfaRow(tx, user.userId);
        if (row?.enabled_at == null)
          throw new AppError('INVALID_ARGUMENT', 'Two-step sign-in is not on for this account.');
        if (!(await acceptCode(tx, secrets, user.userId, row, code, ctx.now()))) return false;
        await tx.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [user.userId]);
        await tx.query('DELETE FROM user_mfa WHERE user_id = $1', [user.userId]);
        await audit(tx, request, user, {
          level: 'warn',
          event: 'mfa.disabled',
          resource: { type: 'user', id: user.userId },
          metadata: {},
        });
        return true;
      });
      return reply.status(204).send();
    },
  );
}
