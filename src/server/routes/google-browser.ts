import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../../engine/team/pkce.js';
import { AppError } from '../../shared/errors.js';
import type { ServerContext } from '../auth.js';
import { sha256 } from '../ids.js';
import type { Identity } from '../auth.js';
import { cookieNames, deliverTokens } from '../session-cookies.js';
import { recordLoginFailure, startUserSession, upsertUser } from '../sign-in.js';

/**
 * Sign-in with Google for pages served at the server's own origin (the browser flow):
 * `GET /api/v1/auth/google/start?return_to=/a/path` runs the same authorization-code flow
 * as the native one (the server's PKCE verifier, state and nonce in oauth_states), and the
 * callback starts the session in the SESSION_* cookies with the CSRF token (as a browser's
 * sign-in does: session-cookies.ts), then sends the browser to `return_to`.
 *
 * Two things the native flow gets from its loopback client are made here instead:
 *
 * - Where to go afterwards is only ever a path on this origin (sameOriginPath): an open
 *   redirect after sign-in would hand phishing pages the server's name.
 * - The flow is bound to the browser that started it: start sets a random, HttpOnly,
 *   short-lived cookie whose SHA-256 the flow row keeps, and the callback refuses a browser
 *   without it. Otherwise a callback address (with the attacker's own Google code) sent to
 *   a victim would sign the victim's browser in as the attacker (login CSRF), and anything
 *   the victim then saved would land in the attacker's account. The cookie is SameSite=Lax,
 *   not Strict: the callback is a navigation from Google's site, which carries Lax cookies
 *   only; it is scoped to the callback's path and dies with the flow (STATE_TTL_MS).
 */

const CALLBACK_COOKIE_PATH = '/api/v1/auth/google/callback';

/** The cookie binding a flow to its browser: the session cookie's name + `_oauth`. */
function bindingCookie(ctx: ServerContext): string {
  return `${cookieNames(ctx.config).access}_oauth`;
}

// eslint-disable-next-line no-control-regex
const LOCAL_PATH = /^\/(?![/\\])[^\\\s\u0000-\u001f\u007f]*$/;

/**
 * `value` when it is a path on this origin to send the browser to, else a 400. Only
 * `/…` without a second slash or backslash after the first (`//host` and `/\host` are other
 * hosts to a browser), and nothing a browser strips or rewrites (control characters,
 * whitespace, backslashes anywhere); resolved against a placeholder origin, it must stay on
 * that origin, and what it resolves to must pass the same test.
 */
export function sameOriginPath(value: string): string {
  const refuse = () =>
    new AppError(
      'INVALID_ARGUMENT',
      `return_to must be a path on this server, like /app/team (not an address on another site); got "${value.slice(0, 200)}".`,
    );
  if (value.length > 2048 || !LOCAL_PATH.test(value)) throw refuse();
  const placeholder = 'https://this-server.invalid';
  const url = new URL(value, placeholder);
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments can normalise into `//host` (`/.//evil.com`, `/a/..//evil.com`): the path
  // sent back must pass the same test as the one given.
  if (url.origin !== placeholder || !LOCAL_PATH.test(path)) throw refuse();
  return path;
}

/** The browser flow's start: a flow row bound to a new cookie, and the issuer's address. */
export async function startBrowserFlow(
  ctx: ServerContext,
  reply: FastifyReply,
  returnTo: string,
  ttlMs: number,
  begin: (browser: { returnTo: string; bindingHash: string }) => Promise<string>,
): Promise<FastifyReply> {
  const path = sameOriginPath(returnTo);
  const binding = randomToken();
  const target = await begin({ returnTo: path, bindingHash: sha256(binding) });
  void reply.setCookie(bindingCookie(ctx), binding, {
    path: CALLBACK_COOKIE_PATH,
    httpOnly: true,
    secure: ctx.config.SESSION_SECURE,
    sameSite: 'lax',
    maxAge: Math.floor(ttlMs / 1000),
  });
  return reply.redirect(target, 302);
}

/** `path` with `name=value` added to its query (the fragment kept after it). */
function withParam(path: string, name: string, value: string): string {
  const url = new URL(path, 'https://this-server.invalid');
  url.searchParams.set(name, value);
  return `${url.pathname}${url.search}${url.hash}`;
}

export interface BrowserFlow {
  return_to: string;
  browser_binding_hash: string;
}

/**
 * The callback of a browser flow (its state row already consumed): the browser must hold
 * the flow's cookie; then the provider's answer is checked (`identify`), the session
 * started (FORCE_MFA honoured: a session owing its second factor can call only the MFA
 * routes) and delivered in cookies, and the browser sent to return_to. A refused sign-in
 * goes back to return_to with `sign_in_error=access_denied` and no session.
 */
export async function finishBrowserFlow(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  flow: BrowserFlow,
  identify: () => Promise<Identity | { refused: string }>,
): Promise<FastifyReply> {
  const name = bindingCookie(ctx);
  const cookie = request.cookies[name];
  // Spent either way: the flow was one try.
  void reply.clearCookie(name, { path: CALLBACK_COOKIE_PATH });
  if (cookie === undefined || sha256(cookie) !== flow.browser_binding_hash) {
    await recordLoginFailure(
      ctx,
      request.ip,
      cookie === undefined
        ? 'browser sign-in finished without the cookie of the browser that started it'
        : 'browser sign-in finished in another browser than the one that started it',
      { method: 'google', client: 'browser' },
    );
    throw new AppError(
      'PERMISSION_DENIED',
      'This sign-in was started in another browser (or its cookie expired or was blocked); start signing in again from this page.',
    );
  }
  const identity = await identify();
  if ('refused' in identity) {
    await recordLoginFailure(ctx, request.ip, identity.refused, {
      method: 'google',
      client: 'browser',
    });
    return reply.redirect(withParam(flow.return_to, 'sign_in_error', 'access_denied'), 302);
  }
  const user = await upsertUser(ctx, identity);
  const { accessToken, refreshToken, expiresIn, sessionId } = await startUserSession(
    ctx,
    user,
    request.ip,
    { method: 'google', client: 'browser' },
  );
  deliverTokens(ctx.config, reply, { accessToken, refreshToken, expiresIn, sessionId }, true, {});
  return reply.redirect(flow.return_to, 302);
}
