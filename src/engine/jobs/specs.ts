import { AppError } from '../../shared/errors.js';
import type { RunTrigger } from '../../shared/jobs.js';
import {
  retentionHasRules,
  type BackupScope,
  type RetentionPolicy,
  type VerifyAfterBackup,
} from '../../shared/schedules.js';
import type { Catalog } from '../catalog/catalog.js';
import type { DestinationRecord, ProjectRecord } from '../catalog/projects.js';
import { projectLockName } from '../scheduler/locks.js';
import { prune, type PruneResult } from '../scheduler/prune.js';
import {
  describeScope,
  scopedCandidates,
  selectionOf,
  type RetentionScope,
} from '../scheduler/retention-scope.js';
import { JobFailure, type JobContext, type JobOutput, type JobSpec } from './job-manager.js';
import type { RetryPolicy } from './retry.js';
import type { EngineOps, RestoreRequest } from './types.js';

/**
 * The job specs for each kind of work, built from the engine operations and the
 * catalog. They hold the "what happens after": recording backups, verifying, pruning.
 */

export interface JobDeps {
  catalog: Catalog;
  engine: EngineOps;
}

interface Common {
  trigger?: RunTrigger;
  scheduleId?: string | null;
  scheduledFor?: Date | null;
  retry?: RetryPolicy;
}

export interface BackupJobOptions extends Common {
  project: ProjectRecord;
  destination: DestinationRecord;
  scope?: BackupScope;
  verifyAfter?: VerifyAfterBackup;
  retention?: RetentionPolicy;
  /** Time zone of the retention periods (the schedule's). */
  timeZone?: string;
  /** An empty backup is expected: no failure, and it counts for retention. */
  allowEmpty?: boolean;
}

/** The retention scope of a backup job's backups: its schedule's, or manual ones of its selection. */
export function scopeOfBackupJob(o: BackupJobOptions): RetentionScope {
  return {
    firebaseProjectId: o.project.firebaseProjectId,
    databaseId: o.project.databaseId,
    scheduleId: o.scheduleId ?? null,
    selection: selectionOf(o.scope ?? {}),
  };
}

const cancelled = (): AppError =>
  new AppError('CANCELLED', 'The backup was cancelled; nothing was kept.');

export function backupJob(deps: JobDeps, o: BackupJobOptions): JobSpec {
  const { catalog, engine } = deps;
  return {
    kind: 'backup',
    trigger: o.trigger ?? 'manual',
    projectId: o.project.id,
    destinationId: o.destination.id,
    scheduleId: o.scheduleId ?? null,
    scheduledFor: o.scheduledFor ?? null,
    lockName: projectLockName(o.project.id),
    lockLabel: `Project "${o.project.name}"`,
    ...(o.retry ? { retry: o.retry } : {}),
    async execute(ctx): Promise<JobOutput> {
      const result = await engine.backup(
        {
          project: o.project,
          destination: o.destination,
          scope: o.scope ?? {},
          ...(o.scheduleId ? { scheduleId: o.scheduleId } : {}),
          ...(o.allowEmpty ? { allowEmpty: true } : {}),
        },
        ctx,
      );
      if (ctx.signal.aborted) {
        // Cancelled as it completed: take the backup away again, so a cancelled run
        // never leaves a visible backup behind.
        await engine.deleteBackup(o.destination, result.backupId);
        throw cancelled();
      }
      catalog.backups.upsert({
        destinationId: o.destination.id,
        id: result.backupId,
        firebaseProjectId: o.project.firebaseProjectId,
        databaseId: result.databaseId ?? o.project.databaseId,
        scheduleId: o.scheduleId ?? null,
        selection: result.selection ?? selectionOf(o.scope ?? {}),
        createdAt: result.createdAt,
        archiveKey: result.archiveKey,
        manifestKey: result.manifestKey,
        counts: result.counts,
        bytes: result.bytes,
      });
      const output: JobOutput = {
        backupId: result.backupId,
        counts: result.counts,
        bytes: result.bytes,
        detail: {
          ...(result.keyId !== undefined ? { keyId: result.keyId } : {}),
          ...(result.sources !== undefined ? { sources: result.sources } : {}),
          ...(result.warnings?.length ? { warnings: result.warnings } : {}),
          ...(result.crossChecks ? { crossChecks: result.crossChecks } : {}),
        },
      };
      const verifyAfter = o.verifyAfter ?? { mode: 'full' };
      if (verifyAfter.mode !== 'none') {
        const sample = verifyAfter.mode === 'full' ? 1 : verifyAfter.fraction;
        const verdict = await verifyOne(deps, o.destination, result.backupId, sample, ctx);
        output.detail!.verify = { sample, ...verdict };
        if (!verdict.ok) {
          // Keep the backup (it may still be partly useful, and retention never counts
          // it as good) but fail the run so someone hears about it. Skip pruning.
          throw new JobFailure(
            new AppError(
              'INTEGRITY',
              `Backup ${result.backupId} was written but failed verification: ${verdict.problem ?? 'unknown problem'}. Check the destination's disk or network and run the backup again.`,
            ),
            output.detail!,
            result.backupId,
          );
        }
      }
      if (o.scheduleId && !o.allowEmpty && result.counts['firestore.documents'] === 0) {
        // A schedule that suddenly backs up nothing is flagged in history (and notified),
        // not recorded as a success; the backup stays, and retention ignores it.
        throw new JobFailure(
          new AppError(
            'NOT_FOUND',
            `Backup ${result.backupId} holds no documents (${describeScope(scopeOfBackupJob(o))}). Check the schedule's project, database and collections; if empty is expected, re-add the schedule with --allow-empty. Nothing was pruned.`,
          ),
          output.detail!,
          result.backupId,
        );
      }
      if (o.retention && retentionHasRules(o.retention)) {
        const pruned = await pruneProject(deps, {
          destination: o.destination,
          scope: scopeOfBackupJob(o),
          allowEmpty: o.allowEmpty ?? false,
          policy: o.retention,
          timeZone: o.timeZone ?? 'UTC',
          runId: ctx.runId,
          signal: ctx.signal,
        });
        output.detail!.pruned = pruneSummary(pruned);
      }
      return output;
    },
  };
}

