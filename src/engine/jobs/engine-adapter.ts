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
import { restoreToDir, restoreToFirestore } from '../operations/restore.js';
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
  const credentials = project.credentialsPath ? { credentialsFile: project.credentialsPath } : {};
  const via = (emulatorHost: string | undefined): object =>
    project.emulatorHost ? (emulatorHost ? { emulatorHost } : {}) : credentials;
  return {
    sources: scope.sources,
    auth: { projectId: project.firebaseProjectId, ...via(env.FIREBASE_AUTH_EMULATOR_HOST) },
    storage: {
      projectId: project.firebaseProjectId,
      ...via(env.FIREBASE_STORAGE_EMULATOR_HOST),
      ...(scope.buckets ? { buckets: scope.buckets } : {}),
      ...(scope.storagePrefix ? { prefix: scope.storagePrefix } : {}),
    },
    // Absent instances: every instance of the project; absent paths: whole trees.
    rtdb: {
      projectId: project.firebaseProjectId,
      ...via(env.FIREBASE_DATABASE_EMULATOR_HOST),
      ...(scope.rtdbInstances ? { instances: scope.rtdbInstances } : {}),
      ...(scope.rtdbPaths ? { paths: scope.rtdbPaths } : {}),
    },
  };
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
      const report = await restoreToFirestore(request, ctx);
      return {
        counts: {
          created: report.created,
          overwritten: report.overwritten,
          merged: report.merged,
          skipped: report.skipped,
          deleted: report.deleted,
          failed: report.failedCount,
        },
        detail: { ...report },
      };
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
