import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from './config.js';
import type { TokenPair } from './tokens.js';

/**
 * Browser sessions: the token pair travels in cookies (the guide's SESSION_* settings)
 * instead of the answer's body, so a page's script never holds it (HttpOnly). The CLI and
 * the app keep sending `Authorization: Bearer`; a request with that header ignores cookies.
 *
 * CSRF: a cookie is sent by the browser whatever page started the request, so every
 * cookie-authenticated request that changes state must carry `X-CSRF-Token`. The token is
 * an HMAC of the session id under a key derived from JWT_SECRET (a "signed double-submit"
 * token): the page reads it from the login answer or the readable `<name>_csrf` cookie, and
 * another site can neither read it nor make one, even when it can plant cookies (a sibling
 * subdomain can) or when an old browser ignores SameSite. SameSite=Strict stays on as the
 * first wall. An Origin check was the other option; it needs the public origin configured
 * behind the guide's proxy and says nothing when a browser leaves Origin out, so the token
 * is the check and it needs no configuration.
 */

type CookieConfig = Pick<
  ServerConfig,
  | 'JWT_SECRET'
  | 'SESSION_COOKIE_NAME'
  | 'SESSION_SECURE'
  | 'SESSION_HTTP_ONLY'
  | 'SESSION_SAME_SITE'
  | 'SESSION_MAX_AGE'
  | 'SESSION_DOMAIN'
>;

export const CSRF_HEADER = 'x-csrf-token';

/** The refresh cookie goes to the auth routes only, never to the rest of the API. */
const REFRESH_PATH = '/api/v1/auth';

export function cookieNames(config: Pick<ServerConfig, 'SESSION_COOKIE_NAME'>) {
  const base = config.SESSION_COOKIE_NAME;
  return { access: base, refresh: `${base}_refresh`, csrf: `${base}_csrf` };
}

/** Methods that must not change state; everything else needs the CSRF token with a cookie. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

export function csrfTokenFor(config: Pick<ServerConfig, 'JWT_SECRET'>, sessionId: string): string {
  return createHmac('sha256', config.JWT_SECRET)
    .update(`firebackup csrf\0${sessionId}`)
    .digest('base64url');
}

/** True when the request's X-CSRF-Token is the one of `sessionId`. */
export function csrfMatches(
  config: Pick<ServerConfig, 'JWT_SECRET'>,
  request: FastifyRequest,
  sessionId: string,
): boolean {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(config, sessionId));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function options(config: CookieConfig, path: string, httpOnly: boolean): CookieSerializeOptions {
  return {
    path,
    httpOnly,
    secure: config.SESSION_SECURE,
    sameSite: config.SESSION_SAME_SITE,
    // SESSION_MAX_AGE is in milliseconds, as the guide writes it; Max-Age is in seconds.
    maxAge: Math.floor(config.SESSION_MAX_AGE / 1000),
    ...(config.SESSION_DOMAIN !== undefined ? { domain: config.SESSION_DOMAIN } : {}),
  };
}

/** The browser's access or refresh token from its cookie, or undefined. */
export function tokenFromCookie(
  config: CookieConfig,
  request: FastifyRequest,
  which: 'access' | 'refresh',
): string | undefined {
  const value = request.cookies[cookieNames(config)[which]];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The answer of a sign-in or refresh: the pair in the body for Bearer clients, or in
 * cookies for browsers (the body then has no token, only the CSRF token to echo).
 */
export function deliverTokens<T extends object>(
  config: CookieConfig,
  reply: FastifyReply,
  pair: TokenPair,
  asCookies: boolean,
  extra: T,
): Record<string, unknown> {
  if (!asCookies) return { ...pair, ...extra };
  const names = cookieNames(config);
  const csrfToken = csrfTokenFor(config, pair.sessionId);
  void reply.setCookie(
    names.access,
    pair.accessToken,
    options(config, '/', config.SESSION_HTTP_ONLY),
  );
  void reply.setCookie(
    names.refresh,
    pair.refreshToken,
    options(config, REFRESH_PATH, config.SESSION_HTTP_ONLY),
  );
  // The page's script reads this one to send it back in X-CSRF-Token.
  void reply.setCookie(names.csrf, csrfToken, options(config, '/', false));
  return { sessionId: pair.sessionId, expiresIn: pair.expiresIn, csrfToken, ...extra };
}

/** Sign-out: the browser forgets all three cookies. */
export function clearSessionCookies(config: CookieConfig, reply: FastifyReply): void {
  const names = cookieNames(config);
  const gone = (path: string, httpOnly: boolean) => ({
    ...options(config, path, httpOnly),
    maxAge: 0,
  });
  void reply.setCookie(names.access, '', gone('/', config.SESSION_HTTP_ONLY));
  void reply.setCookie(names.refresh, '', gone(REFRESH_PATH, config.SESSION_HTTP_ONLY));
  void reply.setCookie(names.csrf, '', gone('/', false));
}
