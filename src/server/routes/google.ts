import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { PKCE_VALUE, pkceChallenge, randomToken } from '../../engine/team/pkce.js';
import { AppError } from '../../shared/errors.js';
import { announceRevoked, type Identity, type ServerContext } from '../auth.js';
import { sha256 } from '../ids.js';
import { OidcClient, SignInRefused } from '../oidc.js';
import type { RouteDoc } from '../openapi.js';
import { recordLoginFailure, startUserSession, upsertUser, type SignedInUser } from '../sign-in.js';
import { parseBody } from './body.js';
import { finishBrowserFlow, startBrowserFlow, type BrowserFlow } from './google-browser.js';

/**
 * Sign-in with Google for native clients (the CLI and the desktop app), RFC 8252: the
 * client listens on a loopback port and opens the system browser at /start with its own
 * PKCE challenge and state; the server runs Google's authorization-code flow (its own
 * PKCE verifier, state and nonce, kept in the database and never sent to the browser),
 * checks the id token, then sends the browser back to the client's loopback address with
 * a one-time code that only the holder of the client's verifier can exchange at /token.
 *
 * Pages served at this server's own origin sign in through the same routes with
 * `return_to` instead (the browser flow, google-browser.ts).
 *
 * A state works once and for STATE_TTL_MS; a code once and for CODE_TTL_MS. A code
 * presented twice ends the session its first use started (RFC 6749 §4.1.2).
 */

/** Time to sign in at Google (choose an account, maybe type a password and a second factor). */
const STATE_TTL_MS = 10 * 60_000;
/** The client exchanges the code the moment its listener receives it. */
const CODE_TTL_MS = 60_000;
/** How long a spent code is remembered after its expiry (replays within it end the session). */
export const CODE_KEPT_MS = 24 * 3_600_000;

const StartQuery = z.object({
  redirect_uri: z.string().min(1, 'redirect_uri is required'),
  code_challenge: z
    .string()
    .regex(PKCE_VALUE, 'code_challenge must be a PKCE S256 challenge (43 base64url characters)'),
  code_challenge_method: z.literal('S256', {
    errorMap: () => ({ message: 'code_challenge_method must be S256' }),
  }),
  state: z.string().min(1, 'state is required').max(512),
});

/** What the document shows: the native client's parameters, or a browser's return_to. */
const StartDoc = StartQuery.partial().extend({
  return_to: z
    .string()
    .optional()
    .describe(
      'A browser page at this server: the path to return to once signed in (session cookies). Without it, the native client parameters are required.',
    ),
});

const CallbackQuery = z.object({
  state: z.string().min(1).max(512),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().max(256).optional(),
});

const TokenBody = z.object({
  code: z.string().min(1).max(512),
  codeVerifier: z.string().regex(PKCE_VALUE, 'a PKCE verifier (43 to 128 characters)'),
  redirectUri: z.string().min(1).max(2048),
});

const doc = (summary: string, extra: Partial<RouteDoc>) => ({
  config: { doc: { summary, auth: 'none' as const, success: 200 as const, ...extra } },
});

/**
 * The client's redirect URI: http on the IPv4 or IPv6 loopback literal with a port (RFC
 * 8252 §7.3, §8.3: not `localhost`, which a hosts file or DNS may send elsewhere).
 */
export function nativeRedirectUri(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    url.protocol !== 'http:' ||
    (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') ||
    url.port === '' ||
    url.username !== '' ||
    url.password !== '' ||
    url.hash !== ''
  )
    throw new AppError(
      'INVALID_ARGUMENT',
      `redirect_uri must be a loopback address of the signing-in machine, http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path> (RFC 8252); got "${value}".`,
    );
  return url.href;
}

/** Sends the browser back to the native client with `params` (RFC 6749 §4.1.2). */
function backToClient(reply: FastifyReply, redirectUri: string, params: Record<string, string>) {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return reply.redirect(url.href, 302);
}

