import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { secondFactorAnswer } from '../../shared/api/methods/team-sign-in.js';
import { AppError, isAppError, toErrorData, type ErrorData } from '../../shared/errors.js';
import type { TeamCredentials } from './credentials.js';
import { pkceChallenge, randomToken } from './pkce.js';
import { callServer, SlowDownError, type IssuedPair } from './server-api.js';

/**
 * Signing a member into an organisation server, through the system browser (RFC 8252,
 * never an embedded web view): a one-shot listener on 127.0.0.1 and a random port
 * receives the server's one-time code, which only this process can exchange (it alone
 * holds the PKCE verifier). The server runs Google's flow in between
 * (src/server/routes/google.ts).
 *
 * One implementation for every front end, as steps: `startBrowserSignIn` runs the browser
 * step and answers either the sign-in or the second factor the server still demands
 * (`PendingSecondFactor`: a code, or enrolling an authenticator), which `submit` completes.
 * The contract's team.signIn / team.signIn.secondFactor (the app's Team screen) drive the
 * steps one call at a time; `signInWithBrowser` drives them with a prompt (the CLI's
 * terminal).
 */

export interface SignInOptions {
  serverUrl: string;
  /** Shows the sign-in page to the person: the system browser, or a printed address. */
  openUrl: (url: string) => Promise<void>;
  signal?: AbortSignal;
  /** How long the person has to sign in (default 5 minutes). */
  timeoutMs?: number;
  /** How long the second-factor step waits for its code (default 10 minutes). */
  secondFactorTimeoutMs?: number;
}

export type SecondFactorDemand =
  | { demand: 'code' }
  /**
   * The server requires two-step sign-in and none is set up yet: the person adds
   * `otpauthUri` (or the `secret` typed by hand) to an authenticator app and gives its code.
   */
  | { demand: 'enrol'; otpauthUri: string; secret: string };

export interface SecondFactorPrompt {
  /**
   * The authenticator's 6-digit code, or (for 'code') one of the recovery codes.
   * `failure`: why the answer before was refused (ask again, or throw to give up).
   */
  askCode(request: SecondFactorDemand, failure?: ErrorData): Promise<string>;
  /** After enrolment: the one-use recovery codes, shown this once. */
  showRecoveryCodes(codes: string[]): Promise<void> | void;
}

export type SignInProgress =
  | { step: 'signedIn'; credentials: TeamCredentials }
  | { step: 'secondFactor'; pending: PendingSecondFactor };

export type SecondFactorAnswer = { code: string } | { recoveryCode: string };

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const SECOND_FACTOR_TIMEOUT_MS = 10 * 60_000;
/** Wrong answers a prompt may give in one sign-in before it is stopped (the server limits too). */
const MAX_PROMPTED_ANSWERS = 5;
const CALLBACK_PATH = '/callback';

interface Me {
  user: { id: string; email: string };
  organizations: Array<{ id: string; name: string; role: string }>;
}

