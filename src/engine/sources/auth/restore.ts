/**
 * Restore: archived users into a project with `accounts:batchCreate` (the API behind
 * firebase-admin's importUsers), 1,000 at a time, with the archive's hash configuration
 * so every password keeps working in any project.
 *
 * Modes, as for Firestore: create (users whose uid exists are skipped and counted;
 * the import is sent with allowOverwrite false, so one created meanwhile fails rather
 * than being replaced), overwrite (the archived user replaces the existing one whole),
 * merge (the archived fields replace the existing user's, fields the archive lacks are
 * kept; custom claims merge key by key, provider links by provider). A dry run looks the
 * uids up and reports the plan without writing. Per-user refusals are reported by uid.
 */
import { AppError, type ErrorCode } from '../../../shared/errors.js';
import { emptyTally, noteFailure, type RestoreTally } from '../restore-tally.js';
import { accountsPath, type AuthConnection } from './connection.js';
import { readHashConfig, type HashConfigSource } from './export.js';
import {
  hashConfigMismatch,
  toApiUser,
  type ApiUserInfo,
  type AuthHashConfig,
  type AuthHashConfigRecord,
  type AuthUserRecord,
} from './records.js';

export type AuthRestoreMode = 'create' | 'overwrite' | 'merge';

export interface AuthRestoreOptions {
  mode: AuthRestoreMode;
  /**
   * The archive's hash configuration record (it precedes the users in the archive); its
   * tenantId, when set, names the tenant the users go back into.
   */
  hashConfig: AuthHashConfigRecord;
  dryRun?: boolean;
  /** Users per import request, at most 1,000 (the API's limit). */
  batchSize?: number;
  /** Import requests in flight. Default 2. */
  concurrency?: number;
  /** The target's own hash configuration, for merged users who keep their current password. */
  targetHashConfig?: HashConfigSource;
  signal?: AbortSignal;
  /** Called with the number of users just finished (a delta). */
  onProgress?: (users: number) => void;
}

export interface AuthRestoreFailure {
  uid: string;
  code: ErrorCode;
  message: string;
}

export interface AuthRestoreReport extends RestoreTally<AuthRestoreFailure> {
  merged: number;
}
const MAX_BATCH = 1000;
/** accounts:lookup takes at most 100 uids a call (as firebase-admin's getUsers). */
const LOOKUP_CHUNK = 100;

