/**
 * Export: every user of a project, page by page, then a second listing that must count
 * the same number of users (a difference fails the export: users changed during the
 * backup, or a page was lost, and a backup that silently misses users is worse than
 * none). Plus the project's password hash configuration, without which the archived
 * hashes cannot be imported anywhere.
 */
import { AppError, isAppError } from '../../../shared/errors.js';
import { accountsPath, type AuthConnection } from './connection.js';
import {
  EMULATOR_HASH_ALGORITHM,
  toUserRecord,
  type ApiUserInfo,
  type AuthHashConfig,
  type AuthHashConfigRecord,
  type AuthUserRecord,
} from './records.js';

/** The API's largest page. */
export const MAX_PAGE_SIZE = 1000;

export interface ExportUsersOptions {
  hashConfig: AuthHashConfig;
  /** A tenant's users instead of the project's own. */
  tenantId?: string;
  pageSize?: number;
  signal?: AbortSignal;
  /** Skip the second listing (tests of the listing itself only). */
  skipCrossCheck?: boolean;
}

/** Where the hash configuration comes from; injectable (tests, other config sources). */
export type HashConfigSource = (
  conn: AuthConnection,
  tenantId?: string,
) => Promise<AuthHashConfigRecord>;

/**
 * The project's own configuration from the Identity Toolkit admin API
 * (`projects.getConfig`, `signIn.hashConfig`); the emulator's fixed pseudo-configuration
 * when connected to the emulator, which has none.
 */
export const readHashConfig: HashConfigSource = async (conn, tenantId) => {
  const scope = { project: conn.projectId, ...(tenantId ? { tenantId } : {}) };
  if (conn.emulator) {
    return { source: 'emulator', ...scope, hashConfig: { algorithm: EMULATOR_HASH_ALGORITHM } };
  }
  // A tenant has its own configuration, on the tenant resource.
  const hashConfig = tenantId
    ? (
        await conn.request<{ hashConfig?: AuthHashConfig }>(
          'GET',
          `/v2/projects/${conn.projectId}/tenants/${encodeURIComponent(tenantId)}`,
        )
      ).hashConfig
    : (
        await conn.request<{ signIn?: { hashConfig?: AuthHashConfig } }>(
          'GET',
          `/admin/v2/projects/${conn.projectId}/config`,
        )
      ).signIn?.hashConfig;
  if (!hashConfig?.algorithm) {
    throw new AppError(
      'PERMISSION_DENIED',
      `Firebase Auth of ${conn.projectId}${tenantId ? ` (tenant ${tenantId})` : ''} did not return its password hash configuration, without which archived passwords could not be restored. The credentials need the Firebase Authentication Admin role.`,
    );
  }
  return { source: 'project', ...scope, hashConfig };
};

/**
 * The project's tenants (multi-tenancy, Identity Platform). A project without
 * multi-tenancy answers with an error that says so (not found / invalid): no tenants.
 * A refusal (permissions) is an error: a backup must not silently miss tenant users.
 */
export async function listTenants(conn: AuthConnection, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ pageSize: '100', ...(token ? { pageToken: token } : {}) });
    let page: { tenants?: Array<{ name?: string; tenantId?: string }>; nextPageToken?: string };
    try {
      page = await conn.request(
        'GET',
        `/v2/projects/${conn.projectId}/tenants?${query}`,
        undefined,
        signal,
      );
    } catch (error) {
      if (isAppError(error) && (error.code === 'NOT_FOUND' || error.code === 'INVALID_ARGUMENT')) {
        return [];
      }
      throw error;
    }
    for (const t of page.tenants ?? []) {
      const id = t.tenantId ?? t.name?.split('/').pop();
      if (id) ids.push(id);
    }
    token = page.nextPageToken || undefined;
  } while (token);
  return ids;
}

interface BatchGetPage {
  users?: ApiUserInfo[];
  nextPageToken?: string;
}

/** Pages of raw users; the next page is requested while the caller handles this one. */
async function* pages(
  conn: AuthConnection,
  pageSize: number,
  signal?: AbortSignal,
  tenantId?: string,
): AsyncGenerator<ApiUserInfo[]> {
  const fetchPage = (token: string | undefined): Promise<BatchGetPage> => {
    const query = new URLSearchParams({ maxResults: String(pageSize) });
    if (token) query.set('nextPageToken', token);
    return conn.request<BatchGetPage>(
      'GET',
      `${accountsPath(conn, tenantId)}/accounts:batchGet?${query}`,
      undefined,
      signal,
    );
  };
  let next: Promise<BatchGetPage> | undefined = fetchPage(undefined);
  while (next) {
    const page: BatchGetPage = await next;
    const users = page.users ?? [];
    // An empty page with a token would loop forever; the API ends with no token.
    next = page.nextPageToken && users.length > 0 ? fetchPage(page.nextPageToken) : undefined;
    next?.catch(() => undefined); // awaited on the next turn
    if (users.length > 0) yield users;
  }
}

function checkPageSize(pageSize: number): number {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new AppError('INVALID_ARGUMENT', `The Auth page size must be 1–${MAX_PAGE_SIZE}.`);
  }
  return pageSize;
}

/** Counts the users with a fresh listing. */
export async function countUsers(
  conn: AuthConnection,
  options: { pageSize?: number; signal?: AbortSignal; tenantId?: string } = {},
): Promise<number> {
  let count = 0;
  const pageSize = checkPageSize(options.pageSize ?? MAX_PAGE_SIZE);
  for await (const page of pages(conn, pageSize, options.signal, options.tenantId))
    count += page.length;
  return count;
}

/** Every user of the project, as archive records; throws at the end if the cross-check fails. */
export async function* exportUsers(
  conn: AuthConnection,
  options: ExportUsersOptions,
): AsyncGenerator<AuthUserRecord> {
  const pageSize = checkPageSize(options.pageSize ?? MAX_PAGE_SIZE);
  let exported = 0;
  for await (const page of pages(conn, pageSize, options.signal, options.tenantId)) {
    for (const user of page) {
      if (typeof user.localId !== 'string' || !user.localId) {
        throw new AppError(
          'INTEGRITY',
          `Firebase Auth of ${conn.projectId} listed a user without a uid; the backup was stopped.`,
        );
      }
      exported++;
      yield toUserRecord(user, options.hashConfig);
    }
  }
  if (options.skipCrossCheck) return;
  const counted = await countUsers(conn, {
    pageSize,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
  });
  if (counted !== exported) {
    throw new AppError(
      'INTEGRITY',
      `The Auth export of ${conn.projectId}${options.tenantId ? ` (tenant ${options.tenantId})` : ''} read ${exported} users but a second listing counts ${counted}: users were added or deleted during the backup, or a page was lost. Nothing was kept; run the backup again (at a quiet time if sign-ups are frequent).`,
    );
  }
}