async function verifyOne(
  deps: JobDeps,
  destination: DestinationRecord,
  backupId: string,
  sample: number,
  ctx: JobContext,
): Promise<{ ok: boolean; problem?: string }> {
  let verdict: { ok: boolean; problem?: string };
  try {
    verdict = await deps.engine.verify({ destination, backupId, sample }, ctx);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    // Corruption surfaces as an error from the reader; it is a verdict, not a crash.
    const code = (error as { code?: string }).code;
    if (code !== 'ARCHIVE_CORRUPT' && code !== 'ARCHIVE_MISMATCH' && code !== 'INTEGRITY')
      throw error;
    verdict = { ok: false, problem: (error as Error).message };
  }
  deps.catalog.backups.recordVerification(destination.id, backupId, verdict.ok, verdict.problem);
  return verdict.problem === undefined
    ? { ok: verdict.ok }
    : { ok: verdict.ok, problem: verdict.problem };
}

export interface VerifyJobOptions extends Common {
  destination: DestinationRecord;
  /** Re-check these backups; otherwise the `batch` least recently verified. */
  backupIds?: string[];
  /** Limit automatic selection to one project's backups. */
  project?: ProjectRecord;
  batch?: number;
  sample?: number;
}

/** Verifies backups and records a result per backup; fails if any backup is bad. */
export function verifyJob(deps: JobDeps, o: VerifyJobOptions): JobSpec {
  return {
    kind: 'verify',
    trigger: o.trigger ?? 'manual',
    projectId: o.project?.id ?? null,
    destinationId: o.destination.id,
    scheduleId: o.scheduleId ?? null,
    scheduledFor: o.scheduledFor ?? null,
    ...(o.retry ? { retry: o.retry } : {}),
    async execute(ctx) {
      const ids =
        o.backupIds ??
        deps.catalog.backups
          .leastRecentlyVerified(
            o.destination.id,
            o.project?.firebaseProjectId ?? null,
            o.batch ?? 3,
          )
          .map((b) => b.id);
      const results: Record<string, { ok: boolean; problem?: string }> = {};
      for (const id of ids) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        results[id] = await verifyOne(deps, o.destination, id, o.sample ?? 1, ctx);
      }
      const bad = Object.entries(results).filter(([, r]) => !r.ok);
      const detail = { verified: results };
      if (bad.length > 0) {
        throw new JobFailure(
          new AppError(
            'INTEGRITY',
            `${bad.length} of ${ids.length} backups failed verification (${bad.map(([id]) => id).join(', ')}). They are marked bad and no longer count as good for retention; make a new backup and check the destination.`,
          ),
          detail,
        );
      }
      return { detail };
    },
  };
}

