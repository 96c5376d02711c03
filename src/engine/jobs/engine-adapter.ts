import type { BackupSummary } from '../../shared/backups.js';
import type { BackupScope } from '../../shared/schedules.js';
import type { BackupFacts } from '../catalog/backups.js';
import type { DestinationRecord, ProjectRecord } from '../catalog/projects.js';
import type { Keyring } from '../keys/keyring.js';
import { archiveKeyOf, createdAtOf, manifestKeyOf } from '../operations/backup-names.js';
import { runBackup } from '../operations/backup.js';
import type { OtherSourcesOptions } from '../operations/backup-sources.js';
import { checkDestination } from '../operations/check.js';
import { deleteBackup } from '../operations/delete.js';
import { listBackups } from '../operations/list.js';
import { restoreToDir } from '../operations/restore.js';
import { restoreToProject, type RestoreToProjectReport } from '../operations/restore-project.js';
import { resolveBackup } from '../operations/resolve-backup.js';
import { readSchedulesObject } from '../operations/schedules-object.js';
import { verifyBackup } from '../operations/verify.js';
import type { OpenFirestoreOptions } from '../sources/firestore/connection.js';
import type { StorageBackend } from '../storage/backend.js';
import { openDestination } from '../storage/index.js';
import type { EngineOps, RestoreOutcome } from './types.js';

/**
 * The job layer's EngineOps over the real operations (src/engine/operations). Kept
 * apart from the jobs themselves so those stay testable with fakes.
 */

export interface RealEngineOptions {
  keyring: Keyring;
  /** Opens a destination record; default: the storage registry with its non-secret options. */
  open?: (destination: DestinationRecord) => Promise<StorageBackend>;
}

export function sourceOf(project: ProjectRecord): OpenFirestoreOptions {
  return {
    projectId: project.firebaseProjectId,
    databaseId: project.databaseId,
    ...(project.emulatorHost ? { emulatorHost: project.emulatorHost } : {}),
    ...(project.credentialsPath ? { credentialsFile: project.credentialsPath } : {}),
  };
}

/**
 * Auth, RTDB and Storage for a scheduled backup: the project's credentials and the
 * scope's RTDB instances and paths, buckets and prefix; for an emulator project, the
 * emulators of the daemon's environment (FIREBASE_AUTH_EMULATOR_HOST,
 * FIREBASE_DATABASE_EMULATOR_HOST, FIREBASE_STORAGE_EMULATOR_HOST).
 */
export function otherSourcesOf(
  project: ProjectRecord,
  scope: BackupScope,
  env: NodeJS.ProcessEnv = process.env,
): OtherSourcesOptions {
  if (!scope.sources) return {};
  const reach = sourceConnections(sourceOf(project), env);
  return {
    sources: scope.sources,
    auth: reach.auth,
    storage: {
      ...reach.storage,
      ...(scope.buckets ? { buckets: scope.buckets } : {}),
      ...(scope.storagePrefix ? { prefix: scope.storagePrefix } : {}),
    },
    // Absent instances: every instance of the project; absent paths: whole trees.
    rtdb: {
      ...reach.rtdb,
      ...(scope.rtdbInstances ? { instances: scope.rtdbInstances } : {}),
      ...(scope.rtdbPaths ? { paths: scope.rtdbPaths } : {}),
    },
  };
}

/**
 * How Auth, RTDB and Storage of the project whose Firestore is `firestore` are reached:
 * with its credentials, or, for an emulator, the emulators of the daemon's environment
 * (absent ones are left out: see missingEmulators).
 */
export function sourceConnections(
  firestore: OpenFirestoreOptions,
  env: NodeJS.ProcessEnv = process.env,
): Record<
  'auth' | 'storage' | 'rtdb',
  { projectId: string; emulatorHost?: string; credentialsFile?: string }
> {
  const credentials = firestore.credentialsFile
    ? { credentialsFile: firestore.credentialsFile }
    : {};
  const via = (emulatorHost: string | undefined) =>
    firestore.emulatorHost ? (emulatorHost ? { emulatorHost } : {}) : credentials;
  const projectId = firestore.projectId;
  return {
    auth: { projectId, ...via(env.FIREBASE_AUTH_EMULATOR_HOST) },
    storage: { projectId, ...via(env.FIREBASE_STORAGE_EMULATOR_HOST) },
    rtdb: { projectId, ...via(env.FIREBASE_DATABASE_EMULATOR_HOST) },
  };
}

/** The environment variable that names each source's emulator. */
export const EMULATOR_SETTINGS = {
  auth: 'FIREBASE_AUTH_EMULATOR_HOST',
  storage: 'FIREBASE_STORAGE_EMULATOR_HOST',
  rtdb: 'FIREBASE_DATABASE_EMULATOR_HOST',
} as const;

