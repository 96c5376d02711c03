import { recordAudit } from './audit.js';
import type { Identity, ServerContext } from './auth.js';
import { newId } from './ids.js';
import type { TokenPair } from './tokens.js';

/**
 * What every way of signing in ends with (Google's flow, the tests' own verifier): the
 * person's user row, a new session and its audit entry; and the audit entry of a refusal.
 * Audit entries name the reason, never a token, code or verifier.
 */

export interface SignedInUser {
  id: string;
  email: string;
}

/** The user of this verified email, created on first sign-in (the name kept up to date). */
export async function upsertUser(ctx: ServerContext, identity: Identity): Promise<SignedInUser> {
  const email = identity.email.toLowerCase();
  const id = await ctx.db.system(async (tx) => {
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO users (id, email, name) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO UPDATE SET name = COALESCE(EXCLUDED.name, users.name)
       RETURNING id`,
      [newId('usr'), email, identity.name ?? null],
    );
    return row!.id;
  });
  return { id, email };
}

/** Starts a session for `user` and records `auth.login` (how, in `metadata`). */
export async function startUserSession(
  ctx: ServerContext,
  user: SignedInUser,
  ip: string,
  metadata: Record<string, unknown>,
): Promise<TokenPair & { user: SignedInUser }> {
  const pair = await ctx.tokens.startSession(ctx.db, user.id);
  await recordAudit(ctx.db, null, {
    event: 'auth.login',
    actor: { id: user.id, email: user.email, ip },
    resource: { type: 'session', id: pair.sessionId },
    metadata,
  });
  return { ...pair, user };
}

/** Records a refused sign-in (`auth.login_failed`) with its reason. */
export function recordLoginFailure(
  ctx: ServerContext,
  ip: string,
  reason: string,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  return recordAudit(ctx.db, null, {
    level: 'warn',
    event: 'auth.login_failed',
    actor: { id: null, email: null, ip },
    resource: { type: 'session', id: null },
    metadata: { reason, ...metadata },
  });
}