export interface PruneJobOptions extends Common {
  project: ProjectRecord;
  destination: DestinationRecord;
  /** Which backups the policy considers (see retention-scope.ts). */
  scope: RetentionScope;
  /** Empty backups count like any other (otherwise they are left out). */
  allowEmpty?: boolean;
  policy: RetentionPolicy;
  timeZone?: string;
  dryRun?: boolean;
}

/** Prunes one project's backups on one destination; holds the project lock meanwhile. */
export function pruneJob(deps: JobDeps, o: PruneJobOptions): JobSpec {
  return {
    kind: 'prune',
    trigger: o.trigger ?? 'manual',
    projectId: o.project.id,
    destinationId: o.destination.id,
    scheduleId: o.scheduleId ?? null,
    lockName: projectLockName(o.project.id),
    lockLabel: `Project "${o.project.name}"`,
    async execute(ctx) {
      const result = await pruneProject(deps, {
        destination: o.destination,
        scope: o.scope,
        allowEmpty: o.allowEmpty ?? false,
        policy: o.policy,
        timeZone: o.timeZone ?? 'UTC',
        dryRun: o.dryRun ?? false,
        runId: ctx.runId,
        signal: ctx.signal,
      });
      const detail = pruneSummary(result);
      if (result.failed.length > 0) {
        throw new JobFailure(
          new AppError(
            'UNAVAILABLE',
            `${result.failed.length} backups could not be deleted (${result.failed.map((f) => `${f.id}: ${f.error.message}`).join('; ')}). The next prune tries again.`,
          ),
          detail,
        );
      }
      return { detail };
    },
  };
}

export interface RestoreJobOptions extends Common {
  /** The restore operation's own options, passed through. */
  options: RestoreRequest;
  /** The target project, when restoring into one: restores and backups of it do not overlap. */
  targetProject?: ProjectRecord;
  destination?: DestinationRecord;
}

export function restoreJob(deps: JobDeps, o: RestoreJobOptions): JobSpec {
  return {
    kind: 'restore',
    trigger: o.trigger ?? 'manual',
    projectId: o.targetProject?.id ?? null,
    destinationId: o.destination?.id ?? null,
    ...(o.targetProject
      ? {
          lockName: projectLockName(o.targetProject.id),
          lockLabel: `Project "${o.targetProject.name}"`,
        }
      : {}),
    async execute(ctx) {
      if (!deps.engine.restore)
        throw new AppError('INTERNAL', 'Restore is not available in this build.');
      const r = await deps.engine.restore(o.options, ctx);
      return { counts: r.counts ?? null, bytes: r.bytes ?? null, detail: r.detail ?? null };
    },
  };
}

export interface ScopedPruneResult extends PruneResult {
  /** What was considered, in words. */
  scope: string;
  /** Empty backups of the scope that were left out (and left in place). */
  emptyIgnored: string[];
}

/**
 * Applies retention to what the destination holds now (refreshing the catalog first,
 * since the catalog is only a cache), to the backups of one scope only, and records
 * each deletion by id.
 */
export async function pruneProject(
  deps: JobDeps,
  o: {
    destination: DestinationRecord;
    scope: RetentionScope;
    allowEmpty: boolean;
    policy: RetentionPolicy;
    timeZone: string;
    dryRun?: boolean;
    runId: string | null;
    signal?: AbortSignal;
  },
): Promise<ScopedPruneResult> {
  const { catalog, engine } = deps;
  catalog.backups.replaceForDestination(o.destination.id, await engine.list(o.destination));
  const { candidates, emptyIgnored } = scopedCandidates(
    catalog.backups.list({ destinationId: o.destination.id }),
    o.scope,
    { allowEmpty: o.allowEmpty },
  );
  const result = await prune({
    backups: candidates,
    policy: o.policy,
    timeZone: o.timeZone,
    dryRun: o.dryRun ?? false,
    deleteBackup: (id) => engine.deleteBackup(o.destination, id),
    onDeleted: (id) => catalog.backups.recordDeletion(o.destination.id, id, 'retention', o.runId),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const scheduleName = o.scope.scheduleId
    ? catalog.schedules.list().find((s) => s.id === o.scope.scheduleId)?.name
    : undefined;
  return { ...result, scope: describeScope(o.scope, scheduleName), emptyIgnored };
}

export function pruneSummary(r: ScopedPruneResult): Record<string, unknown> {
  return {
    scope: r.scope,
    dryRun: r.dryRun,
    keep: r.decision.keep,
    remove: r.decision.remove.map((x) => x.id),
    deleted: r.deleted,
    failed: r.failed,
    emptyIgnored: r.emptyIgnored,
  };
}