export async function restoreUsers(
  conn: AuthConnection,
  users: AsyncIterable<AuthUserRecord>,
  options: AuthRestoreOptions,
): Promise<AuthRestoreReport> {
  const batchSize = options.batchSize ?? MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new AppError('INVALID_ARGUMENT', `The Auth batch size must be 1–${MAX_BATCH}.`);
  }
  const mismatch = hashConfigMismatch(options.hashConfig.hashConfig, conn.emulator);
  if (mismatch) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${mismatch} Restore it into an Auth emulator (--auth-emulator), or back up the real project.`,
    );
  }
  const report: AuthRestoreReport = { ...emptyTally(options.dryRun), merged: 0 };
  let targetConfig: Promise<AuthHashConfig> | undefined;
  const ctx: BatchContext = {
    conn,
    options,
    report,
    targetHashConfig: () => {
      targetConfig ??= (options.targetHashConfig ?? readHashConfig)(
        conn,
        options.hashConfig.tenantId,
      ).then((r) => r.hashConfig);
      return targetConfig;
    },
  };

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const launch = (batch: AuthUserRecord[]): void => {
    const p = restoreBatch(ctx, batch)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let batch: AuthUserRecord[] = [];
  for await (const user of users) {
    if (options.signal?.aborted) throw new AppError('CANCELLED', 'The restore was cancelled.');
    if (failure) break;
    batch.push(user);
    if (batch.length === batchSize) {
      launch(batch);
      batch = [];
      while (inFlight.size >= (options.concurrency ?? 2)) await Promise.race(inFlight);
    }
  }
  if (batch.length > 0 && !failure) launch(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
  return report;
}

interface BatchContext {
  conn: AuthConnection;
  options: AuthRestoreOptions;
  report: AuthRestoreReport;
  targetHashConfig: () => Promise<AuthHashConfig>;
}

/** The users of `uids` that exist in the target, by uid. */
async function lookup(ctx: BatchContext, uids: string[]): Promise<Map<string, ApiUserInfo>> {
  const found = new Map<string, ApiUserInfo>();
  const chunks: string[][] = [];
  for (let i = 0; i < uids.length; i += LOOKUP_CHUNK) chunks.push(uids.slice(i, i + LOOKUP_CHUNK));
  await Promise.all(
    chunks.map(async (localId) => {
      const res = await ctx.conn.request<{ users?: ApiUserInfo[] }>(
        'POST',
        `${accountsPath(ctx.conn, ctx.options.hashConfig.tenantId)}/accounts:lookup`,
        { localId },
        ctx.options.signal,
      );
      for (const user of res.users ?? []) found.set(user.localId, user);
    }),
  );
  return found;
}

interface Upload {
  user: ApiUserInfo;
  kind: 'created' | 'overwritten' | 'merged';
}

async function restoreBatch(ctx: BatchContext, batch: AuthUserRecord[]): Promise<void> {
  const { options, report } = ctx;
  const archived = options.hashConfig.hashConfig;
  const existing = await lookup(
    ctx,
    batch.map((u) => u.localId),
  );
  const withArchiveHash: Upload[] = [];
  const withTargetHash: Upload[] = [];
  for (const record of batch) {
    const user = toApiUser(record, archived);
    const current = existing.get(user.localId);
    if (!current) {
      withArchiveHash.push({ user, kind: 'created' });
    } else if (options.mode === 'create') {
      report.skipped++;
    } else if (options.mode === 'overwrite') {
      withArchiveHash.push({ user, kind: 'overwritten' });
    } else {
      const merged = mergeUser(current, user);
      // A merged user keeps the target's password when the archive has none for it:
      // that hash is in the target's configuration, so it goes in a request of its own.
      (user.passwordHash === undefined && current.passwordHash !== undefined
        ? withTargetHash
        : withArchiveHash
      ).push({ user: merged, kind: 'merged' });
    }
  }
  if (report.planned) {
    for (const u of [...withArchiveHash, ...withTargetHash])
      report.planned[u.kind === 'created' ? 'create' : 'overwrite']++;
    report.planned.skip = report.skipped;
    options.onProgress?.(batch.length);
    return;
  }
  await upload(ctx, withArchiveHash, archived);
  if (withTargetHash.length > 0) await upload(ctx, withTargetHash, await ctx.targetHashConfig());
  options.onProgress?.(batch.length);
}

async function upload(ctx: BatchContext, uploads: Upload[], hash: AuthHashConfig): Promise<void> {
  if (uploads.length === 0) return;
  const { report } = ctx;
  const res = await ctx.conn.request<{ error?: Array<{ index: number; message?: string }> }>(
    'POST',
    `${accountsPath(ctx.conn, ctx.options.hashConfig.tenantId)}/accounts:batchCreate`,
    {
      users: uploads.map((u) => u.user),
      // Create mode must never replace a user created since the lookup.
      allowOverwrite: ctx.options.mode !== 'create',
      ...importHashFields(hash, uploads),
    },
    ctx.options.signal,
  );
  const failedAt = new Map((res.error ?? []).map((e) => [e.index, e.message ?? 'refused']));
  uploads.forEach((u, index) => {
    const message = failedAt.get(index);
    if (message === undefined) {
      report[u.kind]++;
      return;
    }
    noteFailure(report, {
      uid: u.user.localId,
      code: /exist/i.test(message) ? 'ALREADY_EXISTS' : 'INVALID_ARGUMENT',
      message: `Firebase Auth refused user ${u.user.localId}: ${message}`,
    });
  });
}

/** The request-level hash fields of batchCreate, from a `signIn.hashConfig`. */
function importHashFields(hash: AuthHashConfig, uploads: Upload[]): Record<string, unknown> {
  if (!uploads.some((u) => u.user.passwordHash !== undefined)) return {};
  const { algorithm, ...params } = hash;
  return { hashAlgorithm: algorithm, ...params };
}

/**
 * The archived user over the existing one: the archive's fields win; custom claims merge
 * key by key and provider links by provider id (the archive's win).
 */
export function mergeUser(current: ApiUserInfo, archived: ApiUserInfo): ApiUserInfo {
  const merged: ApiUserInfo = { ...current, ...archived };
  const claims = (u: ApiUserInfo): Record<string, unknown> =>
    typeof u.customAttributes === 'string' && u.customAttributes
      ? (JSON.parse(u.customAttributes) as Record<string, unknown>)
      : {};
  if (current.customAttributes !== undefined && archived.customAttributes !== undefined) {
    merged.customAttributes = JSON.stringify({ ...claims(current), ...claims(archived) });
  }
  const providers = (u: ApiUserInfo): Array<{ providerId?: string }> =>
    Array.isArray(u.providerUserInfo) ? (u.providerUserInfo as Array<{ providerId?: string }>) : [];
  if (providers(current).length > 0 && providers(archived).length > 0) {
    const byId = new Map(providers(current).map((p) => [p.providerId, p]));
    for (const p of providers(archived)) byId.set(p.providerId, p);
    merged.providerUserInfo = [...byId.values()];
  }
  return merged;
}
