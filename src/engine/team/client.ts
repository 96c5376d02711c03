import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../../shared/errors.js';
import type { SecretStore } from '../secrets/secret-store.js';
import {
  clearTeamCredentials,
  loadTeamCredentials,
  saveTeamCredentials,
  type TeamCredentials,
} from './credentials.js';

/**
 * The app's HTTP client for the organisation server's /api/v1 (team sync mode), over the
 * member's sign-in in the SecretStore (credentials.ts). Shared by the CLI, the web mode
 * and the desktop app.
 *
 * - The access token is refreshed shortly before it expires and once on a 401. Refreshes
 *   are single-flight: concurrent calls wait for one refresh, because the server rotates
 *   the refresh token on every use and treats a second use of the old one as theft
 *   (it revokes the whole session).
 * - Before refreshing, the stored sign-in is read again: another front end (the CLI while
 *   the desktop app runs) may have refreshed already, and its new pair is used instead.
 * - A refused refresh signs the member out here (the session is over on the server) with
 *   a message that says how to sign in again.
 * - Every failure is an AppError whose message says what to do. Tokens never appear in a
 *   message, and this module logs nothing.
 */

export interface TeamClientOptions {
  secrets: SecretStore;
  fetch?: typeof fetch;
  /** ms since epoch (tests move time). */
  now?: () => number;
  /** Refresh when the access token has less than this left (default 60 s). */
  refreshMarginMs?: number;
  /** A request that gets no answer in this long fails as DEADLINE_EXCEEDED (default 15 s). */
  timeoutMs?: number;
}

export interface TeamRequest {
  body?: unknown;
  /** Sent as Idempotency-Key (writes of the offline queue, made once per action). */
  idempotencyKey?: string;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  /** The answer's body as text, unparsed (a file download: the audit log's NDJSON or CSV). */
  text?: boolean;
}

export interface TeamResponse<T> {
  status: number;
  body: T;
  /** The server answered from its Idempotency-Key record: the write had happened already. */
  replayed: boolean;
}

/** Errors worth trying again later (the server is unreachable, busy, or the call was cut). */
export const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
]);

export function isTransient(error: unknown): boolean {
  return isAppError(error) && TRANSIENT_CODES.has(error.code);
}

const SIGN_IN_AGAIN =
  'Sign in again (`firebackup login --server <url>`, or Team → Sign in in the app).';

export const NOT_SIGNED_IN = `Not signed in to a team server. ${SIGN_IN_AGAIN}`;

