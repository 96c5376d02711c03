import { AppError, isAppError, toErrorData, type ErrorCode } from '../../shared/errors.js';
import type { SecretStore } from '../secrets/secret-store.js';
import {
  clearTeamCredentials,
  loadTeamCredentials,
  saveTeamCredentials,
  type ExclusiveStore,
  type TeamCredentials,
} from './credentials.js';
import {
  readAnswer,
  sendToServer,
  serverName,
  type IssuedPair,
  type ServerAnswer,
} from './server-api.js';

/**
 * The one client of the organisation server's /api/v1 as the signed-in member (team sync
 * mode), over the machine's shared sign-in (credentials.ts, ADR 0017). The CLI (whoami,
 * logout, login), the web mode and the desktop app all call through it.
 *
 * - The access token is refreshed shortly before it expires and once on a 401. Refreshes
 *   are single-flight: concurrent calls wait for one refresh, because the server rotates
 *   the refresh token on every use and treats a second use of the old one as theft
 *   (it revokes the whole session).
 * - Across processes the refresh runs under the store's lock (when it has one), and the
 *   stored sign-in is read again first: another front end (the CLI while the desktop app
 *   runs) may have refreshed already, and its new pair is used instead.
 * - A refused refresh signs the member out here (the session is over on the server) with
 *   a message that says how to sign in again.
 * - Every failure is an AppError whose message says what to do (server-api.ts maps the
 *   network's and the server's). Tokens never appear in a message, and this module logs
 *   nothing.
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

export type TeamResponse<T> = ServerAnswer<T>;

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

/** How to sign in again, in every front end's words (the server's address when known). */
export function signInAgain(serverUrl?: string): string {
  return `Sign in again with \`firebackup login --server ${serverUrl ?? '<url>'}\` (or Team → Sign in in the app).`;
}

export const NOT_SIGNED_IN = `Not signed in to an organisation server. ${signInAgain()}`;

/** What signing out did: on the server, and here. */
export interface SignedOut {
  wasSignedIn: boolean;
  /** The server answered (the session ended now, or had already). */
  serverReached: boolean;
  /**
   * 'ended': the server ended the session now; 'already-ended': it had ended before
   * (signed out elsewhere, revoked, expired); 'unreachable': forgotten here only, the
   * session stays valid on the server until it expires; 'unreadable': the stored sign-in
   * was damaged and removed; 'not-signed-in': nothing to do.
   */
  outcome: 'ended' | 'already-ended' | 'unreachable' | 'unreadable' | 'not-signed-in';
  /** The sign-in that was removed (its server, user and session id; for messages). */
  signIn: Pick<TeamCredentials, 'serverUrl' | 'sessionId' | 'user'> | null;
  /** Why the server could not be told ('unreachable'). */
  problem: string | null;
}

export class TeamClient {
  private readonly now: () => number;
  private readonly margin: number;
  private readonly timeoutMs: number;
  private refreshing: Promise<TeamCredentials> | undefined;

  constructor(private readonly o: TeamClientOptions) {
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

  /**
   * Keeps a new sign-in (the browser flow's) for every front end, after ending the one it
   * replaces on the server, so signing in again (say, to pick another organisation) leaves
   * no session behind. Answers what became of the one before.
   */
  async replace(credentials: TeamCredentials, signal?: AbortSignal): Promise<SignedOut> {
    const previous = await this.signOut(signal);
    await saveTeamCredentials(this.o.secrets, credentials);
    return previous;
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
      await response.body?.cancel();
      credentials = await this.refresh(credentials);
      response = await this.send(credentials, method, path, request);
      if (response.status === 401) {
        // Refreshed a moment ago, refused all the same: the session is over.
        const refused = await readAnswer(credentials.serverUrl, response).catch(
          (error: unknown) => error,
        );
        throw new AppError(
          'UNAUTHENTICATED',
          `${serverName(credentials.serverUrl)} no longer accepts this sign-in (${toErrorData(refused).message}). ${signInAgain(credentials.serverUrl)}`,
        );
      }
    }
    return readAnswer<T>(credentials.serverUrl, response, request.text === true);
  }

  /** Ends this session on the server (best effort) and forgets the sign-in here. */
  async signOut(signal?: AbortSignal): Promise<SignedOut> {
    let credentials: TeamCredentials | undefined;
    try {
      credentials = await this.signIn();
    } catch {
      // Damaged: nothing to tell a server about, but removed all the same.
      await clearTeamCredentials(this.o.secrets);
      return {
        wasSignedIn: true,
        serverReached: false,
        outcome: 'unreadable',
        signIn: null,
        problem: null,
      };
    }
    if (credentials === undefined)
      return {
        wasSignedIn: false,
        serverReached: false,
        outcome: 'not-signed-in',
        signIn: null,
        problem: null,
      };
    let outcome: SignedOut['outcome'] = 'ended';
    let problem: string | null = null;
    try {
      await this.request('POST', '/auth/logout', signal ? { signal } : {});
    } catch (error) {
      // Signed out elsewhere already, or unreachable: forgetting it here is what matters;
      // the session then ends on the server at its own expiry.
      if (isAppError(error) && error.code === 'UNAUTHENTICATED') outcome = 'already-ended';
      else {
        if (isAppError(error) && error.code === 'CANCELLED') throw error;
        outcome = 'unreachable';
        problem = toErrorData(error).message;
      }
    }
    await clearTeamCredentials(this.o.secrets);
    return {
      wasSignedIn: true,
      serverReached: outcome !== 'unreachable',
      outcome,
      signIn: {
        serverUrl: credentials.serverUrl,
        sessionId: credentials.sessionId,
        user: credentials.user,
      },
      problem,
    };
  }

  /** One refresh at a time: concurrent callers share it. */
  private refresh(stale: TeamCredentials): Promise<TeamCredentials> {
    this.refreshing ??= this.exclusive(() => this.refreshOnce(stale)).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Under the store's lock when it has one: one front end of the machine at a time. */
  private exclusive<T>(body: () => Promise<T>): Promise<T> {
    const store = this.o.secrets as SecretStore & Partial<ExclusiveStore>;
    return store.exclusive !== undefined ? store.exclusive(body) : body();
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
      await response.body?.cancel();
      // Revoked, expired, signed out elsewhere, or the old token used twice (the server
      // then revoked the whole session): the sign-in is dead, keep nothing of it.
      await clearTeamCredentials(this.o.secrets);
      throw new AppError(
        'UNAUTHENTICATED',
        `Your sign-in to ${serverName(stored.serverUrl)} has ended (signed out, revoked, expired, or its refresh token was used twice). Queued changes are kept. ${signInAgain(stored.serverUrl)}`,
      );
    }
    const pair = (await readAnswer<IssuedPair>(stored.serverUrl, response)).body;
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
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    request: TeamRequest,
  ): Promise<Response> {
    return this.raw(credentials.serverUrl, method, path, request, credentials.accessToken);
  }

  private raw(
    serverUrl: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    request: TeamRequest,
    accessToken?: string,
  ): Promise<Response> {
    return sendToServer(serverUrl, `/api/v1${path}`, {
      ...request,
      method,
      timeoutMs: this.timeoutMs,
      ...(accessToken !== undefined ? { accessToken } : {}),
      ...(this.o.fetch !== undefined ? { fetch: this.o.fetch } : {}),
    });
  }
}
