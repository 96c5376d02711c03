import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../shared/errors.js';
import type { TeamCredentials } from './credentials.js';
import { pkceChallenge, randomToken } from './pkce.js';
import { callServer, type IssuedPair } from './server-api.js';

/**
 * Signing a member into an organisation server from the CLI or the desktop app, through
 * the system browser (RFC 8252, never an embedded web view): a one-shot listener on
 * 127.0.0.1 and a random port receives the server's one-time code, which only this
 * process can exchange (it alone holds the PKCE verifier). The server runs Google's flow
 * in between (src/server/routes/google.ts).
 */

export interface SignInOptions {
  serverUrl: string;
  /** Shows the sign-in page to the person: the system browser, or a printed address. */
  openUrl: (url: string) => Promise<void>;
  signal?: AbortSignal;
  /** How long the person has to sign in (default 5 minutes). */
  timeoutMs?: number;
  /**
   * Asks the person for their second factor when the server demands one (FORCE_MFA, or
   * an account that enrolled). Without it such a sign-in fails with what to do.
   */
  secondFactor?: SecondFactorPrompt;
}

export interface SecondFactorPrompt {
  /**
   * 'verify': a code from the authenticator app, or one of the recovery codes.
   * 'enroll': the server requires two-step sign-in and none is set up yet: the person adds
   * `otpauthUri` (or the `secret` typed by hand) to an authenticator app and gives its code.
   */
  askCode(
    request: { demand: 'verify' } | { demand: 'enroll'; otpauthUri: string; secret: string },
  ): Promise<string>;
  /** After enrolment: the one-use recovery codes, shown this once. */
  showRecoveryCodes(codes: string[]): Promise<void> | void;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const CALLBACK_PATH = '/callback';

interface Me {
  user: { id: string; email: string };
  organizations: Array<{ id: string; name: string; role: string }>;
}

export async function signInWithBrowser(options: SignInOptions): Promise<TeamCredentials> {
  const serverUrl = normaliseServerUrl(options.serverUrl);
  await checkServer(serverUrl, options.signal);
  const verifier = randomToken();
  const state = randomToken();
  const listener = await listenOnce(state);
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}${CALLBACK_PATH}`;
    const start = new URL(`${serverUrl}/api/v1/auth/google/start`);
    start.search = new URLSearchParams({
      redirect_uri: redirectUri,
      code_challenge: pkceChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).toString();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const code = await waitFor(listener.code, timeoutMs, options.signal, async () =>
      options.openUrl(start.href),
    );
    const pair = await callServer<IssuedPair>(serverUrl, '/api/v1/auth/token', {
      method: 'POST',
      body: { code, codeVerifier: verifier, redirectUri },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (pair.mfa === 'verify' || pair.mfa === 'enroll')
      await passSecondFactor(serverUrl, pair.accessToken, pair.mfa, options);
    const me = await callServer<Me>(serverUrl, '/api/v1/me', {
      accessToken: pair.accessToken,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return {
      serverUrl,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      accessExpiresAt: Date.now() + pair.expiresIn * 1000,
      sessionId: pair.sessionId,
      user: { id: me.user.id, email: me.user.email },
      organizationId: me.organizations.length === 1 ? me.organizations[0]!.id : null,
    };
  } finally {
    listener.close();
  }
}

/**
 * The session owes a second factor: until it is given the server answers nothing but the
 * MFA routes, so it is asked for here, before the sign-in is kept.
 */
async function passSecondFactor(
  serverUrl: string,
  accessToken: string,
  demand: 'verify' | 'enroll',
  options: SignInOptions,
): Promise<void> {
  const prompt = options.secondFactor;
  if (prompt === undefined)
    throw new AppError(
      'FAILED_PRECONDITION',
      demand === 'verify'
        ? 'This account signs in in two steps, but this sign-in cannot ask for the code. Sign in with `firebackup login` in a terminal.'
        : 'This organisation server requires two-step sign-in and none is set up for this account. Sign in with `firebackup login` in a terminal to set it up.',
    );
  const call = (path: string, body?: unknown) =>
    callServer<Record<string, unknown>>(serverUrl, path, {
      method: 'POST',
      accessToken,
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  if (demand === 'verify') {
    const code = (await prompt.askCode({ demand })).replace(/\s+/g, '');
    // Six digits is an authenticator's code; anything else is taken as a recovery code.
    await call('/api/v1/auth/mfa/verify', /^\d{6}$/.test(code) ? { code } : { recoveryCode: code });
    return;
  }
  const enrolment = (await call('/api/v1/auth/mfa/enroll')) as {
    secret: string;
    otpauthUri: string;
  };
  const code = (await prompt.askCode({ demand, ...enrolment })).replace(/\s+/g, '');
  const confirmed = (await call('/api/v1/auth/mfa/confirm', { code })) as {
    recoveryCodes: string[];
  };
  await prompt.showRecoveryCodes(confirmed.recoveryCodes);
}

/**
 * Before anyone is sent to a browser: the server answers and offers Google sign-in (its
 * OpenAPI document lists the routes it serves), so a wrong address or an unconfigured
 * server fails at once, not after minutes of waiting.
 */
async function checkServer(serverUrl: string, signal: AbortSignal | undefined): Promise<void> {
  const doc = await callServer<{ paths?: Record<string, unknown> }>(
    serverUrl,
    '/api/v1/openapi.json',
    signal ? { signal } : {},
  );
  if (doc.paths?.['/api/v1/auth/google/start'] === undefined)
    throw new AppError(
      'UNAVAILABLE',
      `The organisation server at ${serverUrl} does not offer Google sign-in yet: its administrator must set GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_CALLBACK_URL (docs/server.md).`,
    );
}

/** The server's base URL without a trailing slash; http(s) only. */
export function normaliseServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--server must be the organisation server's address, such as https://backup.example.com (got "${value}").`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new AppError(
      'INVALID_ARGUMENT',
      `--server must be an https:// address (got "${value}").`,
    );
  return url.href.replace(/\/+$/, '');
}

