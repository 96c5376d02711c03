import type { CrossCheckReport } from '../operations/cross-checks.js';
import type { BackupSelection } from '../../shared/backups.js';
import type { CheckReport } from '../../shared/check.js';
import type { BackupScope } from '../../shared/schedules.js';
import type { BackupFacts } from '../catalog/backups.js';
import type { DestinationRecord, ProjectRecord } from '../catalog/projects.js';
import type { RestoreToDirOptions } from '../operations/restore.js';
import type { RestoreToProjectOptions } from '../operations/restore-project.js';
import type { OperationContext } from '../operations/types.js';

/**
 * What jobs need from the engine's operations, as small function types: the real ones
 * (src/engine/operations) are adapted in engine-adapter.ts, tests pass fakes.
 */

export interface BackupRequest {
  project: ProjectRecord;
  destination: DestinationRecord;
  scope: BackupScope;
  /** The schedule making it (recorded in the manifest); absent for a manual backup. */
  scheduleId?: string;
  /** An empty backup is expected. */
  allowEmpty?: boolean;
}

export interface BackupOutcome {
  backupId: string;
  /** ISO time the backup was taken. */
  createdAt: string;
  archiveKey: string;
  manifestKey: string | null;
  counts: Record<string, number>;
  bytes: number;
  /** The backup's scope as its manifest records it (defaults: the request's). */
  databaseId?: string;
  selection?: BackupSelection;
  /** Warnings for the user (an unexpected empty backup). */
  warnings?: string[];
  /** The id of the key that sealed it and the sources it holds (reported in sync mode). */
  keyId?: string;
  sources?: string[];
  /** Cross-checks between the backup's sources (reported in the run's detail). */
  crossChecks?: CrossCheckReport;
}

export interface VerifyRequest {
  destination: DestinationRecord;
  backupId: string;
  /** Fraction of records to check (1 = every byte and record). */
  sample: number;
}

export interface VerifyOutcome {
  ok: boolean;
  /** What failed, for the record and the notification. */
  problem?: string;
  detail?: Record<string, unknown>;
}

/**
 * Into a project (`target` is its Firestore; `sources` and `others` say which other
 * sources go where) or into a folder (`target: 'dir'`).
 * (It was `{ target: 'firestore' } & RestoreToFirestoreOptions`, whose `target` could be
 * neither the literal nor the project: no Firestore restore could be built as a job.)
 */
export type RestoreRequest = RestoreToProjectOptions | ({ target: 'dir' } & RestoreToDirOptions);

export interface RestoreOutcome {
  counts?: Record<string, number>;
  bytes?: number;
  detail?: Record<string, unknown>;
}

export interface CheckRequest {
  destination: DestinationRecord;
  readData: number;
  repair: boolean;
  /** What the catalog holds for this destination, to compare with what is there. */
  catalogIds?: readonly string[];
}

export interface EngineOps {
  backup(request: BackupRequest, ctx: OperationContext): Promise<BackupOutcome>;
  verify(request: VerifyRequest, ctx: OperationContext): Promise<VerifyOutcome>;
  /** Deletes a backup's archive and manifest (manifest first, so it vanishes from lists at once). */
  deleteBackup(destination: DestinationRecord, backupId: string): Promise<void>;
  /** What the destination holds (its manifests): the truth the catalog caches. */
  list(destination: DestinationRecord): Promise<BackupFacts[]>;
  /** The schedules kept in a destination (schedules.fbc), undefined when none are. */
  readSchedules?(destination: DestinationRecord): Promise<unknown[] | undefined>;
  /** Restores take the restore operation's own options; the job layer only schedules them. */
  restore?(request: RestoreRequest, ctx: OperationContext): Promise<RestoreOutcome>;
  /** The whole-destination check (`firebackup check`). */
  check?(request: CheckRequest, ctx: OperationContext): Promise<CheckReport>;
}
