/**
 * Restore of the Auth and Storage sections of a backup into a project and bucket(s),
 * from an archive pass that follows a complete verification (restore.ts: verifyFirst):
 * one authenticated stream feeds each chosen source's restore in archive order; the
 * others are read and skipped.
 */
import { AppError } from '../../shared/errors.js';
import { openAuth, type OpenAuthOptions } from '../sources/auth/connection.js';
import {
  restoreUsers,
  type AuthRestoreMode,
  type AuthRestoreReport,
} from '../sources/auth/restore.js';
import { openRtdb, defaultInstance, type OpenRtdbOptions } from '../sources/rtdb/connection.js';
import { isInstanceRecord, normalisePaths, type RtdbRecord } from '../sources/rtdb/records.js';
import { restoreTree, type RtdbRestoreReport } from '../sources/rtdb/restore.js';
import { openStorageSource, type OpenStorageSourceOptions } from '../sources/storage/connection.js';
import type { StorageItem } from '../sources/storage/records.js';
import {
  restoreObjects,
  type StorageRestoreMode,
  type StorageRestoreReport,
} from '../sources/storage/restore.js';
import { addTally, emptyTally } from '../sources/restore-tally.js';
import { inTenant, TenantTargets } from '../sources/auth/tenants.js';
import type { ProgressMeter } from './progress-meter.js';
import {
  authScopes,
  rtdbRecords,
  sections,
  storageItems,
  type ScannedRecord,
  type SourceName,
} from './source-records.js';

export interface OtherSourcesTargets {
  /** Which of the backup's sources to restore (Firestore is restore.ts's own). */
  sources: SourceName[];
  auth?: OpenAuthOptions;
  storage?: OpenStorageSourceOptions & {
    /** Restore every object into this bucket instead of the bucket it came from. */
    bucket?: string;
  };
  /** Archived tenant id → target tenant id (--tenant-map); unmapped tenants keep their id. */
  tenantMap?: Record<string, string>;
  rtdb?: Omit<OpenRtdbOptions, 'projectId'> & {
    projectId?: string;
    /** Only these paths (and what is under them); default: whole trees. */
    paths?: string[];
    /** Restore every instance into this one instead of the instance of the same name. */
    instance?: string;
  };
  mode: AuthRestoreMode;
  dryRun?: boolean;
}

export interface OtherSourcesReport {
  auth?: AuthRestoreReport & {
    /** --tenant-map entries that named no tenant of the backup. */
    unusedTenantMappings?: string[];
  };
  rtdb?: RtdbRestoreReport & { instances: Array<{ from: string; to: string }> };
  storage?: StorageRestoreReport;
}

/** What each section's progress counts. */
const RESTORE_UNITS: Record<SourceName, string> = {
  firestore: 'docs',
  auth: 'users',
  rtdb: 'records',
  storage: 'objects',
};

const RESTORE_PHASES: Record<SourceName, string> = {
  firestore: 'restoring Firestore documents',
  auth: 'restoring Auth users',
  rtdb: 'restoring the Realtime Database',
  storage: 'restoring Storage files',
};

/** Storage has no merge: a merged object is an overwritten one. */
function storageMode(mode: AuthRestoreMode): StorageRestoreMode {
  return mode === 'create' ? 'create' : 'overwrite';
}

/** The records to restore, and the project they were backed up from (known after the first record). */
export interface RecordSource {
  project: () => string | undefined;
  records: () => AsyncGenerator<ScannedRecord>;
}

export async function restoreOtherSources(
  source: RecordSource,
  targets: OtherSourcesTargets,
  ctx: { signal?: AbortSignal; meter?: ProgressMeter },
): Promise<OtherSourcesReport> {
  const report: OtherSourcesReport = {};
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  let checked = false;
  for await (const section of sections(source.records())) {
    if (!checked) {
      // The header has been read with the first record, before anything is written.
      checked = true;
      checkStorageTarget(source.project(), targets);
    }
    if (!targets.sources.includes(section.source)) continue; // skipped by `sections`
    // One phase per source, so the progress says which one is being written.
    ctx.meter?.startPhase(RESTORE_PHASES[section.source], undefined, RESTORE_UNITS[section.source]);
    if (section.source === 'auth') {
      if (!targets.auth) throw new AppError('INVALID_ARGUMENT', 'No Auth target to restore into.');
      const conn = openAuth(targets.auth);
      const totals: AuthRestoreReport = { ...emptyTally(targets.dryRun), merged: 0 };
      const tenants = new TenantTargets(conn, targets.tenantMap);
      // The project's users, then each tenant's, each under its own hash configuration.
      for await (const scope of authScopes(section.records)) {
        const hashConfig = await tenants.target(scope.hashConfig, ctx.signal);
        const r = await restoreUsers(conn, inTenant(scope.users, hashConfig.tenantId), {
          mode: targets.mode,
          hashConfig,
          dryRun: targets.dryRun ?? false,
          ...signal,
          onProgress: (n) => ctx.meter?.add(n),
        });
        addTally(totals, r);
        totals.merged += r.merged;
      }
      const unused = tenants.unused();
      report.auth = { ...totals, ...(unused.length ? { unusedTenantMappings: unused } : {}) };
    } else if (section.source === 'rtdb') {
      report.rtdb = await restoreRtdb(rtdbRecords(section.records), source.project(), targets, ctx);
    } else if (section.source === 'storage') {
      const target = openStorageSource(targets.storage ?? {});
      const fixed = targets.storage?.bucket;
      const storage = storageItems(section.records);
      const totals: StorageRestoreReport = { ...emptyTally(targets.dryRun), bytes: 0 };
      // Objects go back to their own bucket unless one is named; one restore per bucket run.
      for await (const run of bucketRuns(storage)) {
        const r = await restoreObjects(target.bucket(fixed ?? run.bucket), run.items, {
          mode: storageMode(targets.mode),
          dryRun: targets.dryRun ?? false,
          resumable: target.resumable,
          preconditions: !target.emulator,
          ...signal,
          onProgress: (objects, bytes) => ctx.meter?.add(objects, bytes),
        });
        addTally(totals, r);
        totals.bytes += r.bytes;
      }
      report.storage = totals;
    }
  }
  return report;
}