export class TeamClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly margin: number;
  private readonly timeoutMs: number;
  private refreshing: Promise<TeamCredentials> | undefined;

  constructor(private readonly o: TeamClientOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
    this.now = o.now ?? Date.now;
    this.margin = o.refreshMarginMs ?? 60_000;
    this.timeoutMs = o.timeoutMs ?? 15_000;
  }

  /** The stored sign-in, or undefined when signed out. */
  signIn(): Promise<TeamCredentials | undefined> {
    return loadTeamCredentials(this.o.secrets);
  }

  async requireSignIn(): Promise<TeamCredentials> {
    const credentials = await this.signIn();
    if (credentials === undefined) throw new AppError('UNAUTHENTICATED', NOT_SIGNED_IN);
    return credentials;
  }

  /** The picked organisation's id; FAILED_PRECONDITION when none is picked yet. */
  async organizationId(): Promise<string> {
    const { organizationId } = await this.requireSignIn();
    if (organizationId === null)
      throw new AppError(
        'FAILED_PRECONDITION',
        'Pick an organisation first (`firebackup login --org <id>`, or Team → Organisation in the app).',
      );
    return organizationId;
  }

  /** Keeps the picked organisation with the sign-in (null: none). */
  async pickOrganization(organizationId: string | null): Promise<void> {
    const credentials = await this.requireSignIn();
    await saveTeamCredentials(this.o.secrets, { ...credentials, organizationId });
  }

  /**
   * Calls `path` below /api/v1 as the signed-in member: refreshes the access token when
   * it is about to expire, and once more on a 401.
   */
  async request<T = unknown>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    request: TeamRequest = {},
  ): Promise<TeamResponse<T>> {
    let credentials = await this.requireSignIn();
    if (credentials.accessExpiresAt - this.now() < this.margin)
      credentials = await this.refresh(credentials);
    let response = await this.send(credentials, method, path, request);
    if (response.status === 401) {
      credentials = await this.refresh(credentials);
      response = await this.send(credentials, method, path, request);
    }
    return this.read<T>(credentials, response, request.text === true);
  }

  /** Ends this session on the server (best effort) and forgets the sign-in here. */
  async signOut(): Promise<{ wasSignedIn: boolean; serverReached: boolean }> {
    const credentials = await this.signIn();
    if (credentials === undefined) return { wasSignedIn: false, serverReached: false };
    let serverReached = false;
    try {
      await this.request('POST', '/auth/logout');
      serverReached = true;
    } catch (error) {
      // Signed out elsewhere already, or unreachable: forgetting it here is what matters;
      // the session then ends on the server at its own expiry.
      serverReached = isAppError(error) && !isTransient(error);
    }
    await clearTeamCredentials(this.o.secrets);
    return { wasSignedIn: true, serverReached };
  }

  /** One refresh at a time: concurrent callers share it. */
  private refresh(stale: TeamCredentials): Promise<TeamCredentials> {
    this.refreshing ??= this.refreshOnce(stale).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshOnce(stale: TeamCredentials): Promise<TeamCredentials> {
    const stored = await this.requireSignIn();
    // Another front end (or an earlier refresh here) rotated the pair already: use it.
    if (
      stored.refreshToken !== stale.refreshToken &&
      stored.accessExpiresAt - this.now() >= this.margin
    )
      return stored;
    const response = await this.raw(stored.serverUrl, 'POST', '/auth/refresh', {
      body: { refreshToken: stored.refreshToken },
    });
    if (response.status === 401 || response.status === 400) {
      // Revoked, expired, signed out elsewhere, or the old token used twice (the server
      // then revoked the whole session): the sign-in is dead, keep nothing of it.
      await clearTeamCredentials(this.o.secrets);
      throw new AppError(
        'UNAUTHENTICATED',
        `Your sign-in to ${origin(stored.serverUrl)} has ended (signed out, revoked, expired, or refreshed twice from two places). Queued changes are kept. ${SIGN_IN_AGAIN}`,
      );
    }
    const pair = (
      await this.read<{
        accessToken: string;
        refreshToken: string;
        expiresIn: number;
        sessionId: string;
      }>(stored, response)
    ).body;
    const renewed: TeamCredentials = {
      ...stored,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      accessExpiresAt: this.now() + pair.expiresIn * 1000,
      sessionId: pair.sessionId,
    };
    await saveTeamCredentials(this.o.secrets, renewed);
    return renewed;
  }

  private send(
    credentials: TeamCredentials,
    method: string,
    path: string,
    request: TeamRequest,
  ): Promise<Response> {
    return this.raw(credentials.serverUrl, method, path, request, credentials.accessToken);
  }

  private async raw(
    serverUrl: string,
    method: string,
    path: string,
    request: TeamRequest,
    accessToken?: string,
  ): Promise<Response> {
    const url = new URL(`api/v1${path}`, serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`);
    for (const [name, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal =
      request.signal !== undefined ? AbortSignal.any([request.signal, timeout]) : timeout;
    try {
      return await this.fetch(url, {
        method,
        headers,
        signal,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      });
    } catch (error) {
      if (request.signal?.aborted === true)
        throw new AppError('CANCELLED', 'Cancelled.', { cause: error });
      if (timeout.aborted)
        throw new AppError(
          'DEADLINE_EXCEEDED',
          `The team server ${url.origin} did not answer within ${Math.round(this.timeoutMs / 1000)} s. Check your connection; queued changes are kept and sent later.`,
        );
      const reason = networkReason(error);
      throw new AppError(
        'UNAVAILABLE',
        `The team server ${url.origin} cannot be reached (${reason}). Check your connection or ask your admin whether it is up; the app shows the last synced state and sends queued changes once it is back.`,
      );
    }
  }

  /** The answer's JSON, or the server's error as an AppError (its code and message). */
  private async read<T>(
    credentials: TeamCredentials,
    response: Response,
    asText = false,
  ): Promise<TeamResponse<T>> {
    const text = await response.text().catch(() => '');
    if (asText && response.ok)
      return {
        status: response.status,
        body: text as T,
        replayed: response.headers.get('idempotent-replayed') === 'true',
      };
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (response.ok)
      return {
        status: response.status,
        body: body as T,
        replayed: response.headers.get('idempotent-replayed') === 'true',
      };
    const server = origin(credentials.serverUrl);
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (response.status === 401)
      throw new AppError(
        'UNAUTHENTICATED',
        `${server} no longer accepts this sign-in (${error?.message ?? 'unauthenticated'}). ${SIGN_IN_AGAIN}`,
      );
    if (response.status === 429) {
      const after = response.headers.get('retry-after');
      throw new AppError(
        'RESOURCE_EXHAUSTED',
        `${server} asks to slow down; try again${after !== null ? ` in ${after} s` : ' shortly'}.`,
      );
    }
    if (error?.code !== undefined && error.code in ERROR_CODES && error.message !== undefined)
      throw new AppError(error.code as ErrorCode, error.message);
    if (response.status >= 500)
      throw new AppError(
        'UNAVAILABLE',
        `${server} failed to answer (HTTP ${response.status}); try again later, and tell your admin if it persists.`,
      );
    throw new AppError(
      'INTERNAL',
      `${server} answered HTTP ${response.status} without an error this app understands; is ${server} a FireBackup organisation server?`,
    );
  }
}

function origin(serverUrl: string): string {
  try {
    return new URL(serverUrl).origin;
  } catch {
    return 'the team server';
  }
}

/** A short, token-free reason for a failed connection (ECONNREFUSED, ENOTFOUND…). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: unknown[] } })
    .cause;
  if (typeof cause?.code === 'string') return cause.code;
  const inner = (cause?.errors?.[0] as { code?: unknown } | undefined)?.code;
  if (typeof inner === 'string') return inner;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : 'network error';
}
