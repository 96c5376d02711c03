import { z } from 'zod';
import { AppError, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import type { TeamCredentials } from './credentials.js';

/**
 * Calls to the organisation server's REST API from the member's machine: its JSON errors
 * become AppErrors with the server's code and message, an unreachable server becomes
 * UNAVAILABLE naming it. `asMember` adds the signed-in member's access token and refreshes
 * it once when it has expired, saving the rotated pair at once (the old refresh token no
 * longer works, so losing the new one would sign the member out).
 */

const TIMEOUT_MS = 30_000;

export interface ServerCall {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  accessToken?: string;
  signal?: AbortSignal;
}

const ErrorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** One call; resolves to the answer's JSON (undefined for 204). */
export async function callServer<T>(
  serverUrl: string,
  path: string,
  call: ServerCall = {},
): Promise<T> {
  const url = `${serverUrl.replace(/\/+$/, '')}${path}`;
  const signal = AbortSignal.any([
    AbortSignal.timeout(TIMEOUT_MS),
    ...(call.signal ? [call.signal] : []),
  ]);
  let response: Response;
  try {
    response = await fetch(url, {
      method: call.method ?? 'GET',
      signal,
      headers: {
        accept: 'application/json',
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(call.accessToken !== undefined ? { authorization: `Bearer ${call.accessToken}` } : {}),
      },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  } catch (error) {
    if (call.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.', { cause: error });
    throw new AppError(
      'UNAVAILABLE',
      `Could not reach the organisation server at ${serverUrl} (${describeFetchError(error)}); check the address and your connection.`,
      { cause: error },
    );
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (response.ok && json !== undefined) return json as T;
  const error = ErrorAnswer.safeParse(json);
  if (error.success) {
    const code = (
      error.data.error.code in ERROR_CODES ? error.data.error.code : 'INTERNAL'
    ) as ErrorCode;
    throw new AppError(code, error.data.error.message);
  }
  throw new AppError(
    'UNAVAILABLE',
    `${url} answered ${response.status} without a FireBackup answer; is ${serverUrl} an organisation server?`,
  );
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
  /** At sign-in: the second factor the session still owes (until then only MFA routes work). */
  mfa?: 'none' | 'verify' | 'enroll';
}

/** Credentials updated with a newly issued token pair. */
export function withPair(credentials: TeamCredentials, pair: IssuedPair): TeamCredentials {
  return {
    ...credentials,
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    accessExpiresAt: Date.now() + pair.expiresIn * 1000,
    sessionId: pair.sessionId,
  };
}

/** Refresh a little before the access token's expiry, not after a refused call. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * Calls the server as the signed-in member. Returns the answer and the credentials in
 * effect afterwards (rotated when a refresh happened, and handed to `keep` first). A
 * session that has ended is UNAUTHENTICATED with a message saying to sign in again.
 */
export async function asMember<T>(
  /** Saves a rotated pair (saveTeamCredentials), or drops it for a sign-in being ended. */
  keep: (rotated: TeamCredentials) => Promise<void>,
  credentials: TeamCredentials,
  path: string,
  call: Omit<ServerCall, 'accessToken'> = {},
): Promise<{ value: T; credentials: TeamCredentials }> {
  let current = credentials;
  const refresh = async () => {
    let pair: IssuedPair;
    try {
      pair = await callServer<IssuedPair>(current.serverUrl, '/api/v1/auth/refresh', {
        method: 'POST',
        body: { refreshToken: current.refreshToken },
        ...(call.signal ? { signal: call.signal } : {}),
      });
    } catch (error) {
      if (error instanceof AppError && error.code === 'UNAUTHENTICATED')
        throw sessionEnded(current.serverUrl, error);
      throw error;
    }
    current = withPair(current, pair);
    await keep(current);
  };
  let refreshed = false;
  if (current.accessExpiresAt - REFRESH_MARGIN_MS < Date.now()) {
    await refresh();
    refreshed = true;
  }
  try {
    const value = await callServer<T>(current.serverUrl, path, {
      ...call,
      accessToken: current.accessToken,
    });
    return { value, credentials: current };
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'UNAUTHENTICATED') throw error;
    if (refreshed) throw sessionEnded(current.serverUrl, error);
    await refresh();
    const value = await callServer<T>(current.serverUrl, path, {
      ...call,
      accessToken: current.accessToken,
    }).catch((again: unknown) => {
      throw again instanceof AppError && again.code === 'UNAUTHENTICATED'
        ? sessionEnded(current.serverUrl, again)
        : again;
    });
    return { value, credentials: current };
  }
}

function sessionEnded(serverUrl: string, cause: unknown): AppError {
  return new AppError(
    'UNAUTHENTICATED',
    `Your session on ${serverUrl} has ended (signed out, revoked or expired); run \`firebackup login --server ${serverUrl}\` again.`,
    { cause },
  );
}
