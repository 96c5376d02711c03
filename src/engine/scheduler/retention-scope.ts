import type { BackupSelection } from '../../shared/backups.js';
import type { BackupScope } from '../../shared/schedules.js';
import type { CatalogBackup } from '../catalog/backups.js';
import { rtdbSelectionOf } from '../sources/rtdb/records.js';
import type { RetentionCandidate } from './retention.js';

/**
 * Which backups one retention policy may consider. A destination can hold backups of
 * several projects, databases, selections and schedules, plus manual ones; a policy only
 * ever sees the backups of its own scope:
 * - a schedule's: the backups that schedule made (its id is in their manifests), of the
 *   same project and database;
 * - a manual prune's: manual backups (no schedule) of the project, database and exact
 *   collection selection the user names.
 * A backup whose manifest predates these fields (no selection recorded) is in no scope,
 * so retention never deletes it; `firebackup delete` removes such a backup by id.
 */
export interface RetentionScope {
  firebaseProjectId: string;
  databaseId: string;
  /** The schedule whose backups these are; null for manual backups. */
  scheduleId: string | null;
  /** For manual backups: the exact selection (schedules match by id). */
  selection: BackupSelection;
}

/** The selection a scope (flags or a schedule's) stands for, in a comparable form. */
export function selectionOf(
  scope: Pick<
    BackupScope,
    | 'collections'
    | 'exclude'
    | 'sources'
    | 'buckets'
    | 'storagePrefix'
    | 'rtdbPaths'
    | 'rtdbInstances'
  >,
): BackupSelection {
  const sources = scope.sources ?? ['firestore'];
  return {
    collections: scope.collections ?? [],
    exclude: scope.exclude ?? [],
    sources,
    ...(sources.includes('storage') && scope.buckets
      ? { storage: { buckets: scope.buckets, prefix: scope.storagePrefix ?? '' } }
      : {}),
    ...(sources.includes('rtdb')
      ? { rtdb: rtdbSelectionOf(scope.rtdbPaths, scope.rtdbInstances) }
      : {}),
  };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

/** Manifests made before other sources existed hold Firestore only. */
const sourcesOf = (s: BackupSelection): readonly string[] => s.sources ?? ['firestore'];

/**
 * Same RTDB paths and named instances. Absent (a manifest from before RTDB selections,
 * or a selection without the rtdb source) reads as whole trees of every instance; the
 * sources are compared on their own.
 */
function sameRtdb(a: BackupSelection['rtdb'], b: BackupSelection['rtdb']): boolean {
  const x = a ?? { paths: [] };
  const y = b ?? { paths: [] };
  return (
    sameSet(x.paths, y.paths) &&
    (x.instances === undefined
      ? y.instances === undefined
      : y.instances !== undefined && sameSet(x.instances, y.instances))
  );
}

export function sameSelection(a: BackupSelection, b: BackupSelection): boolean {
  return (
    sameSet(a.collections, b.collections) &&
    sameSet(a.exclude, b.exclude) &&
    sameSet(sourcesOf(a), sourcesOf(b)) &&
    // Strict: a scope that names no bucket never matches backups of named buckets.
    (a.storage === undefined
      ? b.storage === undefined
      : b.storage !== undefined &&
        sameSet(a.storage.buckets, b.storage.buckets) &&
        a.storage.prefix === b.storage.prefix) &&
    sameRtdb(a.rtdb, b.rtdb)
  );
}

export function inScope(b: CatalogBackup, scope: RetentionScope): boolean {
  if (b.firebaseProjectId !== scope.firebaseProjectId || b.databaseId !== scope.databaseId) {
    return false;
  }
  // No recorded selection means the manifest predates scopes: in no scope at all.
  if (b.selection === null) return false;
  if (scope.scheduleId !== null) return b.scheduleId === scope.scheduleId;
  return b.scheduleId === null && sameSelection(b.selection, scope.selection);
}

export const isEmptyBackup = (b: CatalogBackup): boolean =>
  b.counts !== null && (b.counts['firestore.documents'] ?? 0) === 0;

export interface ScopedCandidates {
  candidates: RetentionCandidate[];
  /** Empty backups of the scope left out (kept, and never counted as a real backup). */
  emptyIgnored: string[];
}

/**
 * The retention candidates of one scope. An empty backup (0 documents) is almost always
 * a mistake (a wrong --database or --collections): unless empty is expected it neither
 * fills a daily/weekly/monthly slot nor counts as the newest good backup, so it can never
 * push a real backup out; it is left in place for the user to look at.
 */
export function scopedCandidates(
  backups: readonly CatalogBackup[],
  scope: RetentionScope,
  options: { allowEmpty?: boolean } = {},
): ScopedCandidates {
  const result: ScopedCandidates = { candidates: [], emptyIgnored: [] };
  for (const b of backups) {
    if (!inScope(b, scope)) continue;
    if (!options.allowEmpty && isEmptyBackup(b)) {
      result.emptyIgnored.push(b.id);
      continue;
    }
    result.candidates.push({
      id: b.id,
      createdAt: new Date(b.createdAt),
      good: b.verifyStatus !== 'failed',
    });
  }
  return result;
}

/** A short description of a scope for output ("backups made by this schedule", …). */
export function describeScope(scope: RetentionScope, scheduleName?: string): string {
  const where = `${scope.firebaseProjectId}/${scope.databaseId}`;
  if (scope.scheduleId !== null) {
    return `backups of ${where} made by schedule ${scheduleName ? `"${scheduleName}"` : scope.scheduleId}`;
  }
  const { collections, exclude, storage, rtdb } = scope.selection;
  const what = [
    collections.length ? `collections ${collections.join(', ')}` : 'all collections',
    exclude.length ? `excluding ${exclude.join(', ')}` : '',
    `sources ${sourcesOf(scope.selection).join(', ')}`,
    storage
      ? `buckets ${storage.buckets.join(', ')}${storage.prefix ? ` under ${storage.prefix}` : ''}`
      : '',
    rtdb?.paths.length ? `RTDB paths ${rtdb.paths.join(', ')}` : '',
    rtdb?.instances ? `RTDB instances ${rtdb.instances.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `manual backups of ${where}, ${what}`;
}
