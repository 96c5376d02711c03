import type { CheckReport } from '../../shared/check.js';
import { AppError } from '../../shared/errors.js';
import type { DestinationRecord } from '../catalog/projects.js';
import { JobFailure, type JobSpec } from './job-manager.js';
import type { JobDeps } from './specs.js';
import type { RetryPolicy } from './retry.js';
import type { RunTrigger } from '../../shared/jobs.js';

export interface CheckJobOptions {
  destination: DestinationRecord;
  /** Share of backups decrypted in full (0–1). */
  readData?: number;
  repair?: boolean;
  trigger?: RunTrigger;
  scheduleId?: string | null;
  scheduledFor?: Date | null;
  retry?: RetryPolicy;
}

/**
 * A whole-destination check as a job, so it can be scheduled like verify and shows in the
 * history: the report goes in the run's detail; damage or a missing key fails the run
 * (and so notifies), housekeeping notices alone do not.
 */
export function checkJob(deps: JobDeps, o: CheckJobOptions): JobSpec {
  return {
    kind: 'check',
    trigger: o.trigger ?? 'manual',
    projectId: null,
    destinationId: o.destination.id,
    scheduleId: o.scheduleId ?? null,
    scheduledFor: o.scheduledFor ?? null,
    ...(o.retry ? { retry: o.retry } : {}),
    async execute(ctx) {
      if (!deps.engine.check)
        throw new AppError('INTERNAL', 'Check is not available in this build.');
      const report = await deps.engine.check(
        {
          destination: o.destination,
          readData: o.readData ?? 0,
          repair: o.repair ?? false,
          catalogIds: deps.catalog.backups
            .list({ destinationId: o.destination.id })
            .map((b) => b.id),
        },
        ctx,
      );
      const detail = { report };
      const failure = checkFailure(report);
      if (failure) throw new JobFailure(failure, detail);
      return { detail };
    },
  };
}

function checkFailure(report: CheckReport): AppError | undefined {
  const names = (severity: 'damage' | 'key'): string =>
    Object.values(report.categories)
      .filter((c) => c.severity === severity)
      .flatMap((c) => c.items.map((i) => i.id ?? i.key))
      .join(', ');
  if (report.damage > 0) {
    return new AppError(
      'INTEGRITY',
      `The check of ${report.destination} found ${report.damage} problem(s) with backups (${names('damage')}). Run \`firebackup check --from ${report.destination}\` for details, and make a new backup.`,
    );
  }
  if (report.keyProblems > 0) {
    return new AppError(
      'KEY_NOT_FOUND',
      `The check of ${report.destination} found ${report.keyProblems} backup(s) under a key not given (${names('key')}). Add it to ENCRYPTION_OLD_KEYS or the key store.`,
    );
  }
  return undefined;
}