/** Races the code against the timeout and the signal, after showing the page. */
async function waitFor(
  code: Promise<string>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  open: () => Promise<void>,
): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new AppError(
            'DEADLINE_EXCEEDED',
            `Sign-in did not finish within ${timeoutMs >= 60_000 ? `${Math.round(timeoutMs / 60_000)} min` : `${Math.ceil(timeoutMs / 1000)} s`}; run the sign-in again.`,
          ),
        ),
      timeoutMs,
    );
    onAbort = () => reject(new AppError('CANCELLED', 'Sign-in cancelled.'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([open(), stop]);
    return await Promise.race([code, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The loopback listener: answers the browser with a small page and resolves with the code
 * of the first request that carries this sign-in's state (a request with another state is
 * answered and ignored, so a stray or forged one cannot end the sign-in).
 */
async function listenOnce(
  state: string,
): Promise<{ port: number; code: Promise<string>; close: () => void }> {
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | undefined;
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  // Not awaited until the page was opened; a refusal that arrives first must not be unhandled.
  code.catch(() => undefined);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== CALLBACK_PATH)
      return page(response, 404, 'Not found', 'FireBackup is waiting for a sign-in here.');
    if (url.searchParams.get('state') !== state)
      return page(
        response,
        400,
        'Not this sign-in',
        'This answer is not for the sign-in FireBackup is waiting for; it was ignored.',
      );
    const received = url.searchParams.get('code');
    if (received !== null) {
      page(response, 200, 'Signed in', 'FireBackup is signed in. You can close this tab.');
      settle?.resolve(received);
      return;
    }
    const why = url.searchParams.get('error_description') ?? url.searchParams.get('error');
    page(
      response,
      400,
      'Sign-in failed',
      `${why ?? 'The server sent no code.'} You can close this tab and sign in again.`,
    );
    settle?.reject(
      new AppError(
        'UNAUTHENTICATED',
        `${why ?? 'The server sent no sign-in code.'} Sign in again.`,
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    code,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

function page(response: ServerResponse, status: number, title: string, text: string): void {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'",
    // The browser tab stays open on this page; the code in its address must not leak on.
    'referrer-policy': 'no-referrer',
  });
  response.end(
    `<!doctype html><meta charset="utf-8"><title>FireBackup: ${escape(title)}</title>` +
      `<body style="font-family:sans-serif;margin:3em"><h1>${escape(title)}</h1><p>${escape(text)}</p>`,
  );
}
