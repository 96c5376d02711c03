/**
 * The Realtime Database records of the archive (docs/design.md §3.7), all of type 5:
 * an instance record opens each instance; node records carry its tree, either a whole
 * subtree (`value`) or a page of a large node's children (`children`). Values are in
 * the database's export form (`DataSnapshot.exportVal()`: priorities as ".priority",
 * a leaf with a priority as { ".value", ".priority" }), so nothing is lost or re-typed.
 */
import type { BackupSelection } from '../../../shared/backups.js';
import { AppError } from '../../../shared/errors.js';

/** An exported value: JSON as the database keeps it. */
export type RtdbValue = null | boolean | number | string | { [key: string]: RtdbValue };

export interface RtdbInstanceRecord {
  instance: string;
  databaseUrl: string;
}

export interface RtdbValueRecord {
  instance: string;
  /** "/" for the root, else "/"-joined keys, verbatim. */
  path: string;
  value: RtdbValue;
}

export interface RtdbPageRecord {
  instance: string;
  path: string;
  /** Some children of the node at `path`, each whole; the others are in other records. */
  children: Record<string, RtdbValue>;
  /** The node's own priority, in its first page only. */
  priority?: string | number;
}

export type RtdbRecord = RtdbInstanceRecord | RtdbValueRecord | RtdbPageRecord;

/** The largest node record's JSON the export packs (a single larger leaf stays whole). */
export const RTDB_RECORD_BYTES = 1024 * 1024;

export function isInstanceRecord(r: RtdbRecord): r is RtdbInstanceRecord {
  return !('path' in r);
}

export function isPageRecord(r: RtdbRecord): r is RtdbPageRecord {
  return 'children' in r;
}

/** An object node (not a leaf, not a leaf with a priority). */
export function isObjectNode(value: RtdbValue): value is { [key: string]: RtdbValue } {
  return typeof value === 'object' && value !== null && !('.value' in value);
}

/** "/a/b" + "c" → "/a/b/c". */
export function childPath(path: string, key: string): string {
  return path === '/' ? `/${key}` : `${path}/${key}`;
}

/** "/a/b" → ["a", "b"]; "/" → []. */
export function pathSegments(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

/**
 * A user's path ("users/alice", "/users/alice/") in the record form ("/users/alice"),
 * checked against the keys the database allows.
 */
export function normalisePath(text: string): string {
  const segments = text.split('/').filter(Boolean);
  const bad = segments.find(
    // eslint-disable-next-line no-control-regex -- control characters are not allowed in keys
    (s) => /[.#$[\]\u0000-\u001f\u007f]/.test(s),
  );
  if (bad !== undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${text}" is not a Realtime Database path: the key "${bad}" holds one of . # $ [ ] or a control character. Give paths like /users/alice.`,
    );
  }
  return `/${segments.join('/')}`;
}

/** Whether `path` is `root` or below it. */
export function isUnderPath(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** Paths normalised, sorted, and without those already under another one. */
export function normalisePaths(paths: readonly string[]): string[] {
  const sorted = [...new Set(paths.map(normalisePath))].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && isUnderPath(p, q)));
}

/**
 * The RTDB part of a selection as manifests record it: normalised paths ("/" is the
 * whole tree, like none) and the instances only when named.
 */
export function rtdbSelectionOf(
  paths: readonly string[] | undefined,
  instances: readonly string[] | undefined,
): NonNullable<BackupSelection['rtdb']> {
  const normal = normalisePaths(paths ?? []);
  return {
    paths: normal.includes('/') ? [] : normal,
    ...(instances?.length ? { instances: [...instances].sort() } : {}),
  };
}

function corrupt(what: string): AppError {
  return new AppError('ARCHIVE_CORRUPT', `A Realtime Database record in the archive ${what}.`);
}

export function parseRtdbRecord(value: unknown): RtdbRecord {
  const r = value as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || typeof r.instance !== 'string') {
    throw corrupt('has no instance');
  }
  if (!('path' in r)) {
    if (typeof r.databaseUrl !== 'string') throw corrupt('has no path and no databaseUrl');
    return r as unknown as RtdbInstanceRecord;
  }
  if (typeof r.path !== 'string' || !r.path.startsWith('/')) throw corrupt('has a bad path');
  if ('children' in r) {
    if (typeof r.children !== 'object' || r.children === null || Array.isArray(r.children)) {
      throw corrupt(`at ${r.path} has malformed children`);
    }
    return r as unknown as RtdbPageRecord;
  }
  if (!('value' in r)) throw corrupt(`at ${r.path} has neither value nor children`);
  return r as unknown as RtdbValueRecord;
}
