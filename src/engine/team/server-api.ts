import { AppError, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';

/**
 * One HTTP exchange with the organisation server's REST API from the member's machine,
 * written once for every caller (the sign-in flow, TeamClient, the CLI): the network's
 * failures become UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED naming the server, its JSON
 * errors become AppErrors with the server's code and message, a 429 keeps its
 * Retry-After. Tokens never appear in a message, and nothing here logs.
 *
 * Calls as the signed-in member, with the refresh of their token pair, are TeamClient's
 * (client.ts); `callServer` is for calls with a token the caller holds itself (the sign-in
 * flow, before anything is stored).
 */

export interface ServerCall {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  accessToken?: string;
  /** Sent as Idempotency-Key (writes of the offline queue, made once per action). */
  idempotencyKey?: string;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  /** The answer's body as text, unparsed (a file download: the audit log's NDJSON or CSV). */
  text?: boolean;
  /** No answer in this long fails as DEADLINE_EXCEEDED (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ServerAnswer<T> {
  status: number;
  body: T;
  /** The server answered from its Idempotency-Key record: the write had happened already. */
  replayed: boolean;
}

/** The server asked to slow down (429), and for how long, when it said. */
export class SlowDownError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super('RESOURCE_EXHAUSTED', message);
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** The server's origin for messages (its address without a path or credentials). */
export function serverName(serverUrl: string): string {
  try {
    return new URL(serverUrl).origin;
  } catch {
    return 'the organisation server';
  }
}

/** Sends one request; network failures are AppErrors, any HTTP answer is returned. */
export async function sendToServer(
  serverUrl: string,
  path: string,
  call: ServerCall = {},
): Promise<Response> {
  const url = new URL(
    path.replace(/^\/+/, ''),
    serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`,
  );
  for (const [name, value] of Object.entries(call.query ?? {}))
    if (value !== undefined) url.searchParams.set(name, String(value));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.accessToken !== undefined) headers.authorization = `Bearer ${call.accessToken}`;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
  const timeoutMs = call.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = call.signal !== undefined ? AbortSignal.any([call.signal, timeout]) : timeout;
  try {
    return await (call.fetch ?? globalThis.fetch)(url, {
      method: call.method ?? 'GET',
      headers,
      signal,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  } catch (error) {
    if (call.signal?.aborted === true)
      throw new AppError('CANCELLED', 'Cancelled.', { cause: error });
    if (timeout.aborted)
      throw new AppError(
        'DEADLINE_EXCEEDED',
        `The organisation server ${url.origin} did not answer within ${Math.round(timeoutMs / 1000)} s; check your connection and try again.`,
      );
    throw new AppError(
      'UNAVAILABLE',
      `The organisation server ${url.origin} cannot be reached (${networkReason(error)}); check its address and your connection, or ask your admin whether it is up.`,
      { cause: error },
    );
  }
}

/** The answer's JSON, or the server's error as an AppError (its code and message). */
export async function readAnswer<T>(
  serverUrl: string,
  response: Response,
  asText = false,
): Promise<ServerAnswer<T>> {
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
  const server = serverName(serverUrl);
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const message = typeof error?.message === 'string' ? error.message : undefined;
  if (response.status === 429) {
    const after = Number(response.headers.get('retry-after'));
    const seconds = Number.isFinite(after) && after > 0 ? Math.ceil(after) : null;
    throw new SlowDownError(
      message ??
        `${server} asks to slow down; try again${seconds !== null ? ` in ${seconds} s` : ' shortly'}.`,
      seconds,
    );
  }
  if (typeof error?.code === 'string' && error.code in ERROR_CODES && message !== undefined)
    throw new AppError(error.code as ErrorCode, message);
  if (response.status === 401)
    throw new AppError('UNAUTHENTICATED', `${server} refused the sign-in (HTTP 401).`);
  if (response.status >= 500)
    throw new AppError(
      'UNAVAILABLE',
      `${server} failed to answer (HTTP ${response.status}); try again later, and tell your admin if it persists.`,
    );
  throw new AppError(
    'UNAVAILABLE',
    `${server} answered HTTP ${response.status} without an answer FireBackup understands; is ${serverUrl} a FireBackup organisation server?`,
  );
}

/** One call with a token the caller holds; resolves to the answer's JSON (undefined for 204). */
export async function callServer<T>(
  serverUrl: string,
  path: string,
  call: ServerCall = {},
): Promise<T> {
  return (await readAnswer<T>(serverUrl, await sendToServer(serverUrl, path, call), call.text))
    .body;
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

/** A token pair as the server issues it (sign-in, refresh). */
export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
  /** At sign-in: the second factor the session still owes (until then only MFA routes work). */
  mfa?: 'none' | 'verify' | 'enroll';
}
