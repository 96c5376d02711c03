/**
 * Can the credentials read a source? One cheap read per source (Auth: its hash
 * configuration and one user; Storage: the bucket and one object), used twice:
 * - without `--sources`, to include every readable source and say why the others were
 *   left out (chooseSources);
 * - with explicit sources, before anything is read or written, so a source the
 *   credentials cannot read fails the backup at once instead of after every document
 *   (preflightSources).
 * Each source other than Firestore registers its probe in SOURCE_PROBES; a new source
 * (the Realtime Database) adds one entry and is then probed everywhere.
 */
import { AppError, isAppError, type ErrorCode } from '../../shared/errors.js';
import { openAuth, type OpenAuthOptions } from '../sources/auth/connection.js';
import { readHashConfig, type HashConfigSource } from '../sources/auth/export.js';
import type { OpenFirestoreOptions } from '../sources/firestore/connection.js';
import { openRtdb } from '../sources/rtdb/connection.js';
import { openStorageSource, type OpenStorageSourceOptions } from '../sources/storage/connection.js';
import { gcsError } from '../storage/gcs/errors.js';
import {
  rtdbSelection,
  storageSelection,
  type OtherSourcesOptions,
  type StorageSelection,
} from './backup-sources.js';
import { SOURCE_NAMES, type SourceName } from './source-records.js';

export interface ProbeRequest {
  projectId: string;
  /** Emulators are in use: a source is readable only through its own emulator. */
  emulator: boolean;
  auth?: OpenAuthOptions & { hashConfigSource?: HashConfigSource };
  storage?: OpenStorageSourceOptions & Partial<StorageSelection>;
  rtdb?: OtherSourcesOptions['rtdb'];
}

/** The probe request of a backup's options (emulators in use when any source names one). */
export function probeRequestOf(options: {
  source: OpenFirestoreOptions;
  auth?: ProbeRequest['auth'];
  storage?: ProbeRequest['storage'];
  rtdb?: ProbeRequest['rtdb'];
}): ProbeRequest {
  const { source, auth, storage, rtdb } = options;
  return {
    projectId: source.projectId,
    emulator: Boolean(
      source.emulatorHost || auth?.emulatorHost || storage?.emulatorHost || rtdb?.emulatorHost,
    ),
    ...(auth ? { auth } : {}),
    ...(storage ? { storage } : {}),
    ...(rtdb ? { rtdb } : {}),
  };
}

export interface SourceProbe {
  /** What to set when emulators are in use but this source's is not given. */
  emulatorSetting: string;
  /** This source's emulator host, when given. */
  emulatorHost(request: ProbeRequest): string | undefined;
  /** Resolves when the source can be read; throws (an AppError) why not. */
  probe(request: ProbeRequest): Promise<void>;
}

async function probeAuth(request: ProbeRequest): Promise<void> {
  const { hashConfigSource, ...connect } = request.auth ?? { projectId: request.projectId };
  const conn = openAuth(connect);
  await (hashConfigSource ?? readHashConfig)(conn);
  await conn.request('GET', `/v1/projects/${conn.projectId}/accounts:batchGet?maxResults=1`);
}

async function probeStorage(request: ProbeRequest): Promise<void> {
  const options = request.storage ?? {};
  const selection = await storageSelection(request.projectId, options);
  const source = openStorageSource(options);
  for (const bucket of selection.buckets) {
    try {
      // A listing answers 404 for a missing bucket (the emulator has no bucket metadata).
      await source.bucket(bucket).getFiles({ maxResults: 1, autoPaginate: false });
    } catch (error) {
      throw gcsError(error, `Cannot list gs://${bucket}`, []);
    }
  }
}

async function probeRtdb(request: ProbeRequest): Promise<void> {
  // One quick read per instance: an unreachable database must not hold the backup for a minute.
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
}

/** The probes of the sources besides Firestore (which is always included and probed by its own reads). */
export const SOURCE_PROBES: Partial<Record<SourceName, SourceProbe>> = {
  auth: {
    emulatorSetting: '--auth-emulator or FIREBASE_AUTH_EMULATOR_HOST',
    emulatorHost: (r) => r.auth?.emulatorHost,
    probe: probeAuth,
  },
  storage: {
    emulatorSetting: '--storage-emulator or FIREBASE_STORAGE_EMULATOR_HOST',
    emulatorHost: (r) => r.storage?.emulatorHost,
    probe: probeStorage,
  },
  rtdb: {
    emulatorSetting: '--rtdb-emulator or FIREBASE_DATABASE_EMULATOR_HOST',
    emulatorHost: (r) => r.rtdb?.emulatorHost,
    probe: probeRtdb,
  },
};

/** Why a probe failed, in the words a user needs: the kind of problem first, then the detail. */
export function probeFailureReason(error: unknown): { code: ErrorCode; reason: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code: ErrorCode = isAppError(error) ? error.code : 'UNAVAILABLE';
  const kind =
    /has not been used|is disabled|SERVICE_DISABLED|API .*not enabled|accessNotConfigured/i.test(
      message,
    )
      ? 'API not enabled'
      : code === 'PERMISSION_DENIED' || code === 'UNAUTHENTICATED'
        ? 'permission denied'
        : code === 'NOT_FOUND'
          ? 'not found'
          : code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED'
            ? 'not reachable'
            : 'cannot be read';
  return { code, reason: `${kind}: ${message}` };
}

/** Probes one source; the reason it cannot be read, or undefined when it can. */
async function unreadable(
  source: SourceName,
  request: ProbeRequest,
): Promise<{ code: ErrorCode; reason: string } | undefined> {
  const probe = SOURCE_PROBES[source];
  if (!probe) return undefined;
  if (request.emulator && !probe.emulatorHost(request)) {
    return {
      code: 'INVALID_ARGUMENT',
      reason: `emulator host not set: other emulators are in use but none for ${source} (${probe.emulatorSetting})`,
    };
  }
  try {
    await probe.probe(request);
    return undefined;
  } catch (error) {
    return probeFailureReason(error);
  }
}

export interface SourceChoice {
  sources: SourceName[];
  /** Sources left out of a default selection, and why. */
  skipped: Array<{ source: SourceName; reason: string }>;
}

/**
 * The default selection: every source the connection can read. Firestore is always
 * included (it is the primary source; its own errors stay as they are); every other
 * registered source is probed and left out, with the reason, when it cannot be read.
 */
export async function chooseSources(request: ProbeRequest): Promise<SourceChoice> {
  const readable = new Set<SourceName>(['firestore']);
  const skipped: SourceChoice['skipped'] = [];
  for (const source of Object.keys(SOURCE_PROBES) as SourceName[]) {
    const problem = await unreadable(source, request);
    if (problem) skipped.push({ source, reason: problem.reason });
    else readable.add(source);
  }
  // In archive order, as --sources gives them.
  return { sources: SOURCE_NAMES.filter((s) => readable.has(s)), skipped };
}

/**
 * Explicitly chosen sources must all be readable: the first that is not fails the backup
 * before anything is read or written, naming the source and why.
 */
export async function preflightSources(
  sources: readonly SourceName[],
  request: ProbeRequest,
): Promise<void> {
  for (const source of sources) {
    const problem = await unreadable(source, request);
    if (problem) {
      throw new AppError(
        problem.code,
        `Preflight: the ${source} source cannot be read (${problem.reason}). Nothing was read or written; fix its access, or leave it out of --sources.`,
      );
    }
  }
}
