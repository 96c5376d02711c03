/**
 * A connection to Firebase Auth: the Identity Toolkit REST API, called with fetch and
 * google-auth-library's tokens (the Auth emulator takes its admin token "Bearer owner").
 *
 * The REST API rather than firebase-admin's `listUsers`/`importUsers`: those convert
 * users into their own classes (dropping fields they do not know) and re-encode password
 * hashes as Buffers, which cannot carry the emulator's fake hashes; `accounts:batchGet`
 * and `accounts:batchCreate` speak one `UserInfo` JSON, so a user round-trips verbatim.
 */
import { GoogleAuth } from 'google-auth-library';
import { AppError, isAppError } from '../../../shared/errors.js';
import { retrying, type BackoffPolicy } from '../../util/backoff.js';

export interface OpenAuthOptions {
  projectId: string;
  /** "host:port" of an Auth emulator (FIREBASE_AUTH_EMULATOR_HOST); no credentials used. */
  emulatorHost?: string;
  /** A service-account JSON key file. Without it (and without an emulator), ADC is used. */
  credentialsFile?: string;
}

export interface AuthConnection {
  readonly projectId: string;
  /** True against the Auth emulator. */
  readonly emulator: boolean;
  /** Where requests go, for messages (no secrets). */
  readonly endpoint: string;
  /** One JSON request to the Identity Toolkit API, retried when the failure is transient. */
  request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T>;
}

/** The accounts API of the project, or of one of its tenants. */
export function accountsPath(conn: AuthConnection, tenantId?: string): string {
  const project = `/v1/projects/${conn.projectId}`;
  return tenantId ? `${project}/tenants/${encodeURIComponent(tenantId)}` : project;
}

const SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/firebase',
];

export const AUTH_RETRY: BackoffPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 8000 };

export function openAuth(options: OpenAuthOptions): AuthConnection {
  const { projectId, emulatorHost, credentialsFile } = options;
  if (!projectId || !/^[a-z0-9-]+$/i.test(projectId)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${projectId}" is not a valid Firebase project id. Pass the project id shown in the Firebase console.`,
    );
  }
  let base: string;
  let headers: () => Promise<Record<string, string>>;
  if (emulatorHost) {
    const host = emulatorHost.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    base = `http://${host}/identitytoolkit.googleapis.com`;
    headers = async () => ({ authorization: 'Bearer owner' });
  } else {
    base = 'https://identitytoolkit.googleapis.com';
    const auth = new GoogleAuth({
      scopes: SCOPES,
      ...(credentialsFile ? { keyFile: credentialsFile } : {}),
    });
    headers = async () => {
      try {
        const h = await auth.getRequestHeaders();
        return { ...(h as Record<string, string>), 'x-goog-user-project': projectId };
      } catch (error) {
        throw new AppError(
          'PERMISSION_DENIED',
          `No Google credentials for Firebase Auth of ${projectId}: pass --credentials <service-account.json> or set GOOGLE_APPLICATION_CREDENTIALS. (${error instanceof Error ? error.message : String(error)})`,
        );
      }
    };
  }
  const endpoint = base.replace(/^https?:\/\//, '');

  async function once<T>(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(await headers()), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (isAppError(error)) throw error;
      if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.');
      throw new AppError(
        'UNAVAILABLE',
        `Firebase Auth at ${endpoint} could not be reached (${error instanceof Error ? error.message : String(error)}). Check the network${emulatorHost ? ' and that the Auth emulator is running' : ''}.`,
      );
    }
    const text = await res.text();
    if (!res.ok) throw httpError(res.status, text, `${method} ${path}`, projectId, endpoint);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AppError('UNAVAILABLE', `Firebase Auth at ${endpoint} answered with invalid JSON.`);
    }
  }

  return {
    projectId,
    emulator: Boolean(emulatorHost),
    endpoint,
    request: <T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal) =>
      retrying(() => once<T>(method, path, body, signal), {
        policy: AUTH_RETRY,
        ...(signal ? { signal } : {}),
      }),
  };
}

function httpError(
  status: number,
  text: string,
  what: string,
  projectId: string,
  endpoint: string,
): AppError {
  let detail = text.slice(0, 300);
  try {
    detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
  } catch {
    // not JSON: keep the start of the text
  }
  const where = `Firebase Auth of ${projectId} (${endpoint}) refused ${what}: ${detail}`;
  if (status === 401 || status === 403) {
    return new AppError(
      'PERMISSION_DENIED',
      `${where}. The credentials need the Firebase Authentication Admin role.`,
    );
  }
  if (status === 404) {
    return new AppError('NOT_FOUND', `${where}. Check the project id and that Auth is enabled.`);
  }
  if (status === 429) return new AppError('RESOURCE_EXHAUSTED', `${where}.`);
  if (status >= 500) return new AppError('UNAVAILABLE', `${where}.`);
  return new AppError('INVALID_ARGUMENT', `${where}.`);
}
