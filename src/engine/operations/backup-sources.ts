/**
 * The sources of a backup besides Firestore: which ones a run includes (asked for, or
 * found readable), and writing their sections into the archive after the documents.
 * Any failure of a source fails the whole backup (runBackup discards the archive), so
 * no backup ever silently lacks a source it claims.
 */
import { AppError } from '../../shared/errors.js';
import type { ArchiveWriter } from '../archive/writer.js';
import { openAuth, type OpenAuthOptions } from '../sources/auth/connection.js';
import type { HashConfigSource } from '../sources/auth/export.js';
import { openRtdb, type OpenRtdbOptions } from '../sources/rtdb/connection.js';
import { exportTreeInWorker } from '../sources/rtdb/worker-export.js';
import { normalisePaths } from '../sources/rtdb/records.js';
import { openStorageSource, type OpenStorageSourceOptions } from '../sources/storage/connection.js';
import { exportObjects } from '../sources/storage/export.js';
import type { CrossChecks } from './cross-checks.js';
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
  rtdb?: Omit<OpenRtdbOptions, 'projectId'> & {
    projectId?: string;
    paths?: string[];
    /** The reader worker's heap limit, MB (default RTDB_READER_HEAP_MB). */
    readerHeapMb?: number;
  };
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

/** Writes the Auth, RTDB and Storage sections the options ask for, in archive order. */
export async function writeOtherSources(
  writer: ArchiveWriter,
  projectId: string,
  options: OtherSourcesOptions,
  selection: StorageSelection | undefined,
  ctx: { signal?: AbortSignal; meter?: ProgressMeter; checks?: CrossChecks },
  rtdb?: RtdbSelection,
): Promise<void> {
  const sources = options.sources ?? ['firestore'];
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  if (sources.includes('auth')) {
    ctx.meter?.startPhase('reading Auth users', undefined, 'users');
    const { hashConfigSource, ...connect } = options.auth ?? { projectId };
    await writeAuthRecords(writer, openAuth({ ...connect, projectId: connect.projectId }), {
      ...(hashConfigSource ? { hashConfigSource } : {}),
      ...signal,
      onUser: (bytes, user) => {
        ctx.meter?.add(1, bytes);
        ctx.checks?.noteUser(user.localId);
      },
    });
  }
  if (sources.includes('rtdb') && rtdb) {
    ctx.meter?.startPhase('reading the Realtime Database', undefined, 'records');
    // Each instance is read in a worker thread of its own with a small heap (ADR 0014).
    const { paths: _chosen, readerHeapMb, ...connect } = options.rtdb ?? {};
    for (const name of rtdb.instances) {
      const tree = exportTreeInWorker(
        { ...connect, projectId: connect.projectId ?? projectId },
        name,
        {
          paths: rtdb.paths,
          ...(readerHeapMb ? { heapMb: readerHeapMb } : {}),
          ...signal,
        },
      );
      await writeRtdbRecords(writer, tree, (bytes) => ctx.meter?.add(1, bytes));
    }
  }
  if (sources.includes('storage') && selection) {
    ctx.meter?.startPhase('reading Storage objects', undefined, 'objects');
    const storage = openStorageSource(options.storage ?? {});
    for (const bucket of selection.buckets) {
      await writeStorageRecords(
        writer,
        exportObjects(storage.bucket(bucket), {
          ...(selection.prefix ? { prefix: selection.prefix } : {}),
          ...signal,
        }),
        {
          onObject: (record) => {
            ctx.meter?.add(1, 0);
            ctx.checks?.noteObject(record.bucket, record.name);
          },
          onContent: (bytes) => ctx.meter?.add(0, bytes),
        },
      );
    }
  }
}
