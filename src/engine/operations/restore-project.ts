/**
 * A restore into a project of every source chosen, as the CLI's `restore --to-project
 * --sources` runs it: the Firestore documents (restoreToFirestore), then the Auth users,
 * Realtime Database trees and Storage files (restoreSourcesToProject), each operation
 * verifying the whole archive before it writes. The app's restore jobs run this.
 */
import { AppError } from '../../shared/errors.js';
import {
  restoreSourcesToProject,
  restoreToFirestore,
  type RestoreToFirestoreOptions,
} from './restore.js';
import type { OtherSourcesReport, OtherSourcesTargets } from './restore-sources.js';
import type { SourceName } from './source-records.js';
import type { OperationContext } from './types.js';

export interface RestoreToProjectOptions extends RestoreToFirestoreOptions {
  /** Where Auth, RTDB and Storage go (their connections and target choices). */
  others?: Omit<OtherSourcesTargets, 'sources' | 'mode' | 'dryRun'>;
}

export interface RestoreToProjectReport extends OtherSourcesReport {
  /** The Firestore documents' report, when they were chosen. */
  firestore?: Awaited<ReturnType<typeof restoreToFirestore>>;
  backup: string;
}

/** Mirror deletes what the backup lacks, which only Firestore's restore knows how to do. */
export function assertModeFitsSources(mode: string, others: readonly SourceName[]): void {
  if (mode === 'mirror' && others.length > 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Mode mirror is for Firestore documents only; restore ${others.join(' and ')} with mode create, overwrite or merge.`,
    );
  }
}

/** Firestore unless other sources are named (`sources`), each with the same mode. */
export async function restoreToProject(
  opts: RestoreToProjectOptions,
  ctx: OperationContext = {},
): Promise<RestoreToProjectReport> {
  const sources = opts.sources ?? ['firestore'];
  const others = sources.filter((s) => s !== 'firestore');
  assertModeFitsSources(opts.mode, others);
  const report: RestoreToProjectReport = { backup: opts.backup.label };
  if (sources.includes('firestore')) report.firestore = await restoreToFirestore(opts, ctx);
  if (others.length > 0) {
    const more = await restoreSourcesToProject(
      {
        ...opts,
        targets: {
          ...opts.others,
          sources: others,
          mode: opts.mode as Exclude<typeof opts.mode, 'mirror'>,
          ...(opts.dryRun ? { dryRun: true } : {}),
        },
      },
      ctx,
    );
    if (more.auth) report.auth = more.auth;
    if (more.rtdb) report.rtdb = more.rtdb;
    if (more.storage) report.storage = more.storage;
  }
  return report;
}