/** A restore job's counts: Firestore's as before, the other sources' under their names. */
function restoreCounts(report: RestoreToProjectReport): Record<string, number> {
  const counts: Record<string, number> = {};
  const f = report.firestore;
  if (f) {
    Object.assign(counts, {
      created: f.created,
      overwritten: f.overwritten,
      merged: f.merged,
      skipped: f.skipped,
      deleted: f.deleted,
      failed: f.failedCount,
    });
  }
  for (const source of ['auth', 'rtdb', 'storage'] as const) {
    const r = report[source];
    if (!r) continue;
    counts[`${source}.created`] = r.created;
    counts[`${source}.overwritten`] = r.overwritten;
    if (source === 'auth') counts['auth.merged'] = report.auth!.merged;
    counts[`${source}.skipped`] = r.skipped;
    counts[`${source}.failed`] = r.failedCount;
  }
  return counts;
}

export function factsOf(destinationId: string, s: BackupSummary): BackupFacts {
  return {
    destinationId,
    id: s.id,
    // Unknown when the key is not held: such backups match no project, so retention
    // (which works per project) never deletes what it cannot read.
    firebaseProjectId: s.project ?? null,
    databaseId: s.database ?? null,
    scheduleId: s.scheduleId ?? null,
    selection: s.selection ?? null,
    createdAt: s.createdAt,
    archiveKey: archiveKeyOf(s.id),
    manifestKey: manifestKeyOf(s.id),
    counts: s.documents === undefined ? null : { 'firestore.documents': s.documents },
    bytes: s.size,
  };
}

export function createEngineOps(options: RealEngineOptions): EngineOps {
  const open = options.open ?? ((d: DestinationRecord) => openDestination(d.url, d.options));
  const { keyring } = options;
  return {
    async backup(req, ctx) {
      const destination = await open(req.destination);
      const r = await runBackup(
        {
          destination,
          keyring,
          source: sourceOf(req.project),
          ...(req.scope.collections ? { collections: req.scope.collections } : {}),
          ...(req.scope.exclude ? { exclude: req.scope.exclude } : {}),
          ...(req.scheduleId ? { scheduleId: req.scheduleId } : {}),
          ...(req.allowEmpty ? { allowEmpty: true } : {}),
          ...otherSourcesOf(req.project, req.scope),
        },
        ctx,
      );
      return {
        backupId: r.id,
        createdAt: createdAtOf(r.id),
        archiveKey: r.archiveKey,
        manifestKey: r.manifestKey,
        counts: { 'firestore.documents': r.documents, ...r.counts },
        bytes: r.archiveBytes,
        databaseId: r.database,
        selection: r.selection,
        warnings: r.warnings,
        keyId: r.keyId,
        sources: r.sources,
        ...(r.crossChecks ? { crossChecks: r.crossChecks } : {}),
      };
    },

    async verify(req, ctx) {
      // A sample is a share of backups checked in full; the others get the digest
      // check (the stored bytes are exactly those written), which needs no decryption.
      const destination = await open(req.destination);
      const depth = req.sample >= 1 || Math.random() < req.sample ? 'full' : 'digest';
      const report = await verifyBackup(
        await resolveBackup(req.backupId, destination),
        keyring,
        ctx,
        { depth },
      );
      return {
        ok: report.ok,
        ...(report.error ? { problem: report.error.message } : {}),
        detail: {
          depth: report.depth,
          documents: report.documents,
          segments: report.segments,
          archiveBytes: report.archiveBytes,
        },
      };
    },

    async deleteBackup(d, backupId) {
      await deleteBackup(await open(d), backupId);
    },

    async restore(request, ctx): Promise<RestoreOutcome> {
      if (request.target === 'dir') {
        const report = await restoreToDir(request, ctx);
        return { counts: { 'firestore.documents': report.documents }, detail: { ...report } };
      }
      const report = await restoreToProject(request, ctx);
      return { counts: restoreCounts(report), detail: { ...report.firestore, ...report } };
    },

    async readSchedules(d) {
      return readSchedulesObject(await open(d), keyring);
    },

    async check(req, ctx) {
      return checkDestination(await open(req.destination), keyring, ctx, {
        readData: req.readData,
        repair: req.repair,
        ...(req.catalogIds ? { catalogIds: req.catalogIds } : {}),
      });
    },

    async list(d) {
      const destination = await open(d);
      return (await listBackups(destination, keyring)).map((s) => factsOf(d.id, s));
    },
  };
}