export function registerGoogleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const google = ctx.config.google;
  if (google === undefined) return;
  const oidc = new OidcClient(google, ctx.now);

  /** A new flow's row (state, nonce, PKCE verifier) and the issuer's address for it. */
  const begin = async (
    client:
      | { flow: 'native'; redirectUri: string; challenge: string; state: string }
      | { flow: 'browser'; returnTo: string; bindingHash: string },
  ): Promise<string> => {
    const state = randomToken();
    const nonce = randomToken();
    const verifier = randomToken();
    const now = ctx.now();
    const native = client.flow === 'native' ? client : undefined;
    const browser = client.flow === 'browser' ? client : undefined;
    await ctx.db.system(async (tx) => {
      // Flows never finished are dropped here rather than by a timer.
      await tx.query('DELETE FROM oauth_states WHERE expires_at < $1', [now]);
      await tx.query(
        `INSERT INTO oauth_states (state_hash, nonce, code_verifier, client_redirect_uri,
           client_challenge, client_state, created_at, expires_at, flow, return_to,
           browser_binding_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          sha256(state),
          nonce,
          verifier,
          native?.redirectUri ?? null,
          native?.challenge ?? null,
          native?.state ?? null,
          now,
          new Date(now.getTime() + STATE_TTL_MS),
          client.flow,
          browser?.returnTo ?? null,
          browser?.bindingHash ?? null,
        ],
      );
    });
    try {
      return await oidc.authorizationUrl({ state, nonce, codeChallenge: pkceChallenge(verifier) });
    } catch (error) {
      throw new AppError(
        'UNAVAILABLE',
        `Google sign-in is unavailable: ${(error as Error).message}. Try again later.`,
        { cause: error },
      );
    }
  };

  app.get(
    '/api/v1/auth/google/start',
    doc(
      'Start signing in with Google (redirects to Google): for a native client (RFC 8252), or with return_to for a page at this server.',
      { query: StartDoc, success: 302 },
    ),
    async (request, reply) => {
      const raw = request.query as Record<string, unknown>;
      const returnTo = raw['return_to'];
      if (returnTo !== undefined) {
        if (typeof returnTo !== 'string' || Object.keys(StartQuery.shape).some((k) => k in raw))
          throw new AppError(
            'INVALID_ARGUMENT',
            'Send either return_to (one path of a page at this server) or the native client parameters (redirect_uri, code_challenge, state), not both.',
          );
        return startBrowserFlow(ctx, reply, returnTo, STATE_TTL_MS, (b) =>
          begin({ flow: 'browser', ...b }),
        );
      }
      const query = parseBody(StartQuery, request.query);
      const redirectUri = nativeRedirectUri(query.redirect_uri);
      const target = await begin({
        flow: 'native',
        redirectUri,
        challenge: query.code_challenge,
        state: query.state,
      });
      return reply.redirect(target, 302);
    },
  );

  app.get(
    '/api/v1/auth/google/callback',
    doc(
      "Google's redirect back (GOOGLE_CALLBACK_URL); redirects to the native client, or the browser's return_to.",
      {
        query: CallbackQuery,
        success: 302,
      },
    ),
    async (request, reply) => {
      const query = parseBody(CallbackQuery, request.query);
      const now = ctx.now();
      // Consumed whatever happens next: a state works once.
      const [flow] = await ctx.db.system((tx) =>
        tx.query<
          {
            flow: 'native' | 'browser';
            nonce: string;
            code_verifier: string;
            client_redirect_uri: string;
            client_challenge: string;
            client_state: string;
            expires_at: Date;
          } & BrowserFlow
        >('DELETE FROM oauth_states WHERE state_hash = $1 RETURNING *', [sha256(query.state)]),
      );
      if (flow === undefined || flow.expires_at <= now) {
        await recordLoginFailure(ctx, request.ip, 'unknown, expired or already used state');
        throw new AppError(
          'INVALID_ARGUMENT',
          'This sign-in is unknown, expired or already used; start signing in again from FireBackup.',
        );
      }
      // The provider's answer, checked: who signed in, or why not (audited, never a token).
      const identify = async (): Promise<Identity | { refused: string }> => {
        if (query.error !== undefined || query.code === undefined)
          return { refused: `Google answered ${query.error ?? 'without a code'}` };
        try {
          return await oidc.signIn(query.code, flow.code_verifier, flow.nonce);
        } catch (error) {
          return {
            refused:
              error instanceof SignInRefused
                ? error.message
                : `Google could not be reached (${(error as Error).message})`,
          };
        }
      };
      if (flow.flow === 'browser') return finishBrowserFlow(ctx, request, reply, flow, identify);
      const identity = await identify();
      if ('refused' in identity) {
        await recordLoginFailure(ctx, request.ip, identity.refused, { method: 'google' });
        return backToClient(reply, flow.client_redirect_uri, {
          error: 'access_denied',
          error_description: `Sign-in refused: ${identity.refused}.`,
          state: flow.client_state,
        });
      }
      const user = await upsertUser(ctx, identity);
      const code = `fbc_${randomToken()}`;
      await ctx.db.system(async (tx) => {
        // Spent codes are kept a while so a late replay still ends its session, then dropped.
        await tx.query('DELETE FROM oauth_codes WHERE expires_at < $1', [
          new Date(now.getTime() - CODE_KEPT_MS),
        ]);
        await tx.query(
          `INSERT INTO oauth_codes (code_hash, user_id, client_redirect_uri, client_challenge, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            sha256(code),
            user.id,
            flow.client_redirect_uri,
            flow.client_challenge,
            now,
            new Date(now.getTime() + CODE_TTL_MS),
          ],
        );
      });
      return backToClient(reply, flow.client_redirect_uri, { code, state: flow.client_state });
    },
  );

  app.post(
    '/api/v1/auth/token',
    doc("Exchange a native client's one-time code and PKCE verifier for a token pair.", {
      body: TokenBody,
    }),
    async (request) => {
      const body = parseBody(TokenBody, request.body);
      const now = ctx.now();
      // Marked used in the same transaction that reads it, and committed even when the
      // checks below fail: a code gets one try.
      type Outcome =
        { refused: string; reused?: boolean; ended?: string | undefined } | { user: SignedInUser };
      const outcome = await ctx.db.system(async (tx): Promise<Outcome> => {
        const [row] = await tx.query<{
          user_id: string;
          email: string;
          client_redirect_uri: string;
          client_challenge: string;
          expires_at: Date;
          used_at: Date | null;
          session_id: string | null;
        }>(
          `SELECT c.user_id, u.email, c.client_redirect_uri, c.client_challenge, c.expires_at,
                  c.used_at, c.session_id
             FROM oauth_codes c JOIN users u ON u.id = c.user_id
            WHERE c.code_hash = $1 FOR UPDATE OF c`,
          [sha256(body.code)],
        );
        if (row === undefined) return { refused: 'unknown authorization code' };
        if (row.used_at !== null) {
          const [ended] = await tx.query<{ id: string }>(
            `UPDATE sessions SET revoked_at = $2, revoked_reason = 'authorization code reused'
              WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
            [row.session_id, now],
          );
          return {
            refused: 'authorization code reused; the session it started was ended',
            reused: true,
            ended: ended?.id,
          };
        }
        await tx.query('UPDATE oauth_codes SET used_at = $2 WHERE code_hash = $1', [
          sha256(body.code),
          now,
        ]);
        if (row.expires_at <= now) return { refused: 'authorization code expired' };
        if (row.client_redirect_uri !== body.redirectUri)
          return { refused: 'redirect URI is not the one the code was issued for' };
        if (pkceChallenge(body.codeVerifier) !== row.client_challenge)
          return { refused: 'PKCE verifier does not match the challenge' };
        return { user: { id: row.user_id, email: row.email } };
      });
      if ('refused' in outcome) {
        if (outcome.ended !== undefined) await announceRevoked(ctx, [outcome.ended]);
        await recordLoginFailure(ctx, request.ip, outcome.refused, { method: 'google' });
        throw new AppError(
          'UNAUTHENTICATED',
          outcome.reused === true
            ? 'This sign-in code was already used; sign in again.'
            : 'This sign-in code is not valid (unknown, expired, or not issued to this client); sign in again.',
        );
      }
      const signedIn = await startUserSession(ctx, outcome.user, request.ip, {
        method: 'google',
        client: 'native',
      });
      // Remembered so a second use of the code can end this session. (A replay in the
      // moment between the code's use and this line is refused but cannot end it.)
      await ctx.db.system((tx) =>
        tx.query('UPDATE oauth_codes SET session_id = $2 WHERE code_hash = $1', [
          sha256(body.code),
          signedIn.sessionId,
        ]),
      );
      return signedIn;
    },
  );
}