/**
 * Each archived instance into its target: the instance named, else the one of the same
 * name, except that the source project's default instance goes to the target project's.
 */
async function restoreRtdb(
  records: AsyncIterable<RtdbRecord>,
  backupProject: string | undefined,
  targets: OtherSourcesTargets,
  ctx: { signal?: AbortSignal; meter?: ProgressMeter },
): Promise<NonNullable<OtherSourcesReport['rtdb']>> {
  const options = targets.rtdb ?? {};
  const projectId = options.projectId ?? targets.auth?.projectId ?? backupProject ?? '';
  const conn = await openRtdb({ ...options, projectId });
  const paths = normalisePaths(options.paths ?? []);
  const totals: NonNullable<OtherSourcesReport['rtdb']> = {
    ...emptyTally(targets.dryRun),
    nodes: 0,
    bytes: 0,
    skippedPaths: [],
    instances: [],
  };
  try {
    for await (const run of instanceRuns(records)) {
      const to =
        options.instance ??
        (backupProject && run.instance === defaultInstance(backupProject)
          ? defaultInstance(projectId)
          : run.instance);
      totals.instances.push({ from: run.instance, to });
      const r = await restoreTree(await conn.instance(to), run.records, {
        mode: targets.mode,
        dryRun: targets.dryRun ?? false,
        paths,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onProgress: (nodes, bytes) => ctx.meter?.add(nodes, bytes),
      });
      addTally(totals, r);
      totals.nodes += r.nodes;
      totals.bytes += r.bytes;
      totals.skippedPaths.push(
        ...r.skippedPaths.map((p) => (to === run.instance ? p : `${to}:${p}`)),
      );
    }
  } finally {
    await conn.close();
  }
  return totals;
}

/** Splits the RTDB records into one run per instance (each opened by its instance record). */
async function* instanceRuns(
  records: AsyncIterable<RtdbRecord>,
): AsyncGenerator<{ instance: string; records: AsyncGenerator<RtdbRecord> }> {
  const it = records[Symbol.asyncIterator]();
  let next = await it.next();
  while (!next.done) {
    const opening = next.value;
    if (!isInstanceRecord(opening)) {
      throw new AppError(
        'ARCHIVE_CORRUPT',
        'Realtime Database nodes without their instance record.',
      );
    }
    next = await it.next();
    const run = (async function* () {
      while (!next.done && !isInstanceRecord(next.value)) {
        const value = next.value;
        next = await it.next();
        yield value;
      }
    })();
    yield { instance: opening.instance, records: run };
    while (!next.done && !isInstanceRecord(next.value)) next = await it.next();
  }
}

/**
 * Objects go back to the buckets they came from only when restoring into the same
 * project: into another one, the archived buckets belong to the source project, so a
 * target bucket must be named.
 */
function checkStorageTarget(backupProject: string | undefined, targets: OtherSourcesTargets): void {
  if (!targets.sources.includes('storage') || targets.storage?.bucket) return;
  const project = targets.storage?.projectId ?? targets.auth?.projectId;
  if (backupProject !== undefined && project !== undefined && project !== backupProject) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The backup's Storage objects come from buckets of ${backupProject}; restoring into ${project}, name the bucket to write them to with --to-bucket <name>.`,
    );
  }
}

/** Splits the Storage items into runs of consecutive objects of one bucket. */
async function* bucketRuns(items: AsyncIterable<StorageItem>): AsyncGenerator<{
  bucket: string;
  items: AsyncGenerator<StorageItem>;
}> {
  const it = items[Symbol.asyncIterator]();
  let next = await it.next();
  while (!next.done) {
    if (next.value.kind !== 'object') {
      throw new AppError('ARCHIVE_CORRUPT', 'Storage content without its object record.');
    }
    const bucket = next.value.record.bucket;
    const run = (async function* () {
      while (!next.done && (next.value.kind === 'content' || next.value.record.bucket === bucket)) {
        const value = next.value;
        next = await it.next();
        yield value;
      }
    })();
    yield { bucket, items: run };
    // What the run's restore left unread is skipped.
    while (!next.done && (next.value.kind === 'content' || next.value.record.bucket === bucket)) {
      next = await it.next();
    }
  }
}
