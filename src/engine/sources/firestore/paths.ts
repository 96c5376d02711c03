/**
 * Document names, selections and the key ranges that cover them.
 *
 * Firestore orders `__name__` segment by segment, so everything under a collection
 * `a/b/c` (its documents and all their descendants, existing ancestors or not) is one
 * contiguous range of names. Cursors must name documents, so the bounds are built from
 * the NUL character, the smallest possible id (the trick the Firestore SDK's
 * recursiveDelete uses):
 *   collection a/b/c:  [a/b/c/\0, a/b/c\0/\0)
 *   document   a/b:    [a/b,      a/b\0)
 */
import { AppError } from '../../../shared/errors.js';

const NUL = '\u0000';

/** A half-open range of full document names: start inclusive, end exclusive. */
export interface KeyRange {
  start: string;
  end: string;
}

export interface Selection {
  /** Root collection ids or collection/document paths; all of the database when empty. */
  collections?: string[];
  /** Root collection ids or collection/document paths to leave out. */
  exclude?: string[];
}

/** A validated selection: normalised relative paths with no overlaps among includes. */
export interface NormalisedSelection {
  include: string[] | undefined;
  exclude: string[];
}

function segmentsOf(path: string, role: string): string[] {
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  if (segments.some((s) => s === '')) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The ${role} "${path}" is not a valid path. Use a collection id like "users" or a path like "users/alice/orders".`,
    );
  }
  return segments;
}

/** Is `path` (relative) the prefix itself or below it? */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

export function normaliseSelection(selection: Selection): NormalisedSelection {
  const exclude = dropNested(
    (selection.exclude ?? []).map((p) => segmentsOf(p, 'excluded path').join('/')),
  );
  if (!selection.collections?.length) return { include: undefined, exclude };
  // A prefix inside an excluded one selects nothing.
  const include = dropNested(
    selection.collections.map((p) => segmentsOf(p, 'collection').join('/')),
  ).filter((p) => !exclude.some((e) => isUnder(p, e)));
  return { include, exclude };
}

/** Drops duplicates and prefixes inside other prefixes (they would be read or counted twice). */
function dropNested(paths: string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((q) => q !== p && isUnder(p, q)));
}

/** The range holding everything under a relative collection or document path. */
export function rangeOf(documentsRoot: string, path: string): KeyRange {
  const segments = path.split('/');
  const last = segments.pop() ?? '';
  const parent = segments.length ? `${documentsRoot}/${segments.join('/')}` : documentsRoot;
  const isCollection = (segments.length + 1) % 2 === 1;
  return isCollection
    ? { start: `${parent}/${last}/${NUL}`, end: `${parent}/${last}${NUL}/${NUL}` }
    : { start: `${parent}/${last}`, end: `${parent}/${last}${NUL}` };
}

/**
 * Splits a root collection's range at document-id characters. Auto ids are uniform over
 * [0-9A-Za-z], so k shards get about 1/k of the documents each; other ids still give
 * correct (if uneven) shards. ASCII boundaries sort the same in every string order.
 */
export function shardRange(documentsRoot: string, collection: string, shards: number): KeyRange[] {
  const whole = rangeOf(documentsRoot, collection);
  if (shards <= 1) return [whole];
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const cuts: string[] = [];
  for (let i = 1; i < shards; i++) {
    const ch = alphabet[Math.floor((i * alphabet.length) / shards)];
    if (ch && !cuts.includes(ch)) cuts.push(ch);
  }
  const bounds = [
    whole.start,
    ...cuts.map((c) => `${documentsRoot}/${collection}/${c}`),
    whole.end,
  ];
  return bounds.slice(1).map((end, i) => ({ start: bounds[i] as string, end }));
}

/** "projects/p/databases/d/documents/a/b" → "a/b". */
export function relativePath(documentsRoot: string, name: string): string {
  if (!name.startsWith(`${documentsRoot}/`)) {
    throw new AppError(
      'INTERNAL',
      `Firestore returned a document outside ${documentsRoot}: ${name}.`,
    );
  }
  return name.slice(documentsRoot.length + 1);
}

const SIMPLE_FIELD = /^[A-Za-z_][A-Za-z_0-9]*$/;

/** A field name as a field path: backquoted (with \ and ` escaped) unless it is simple. */
export function escapeFieldPath(name: string): string {
  if (SIMPLE_FIELD.test(name)) return name;
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}
