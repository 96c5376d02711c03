/**
 * The sources of a backup besides Firestore: which ones a run includes (asked for, or
 * found readable), and writing their sections into the archive after the documents.
 * Any failure of a source fails the whole backup (runBackup discards the archive), so
 * no backup ever silently lacks a source it claims.
 */
import { AppError, isAppError } from '../../shared/errors.js';
import type { ArchiveWriter } from '../archive/writer.js';
import { openAuth, type OpenAuthOptions } from '../sources/auth/connection.js';
import { readHashConfig, type HashConfigSource } from '../sources/auth/export.js';
import { openRtdb, type OpenRtdbOptions } from '../sources/rtdb/connection.js';
import { exportTree } from '../sources/rtdb/export.js';
import { normalisePaths } from '../sources/rtdb/records.js';
import { openStorageSource, type OpenStorageSourceOptions } from '../sources/storage/connection.js';
import { exportObjects } from '../sources/storage/export.js';
import type { ProgressMeter } from './progress-meter.js';
import {
  writeAuthRecords,
  writeRtdbRecords,
  writeStorageRecords,
  type SourceName,
} from './source-records.js';

export interface StorageSelection {
  /** Bucket names; default: the project's default bucket. */
  buckets: string[];
  /** Only objects whose name starts with this. */
  prefix: string;
}

export interface OtherSourcesOptions {
  /** Which sources the backup holds, in archive order. Default: firestore only. */
  sources?: SourceName[];
  auth?: OpenAuthOptions & { hashConfigSource?: HashConfigSource };
  storage?: OpenStorageSourceOptions & Partial<StorageSelection>;
  rtdb?: Omit<OpenRtdbOptions, 'projectId'> & { projectId?: string; paths?: string[] };
}

export interface RtdbSelection {
  /** Instance names, in archive order. */
  instances: string[];
  /** Normalised paths; empty: whole trees. */
  paths: string[];
}

/** The Realtime Database instances (given, or every one of the project) and paths to read. */
export async function rtdbSelection(
  projectId: string,
  options: NonNullable<OtherSourcesOptions['rtdb']>,
): Promise<RtdbSelection> {
  const paths = normalisePaths(options.paths ?? []);
  const conn = await openRtdb({ ...options, projectId: options.projectId ?? projectId });
  try {
    return { instances: [...(await conn.listInstances())].sort(), paths };
  } finally {
    await conn.close();
  }
}

/** The buckets a project's files live in by default, newest naming first. */
export function defaultBuckets(projectId: string): string[] {
  return [`${projectId}.firebasestorage.app`, `${projectId}.appspot.com`];
}

/** Resolves the Storage selection: the given buckets, or the project's default one that exists. */
export async function storageSelection(
  projectId: string,
  options: OpenStorageSourceOptions & Partial<StorageSelection>,
): Promise<StorageSelection> {
  const prefix = options.prefix ?? '';
  if (options.buckets?.length) return { buckets: options.buckets, prefix };
  const source = openStorageSource(options);
  for (const name of defaultBuckets(projectId)) {
    try {
      const [exists] = await source.bucket(name).exists();
      if (exists) return { buckets: [name], prefix };
    } catch {
      // try the other naming
    }
  }
  // The emulator answers any bucket: take the current default naming there.
  if (source.emulator) return { buckets: [defaultBuckets(projectId)[0]!], prefix };
  throw new AppError(
    'NOT_FOUND',
    `No default Storage bucket found for ${projectId} (${defaultBuckets(projectId).join(' or ')}). Name the buckets with --buckets.`,
  );
}

export interface SourceChoice {
  sources: SourceName[];
  /** Sources left out of a default selection, and why. */
  skipped: Array<{ source: SourceName; reason: string }>;
}

/**
 * The default selection: every source the connection can read. Firestore is always
 * included (it is the primary source; its own errors stay as they are); Auth and Storage
 * are tried with one cheap read each and left out, with the reason, when refused or
 * not configured (against emulators: when no emulator host is given for them).
 */