const minutes = (ms: number) =>
  ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.ceil(ms / 1000)} s`;

/** The browser step: the sign-in, or the second factor it still owes. */
export async function startBrowserSignIn(options: SignInOptions): Promise<SignInProgress> {
  const serverUrl = normaliseServerUrl(options.serverUrl);
  const signal = options.signal ? { signal: options.signal } : {};
  await checkServer(serverUrl, options.signal);
  const verifier = randomToken();
  const state = randomToken();
  const listener = await listenOnce(state);
  let pair: IssuedPair;
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
    pair = await callServer<IssuedPair>(serverUrl, '/api/v1/auth/token', {
      method: 'POST',
      body: { code, codeVerifier: verifier, redirectUri },
      ...signal,
    });
  } finally {
    listener.close();
  }
  if (pair.mfa === 'verify' || pair.mfa === 'enroll') {
    const pending = new PendingSecondFactor(serverUrl, pair, options.secondFactorTimeoutMs);
    try {
      await pending.prepare(pair.mfa === 'verify' ? 'code' : 'enrol', options.signal);
    } catch (error) {
      await pending.abandon();
      throw error;
    }
    return { step: 'secondFactor', pending };
  }
  return { step: 'signedIn', credentials: await credentialsOf(serverUrl, pair, options.signal) };
}

/** The sign-in to keep, once the session passed everything it owed. */
async function credentialsOf(
  serverUrl: string,
  pair: IssuedPair,
  signal: AbortSignal | undefined,
): Promise<TeamCredentials> {
  const me = await callServer<Me>(serverUrl, '/api/v1/me', {
    accessToken: pair.accessToken,
    ...(signal ? { signal } : {}),
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
}

/**
 * A session that owes its second factor: until it is given the server answers nothing
 * but the MFA routes (and sign-out), so nothing of it is kept before `submit` succeeds.
 * A wrong code leaves it open for another try; a session the server ended meanwhile, or
 * one left waiting past its deadline, closes it (and the person starts again).
 */
export class PendingSecondFactor {
  demand: 'code' | 'enrol' = 'code';
  /** For 'enrol': what the authenticator app reads (the secret is shown this once). */
  enrolment: { otpauthUri: string; secret: string } | null = null;
  /** When this step stops waiting (ms since epoch). */
  readonly expiresAt: number;
  /** After "too many attempts": no code is sent before this time (ms since epoch). */
  retryAt: number | null = null;
  private closed = false;

  constructor(
    readonly serverUrl: string,
    private readonly pair: IssuedPair,
    private readonly timeoutMs = SECOND_FACTOR_TIMEOUT_MS,
  ) {
    this.expiresAt = Date.now() + timeoutMs;
  }

  /** Still waiting for an answer. */
  get open(): boolean {
    return !this.closed && Date.now() < this.expiresAt;
  }

  get request(): SecondFactorDemand {
    return this.enrolment === null ? { demand: 'code' } : { demand: 'enrol', ...this.enrolment };
  }

  /** For an enrolment: the new authenticator secret (made by the server, shown once). */
  async prepare(demand: 'code' | 'enrol', signal?: AbortSignal): Promise<void> {
    this.demand = demand;
    if (demand === 'enrol')
      this.enrolment = await this.call<{ secret: string; otpauthUri: string }>(
        '/api/v1/auth/mfa/enroll',
        {},
        signal,
      ).then(({ secret, otpauthUri }) => ({ secret, otpauthUri }));
  }

  /**
   * Gives the second factor. Resolves to the sign-in to keep and, after an enrolment,
   * the recovery codes (to show once); a refusal is an AppError saying what to do.
   */
  async submit(
    answer: SecondFactorAnswer,
    signal?: AbortSignal,
  ): Promise<{ credentials: TeamCredentials; recoveryCodes: string[] | null }> {
    if (this.closed)
      throw new AppError(
        'FAILED_PRECONDITION',
        'This sign-in is over (finished, stopped or expired); sign in again.',
      );
    if (Date.now() >= this.expiresAt) {
      await this.abandon();
      throw new AppError(
        'DEADLINE_EXCEEDED',
        `The sign-in waited more than ${minutes(this.timeoutMs)} for its code and was stopped; sign in again.`,
      );
    }
    if (this.retryAt !== null && Date.now() < this.retryAt)
      throw new SlowDownError(
        `Too many attempts at a code; try again in ${Math.ceil((this.retryAt - Date.now()) / 1000)} seconds.`,
        Math.ceil((this.retryAt - Date.now()) / 1000),
      );
    const given = normaliseAnswer(answer);
    if (this.demand === 'enrol' && 'recoveryCode' in given)
      throw new AppError(
        'INVALID_ARGUMENT',
        'Recovery codes come after two-step sign-in is set up: enter the 6-digit code your authenticator app shows for FireBackup.',
      );
    let recoveryCodes: string[] | null = null;
    try {
      if (this.demand === 'enrol')
        recoveryCodes = (
          await this.call<{ recoveryCodes: string[] }>('/api/v1/auth/mfa/confirm', given, signal)
        ).recoveryCodes;
      else await this.call('/api/v1/auth/mfa/verify', given, signal);
    } catch (error) {
      throw await this.refusal(error, given);
    }
    this.closed = true;
    return { credentials: await credentialsOf(this.serverUrl, this.pair, signal), recoveryCodes };
  }

  /** Ends the session that owed the factor (best effort): nothing is left half signed in. */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.call('/api/v1/auth/logout').catch(() => undefined);
  }

  /** What a refused answer means for the person: try again, wait, or start over. */
  private async refusal(error: unknown, given: SecondFactorAnswer): Promise<unknown> {
    if (error instanceof SlowDownError) {
      this.retryAt = Date.now() + (error.retryAfterSeconds ?? 60) * 1000;
      return error;
    }
    if (!isAppError(error) || error.code !== 'UNAUTHENTICATED') return error;
    // Wrong answer, or a session that is over? Only a live session may read its MFA state.
    const live = await callServer(this.serverUrl, '/api/v1/auth/mfa', {
      accessToken: this.pair.accessToken,
    }).then(
      () => true,
      (probe: unknown) => !(isAppError(probe) && probe.code === 'UNAUTHENTICATED'),
    );
    if (!live) {
      this.closed = true;
      return new AppError(
        'UNAUTHENTICATED',
        'This sign-in ended on the server before its second factor was given (it expired or was revoked); sign in again.',
      );
    }
    return new AppError(
      'UNAUTHENTICATED',
      'code' in given
        ? 'That code is not right (wrong, from an older step, or used already). Enter the code your authenticator app shows now.'
        : 'That recovery code is not valid or was used already. Check it, or use another of your recovery codes.',
    );
  }

  private call<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return callServer<T>(this.serverUrl, path, {
      method: 'POST',
      accessToken: this.pair.accessToken,
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
    });
  }
}

/** Spaces taken out; an answer that is neither a code nor a recovery code says so. */
function normaliseAnswer(answer: SecondFactorAnswer): SecondFactorAnswer {
  if ('code' in answer) {
    const code = answer.code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code))
      throw new AppError(
        'INVALID_ARGUMENT',
        'Enter the 6-digit code your authenticator app shows (or one of your recovery codes).',
      );
    return { code };
  }
  return { recoveryCode: answer.recoveryCode.trim() };
}

/**
 * The whole sign-in with a prompt for the second factor (the CLI's terminal): wrong
 * answers are asked again (up to 5), with the reason. Without a prompt, a sign-in that
 * owes a second factor fails with what to do and keeps nothing.
 */
export async function signInWithBrowser(
  options: SignInOptions & { secondFactor?: SecondFactorPrompt },
): Promise<TeamCredentials> {
  const progress = await startBrowserSignIn(options);
  if (progress.step === 'signedIn') return progress.credentials;
  const { pending } = progress;
  const prompt = options.secondFactor;
  try {
    if (prompt === undefined)
      throw new AppError(
        'FAILED_PRECONDITION',
        pending.demand === 'code'
          ? 'This account signs in in two steps, but this sign-in cannot ask for the code. Sign in from the Team screen of the app, or with `firebackup login` in a terminal.'
          : 'This organisation server requires two-step sign-in and none is set up for this account. Sign in from the Team screen of the app, or with `firebackup login` in a terminal, to set it up.',
      );
    let failure: ErrorData | undefined;
    for (let asked = 1; ; asked++) {
      const typed = await prompt.askCode(pending.request, failure);
      try {
        const done = await pending.submit(secondFactorAnswer(typed), options.signal);
        if (done.recoveryCodes !== null) await prompt.showRecoveryCodes(done.recoveryCodes);
        return done.credentials;
      } catch (error) {
        if (!pending.open || asked >= MAX_PROMPTED_ANSWERS) throw error;
        failure = toErrorData(error);
      }
    }
  } finally {
    await pending.abandon();
  }
}

/**
 * Before anyone is sent to a browser: the server answers and offers Google sign-in (its
 * OpenAPI document lists the routes it serves), so a wrong address or an unconfigured
 * server fails at once, not after minutes of waiting.
 */
async function checkServer(serverUrl: string, signal: AbortSignal | undefined): Promise<void> {
  const doc = await callServer<{ paths?: Record<string, unknown> } | undefined>(
    serverUrl,
    '/api/v1/openapi.json',
    signal ? { signal } : {},
  );
  if (doc?.paths?.['/api/v1/auth/google/start'] === undefined)
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
