/**
 * What a mirror restore may delete: the target's documents that the archive does not
 * hold, and only inside the scope the restore covers. The scope is both the user's
 * selection (--collections, --paths) and the backup's own (a backup of `users` only
 * says nothing about the target's `orders`), so a mirror never deletes a document the
 * same restore could not have written.
 */
import type { BackupHeader } from '../../shared/backups.js';
import type { FirestoreConnection } from '../sources/firestore/connection.js';
import { exportDocuments } from '../sources/firestore/export.js';
import { isUnder, normaliseSelection } from '../sources/firestore/paths.js';

export interface MirrorScope {
  /** The restore's selection (each list all when empty; a path must be under both). */
  collections: string[];
  paths: string[];
  /** The backup's selection, from its header. */
  backup: BackupHeader['selection'];
}

function within(list: string[] | undefined, path: string): boolean {
  return !list || list.some((prefix) => isUnder(path, prefix));
}

/** Is `path` inside the scope? */
export function inMirrorScope(scope: MirrorScope): (path: string) => boolean {
  const lists = [scope.collections, scope.paths, scope.backup.collections].map(
    (l) => normaliseSelection({ collections: l }).include,
  );
  const excluded = normaliseSelection({ exclude: scope.backup.exclude }).exclude;
  return (path) =>
    lists.every((list) => within(list, path)) && !excluded.some((e) => isUnder(path, e));
}

/**
 * The paths of the target's documents in the scope that are not in `present` (the
 * archive's documents that were restored). Reads only the narrowest of the selections
 * (each document's path is then checked against all of them); reading the target costs
 * one document read per document in the scope.
 */
export async function* extraDocuments(
  conn: FirestoreConnection,
  scope: MirrorScope,
  present: ReadonlySet<string>,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const keep = inMirrorScope(scope);
  const narrowest = [scope.paths, scope.collections, scope.backup.collections].find(
    (l) => l.length > 0,
  );
  for await (const doc of exportDocuments(conn, {
    collections: narrowest ?? [],
    exclude: scope.backup.exclude,
    ...(signal ? { signal } : {}),
  })) {
    if (keep(doc.path) && !present.has(doc.path)) yield doc.path;
  }
}
