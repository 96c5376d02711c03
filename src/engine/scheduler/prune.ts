import { toErrorData, type ErrorData } from '../../shared/errors.js';
import type { RetentionPolicy } from '../../shared/schedules.js';
import { applyRetention, type RetentionCandidate, type RetentionDecision } from './retention.js';

/** Deletes one backup (archive and manifest) from its destination. */
export type BackupDeleter = (backupId: string) => Promise<void>;

export interface PruneOptions {
  backups: readonly RetentionCandidate[];
  policy: RetentionPolicy;
  timeZone?: string;
  /** Decide and report only; delete nothing. */
  dryRun?: boolean;
  deleteBackup: BackupDeleter;
  /** Called after each successful deletion, so it can be recorded (catalog, audit). */
  onDeleted?: (backupId: string) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface PruneResult {
  decision: RetentionDecision;
  dryRun: boolean;
  deleted: string[];
  failed: { id: string; error: ErrorData }[];
}

/**
 * Applies a retention policy. Deletes oldest first, so an interruption leaves the newer
 * (more valuable) backups in place; one failed deletion does not stop the others, and is
 * reported so the next prune retries it.
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const decision = applyRetention(options.backups, options.policy, options.timeZone);
  const result: PruneResult = {
    decision,
    dryRun: options.dryRun ?? false,
    deleted: [],
    failed: [],
  };
  if (result.dryRun) return result;
  for (const { id } of [...decision.remove].reverse()) {
    if (options.signal?.aborted) break;
    try {
      await options.deleteBackup(id);
      result.deleted.push(id);
      await options.onDeleted?.(id);
    } catch (error) {
      result.failed.push({ id, error: toErrorData(error) });
    }
  }
  return result;
}
