/**
 * Google sign-in's settings (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, GOOGLE_CALLBACK_URL,
 * OAUTH_SCOPES, OAUTH_ISSUER), checked at start-up so a server that would send sign-ins
 * to a plain-HTTP callback, or ask for no email, never starts.
 */

export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const CALLBACK_PATH = '/api/v1/auth/google/callback';

export interface GoogleSignIn {
  clientId: string;
  clientSecret: string;
  callbackUrl: string;
  /** Always with `openid` (no id token without it) and `email`. */
  scopes: string[];
  issuer: string;
}

interface Env {
  GOOGLE_CLIENT_ID?: string | undefined;
  GOOGLE_CLIENT_SECRET?: string | undefined;
  GOOGLE_CALLBACK_URL?: string | undefined;
  OAUTH_SCOPES: string;
  OAUTH_ISSUER: string;
}

/** 127.0.0.1, ::1 and localhost: addresses that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost';
}

/** https, or http on loopback (development); undefined when fine, else why not. */
export function secureUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL (got "${value}")`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return `must be an https:// URL (http:// only on 127.0.0.1, [::1] or localhost, for development); got "${value}"`;
}

/**
 * Google sign-in when configured (undefined when GOOGLE_CLIENT_ID is unset: no sign-in
 * routes), and the problems that must stop the server.
 */
export function googleSignIn(env: Env): { google?: GoogleSignIn; problems: string[] } {
  const { GOOGLE_CLIENT_ID: id, GOOGLE_CLIENT_SECRET: secret, GOOGLE_CALLBACK_URL: callback } = env;
  if (id === undefined && secret === undefined && callback === undefined) return { problems: [] };
  const problems: string[] = [];
  const missing = [
    ['GOOGLE_CLIENT_ID', id],
    ['GOOGLE_CLIENT_SECRET', secret],
    ['GOOGLE_CALLBACK_URL', callback],
  ].flatMap(([name, value]) => (value === undefined ? [name] : []));
  if (missing.length > 0)
    problems.push(
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: Google sign-in needs GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_CALLBACK_URL (docs/server.md says how to register the client)`,
    );
  if (callback !== undefined) {
    const problem = secureUrlProblem(callback);
    if (problem !== undefined) problems.push(`GOOGLE_CALLBACK_URL ${problem}`);
    else if (!new URL(callback).pathname.endsWith(CALLBACK_PATH) || new URL(callback).search)
      problems.push(
        `GOOGLE_CALLBACK_URL must end with ${CALLBACK_PATH}, where the server answers Google (got "${callback}")`,
      );
  }
  const issuerProblem = secureUrlProblem(env.OAUTH_ISSUER);
  if (issuerProblem !== undefined) problems.push(`OAUTH_ISSUER ${issuerProblem}`);
  // The guide writes OAUTH_SCOPES=email,profile,…; OpenID Connect writes them space-separated.
  const scopes = env.OAUTH_SCOPES.split(/[\s,]+/).filter((s) => s !== '');
  if (!scopes.includes('openid')) scopes.unshift('openid');
  if (!scopes.includes('email'))
    problems.push(
      `OAUTH_SCOPES must include email: members are known by their verified email (got "${env.OAUTH_SCOPES}")`,
    );
  if (problems.length > 0 || id === undefined || secret === undefined || callback === undefined)
    return { problems };
  return {
    google: {
      clientId: id,
      clientSecret: secret,
      callbackUrl: callback,
      scopes,
      issuer: env.OAUTH_ISSUER.replace(/\/$/, ''),
    },
    problems,
  };
}