export async function chooseSources(request: {
  projectId: string;
  emulator: boolean;
  auth?: OpenAuthOptions;
  storage?: OpenStorageSourceOptions & Partial<StorageSelection>;
  rtdb?: OtherSourcesOptions['rtdb'];
}): Promise<SourceChoice> {
  const sources: SourceName[] = ['firestore'];
  const skipped: SourceChoice['skipped'] = [];
  const why = (error: unknown): string =>
    isAppError(error) ? error.message : error instanceof Error ? error.message : String(error);

  if (request.emulator && !request.auth?.emulatorHost) {
    skipped.push({
      source: 'auth',
      reason: 'no Auth emulator given (--auth-emulator or FIREBASE_AUTH_EMULATOR_HOST)',
    });
  } else {
    try {
      const conn = openAuth(request.auth ?? { projectId: request.projectId });
      await readHashConfig(conn);
      await conn.request('GET', `/v1/projects/${conn.projectId}/accounts:batchGet?maxResults=1`);
      sources.push('auth');
    } catch (error) {
      skipped.push({ source: 'auth', reason: why(error) });
    }
  }

  if (request.emulator && !request.rtdb?.emulatorHost) {
    skipped.push({
      source: 'rtdb',
      reason:
        'no Realtime Database emulator given (--rtdb-emulator or FIREBASE_DATABASE_EMULATOR_HOST)',
    });
  } else {
    try {
      // One quick read each: an unreachable database must not hold the backup for a minute.
      const quick = { ...request.rtdb, requestTimeoutMs: request.rtdb?.requestTimeoutMs ?? 15_000 };
      const selection = await rtdbSelection(request.projectId, quick);
      if (selection.instances.length === 0) {
        throw new AppError('NOT_FOUND', 'the project has no Realtime Database instance');
      }
      const conn = await openRtdb({ ...quick, projectId: request.projectId });
      try {
        for (const name of selection.instances) {
          await (await conn.instance(name)).window('/', undefined, 1);
        }
      } finally {
        await conn.close();
      }
      sources.push('rtdb');
    } catch (error) {
      skipped.push({ source: 'rtdb', reason: why(error) });
    }
  }

  if (request.emulator && !request.storage?.emulatorHost) {
    skipped.push({
      source: 'storage',
      reason: 'no Storage emulator given (--storage-emulator or FIREBASE_STORAGE_EMULATOR_HOST)',
    });
  } else {
    try {
      const options = request.storage ?? {};
      const selection = await storageSelection(request.projectId, options);
      const source = openStorageSource(options);
      for (const bucket of selection.buckets) {
        await source.bucket(bucket).getFiles({ maxResults: 1, autoPaginate: false });
      }
      sources.push('storage');
    } catch (error) {
      skipped.push({ source: 'storage', reason: why(error) });
    }
  }
  return { sources, skipped };
}

/** Writes the Auth, RTDB and Storage sections the options ask for, in archive order. */
export async function writeOtherSources(
  writer: ArchiveWriter,
  projectId: string,
  options: OtherSourcesOptions,
  selection: StorageSelection | undefined,
  ctx: { signal?: AbortSignal; meter?: ProgressMeter },
  rtdb?: RtdbSelection,
): Promise<void> {
  const sources = options.sources ?? ['firestore'];
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  if (sources.includes('auth')) {
    ctx.meter?.startPhase('reading Auth users');
    const { hashConfigSource, ...connect } = options.auth ?? { projectId };
    await writeAuthRecords(writer, openAuth({ ...connect, projectId: connect.projectId }), {
      ...(hashConfigSource ? { hashConfigSource } : {}),
      ...signal,
      onUser: (bytes) => ctx.meter?.add(1, bytes),
    });
  }
  if (sources.includes('rtdb') && rtdb) {
    ctx.meter?.startPhase('reading the Realtime Database');
    const conn = await openRtdb({
      ...options.rtdb,
      projectId: options.rtdb?.projectId ?? projectId,
    });
    try {
      for (const name of rtdb.instances) {
        const tree = exportTree(await conn.instance(name), { paths: rtdb.paths, ...signal });
        await writeRtdbRecords(writer, tree, (bytes) => ctx.meter?.add(1, bytes));
      }
    } finally {
      await conn.close();
    }
  }
  if (sources.includes('storage') && selection) {
    ctx.meter?.startPhase('reading Storage objects');
    const storage = openStorageSource(options.storage ?? {});
    for (const bucket of selection.buckets) {
      await writeStorageRecords(
        writer,
        exportObjects(storage.bucket(bucket), {
          ...(selection.prefix ? { prefix: selection.prefix } : {}),
          ...signal,
        }),
        {
          onObject: () => ctx.meter?.add(1, 0),
          onContent: (bytes) => ctx.meter?.add(0, bytes),
        },
      );
    }
  }
}
