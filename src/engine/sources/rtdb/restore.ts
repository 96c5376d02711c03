/**
 * Restore: an instance's archived tree (or the subtrees at chosen paths) into a target
 * instance, with multi-location updates kept under the service's write limits.
 *
 * The unit of create/overwrite is a child of the restore root: each top-level key of
 * the tree, or each chosen path. create checks once whether the unit exists and skips
 * it whole (its path is reported); overwrite removes the unit once, then writes the
 * archived subtree into it; merge writes into it without removing anything. A page record's priority is set after the whole instance,
 * once its node has children to carry it.
 */
import { AppError } from '../../../shared/errors.js';
import { emptyTally, type RestoreTally } from '../restore-tally.js';
import type { RtdbInstance } from './connection.js';
import {
  childPath,
  isInstanceRecord,
  isPageRecord,
  isUnderPath,
  pathSegments,
  type RtdbRecord,
  type RtdbValue,
} from './records.js';

/** merge writes the archived values into an existing unit without removing it first. */
export type RtdbRestoreMode = 'create' | 'overwrite' | 'merge';

export interface RestoreTreeOptions {
  mode: RtdbRestoreMode;
  dryRun?: boolean;
  /** Normalised chosen paths (normalisePaths); default: the whole tree. */
  paths?: string[];
  /** Paths and JSON bytes per multi-location update. */
  batch?: { paths: number; bytes: number };
  signal?: AbortSignal;
  onProgress?: (nodes: number, bytes: number) => void;
}

export interface RtdbRestoreFailure {
  path: string;
  message: string;
}

export interface RtdbRestoreReport extends RestoreTally<RtdbRestoreFailure> {
  /** Values written (a page's child or a whole subtree each). */
  nodes: number;
  bytes: number;
  /** create: the units left alone because they exist (at most MAX_LISTED_SKIPS). */
  skippedPaths: string[];
}

export const RTDB_WRITE_BATCH = { paths: 1000, bytes: 4 * 1024 * 1024 };
const MAX_LISTED_SKIPS = 100;

/** One value to write at one path, and the restore root it falls under. */
interface Piece {
  root: string;
  path: string;
  value?: RtdbValue;
  priority?: string | number;
}

/** What of a record falls under the chosen roots, cut down to them. */
export function piecesOf(record: RtdbRecord, roots: readonly string[]): Piece[] {
  if (isInstanceRecord(record)) return [];
  const out: Piece[] = [];
  for (const root of roots) {
    if (isUnderPath(record.path, root)) {
      if (isPageRecord(record)) {
        if (record.priority !== undefined)
          out.push({ root, path: record.path, priority: record.priority });
        for (const key of Object.keys(record.children)) {
          out.push({ root, path: childPath(record.path, key), value: record.children[key]! });
        }
      } else {
        out.push({ root, path: record.path, value: record.value });
      }
    } else if (isUnderPath(root, record.path)) {
      // The record holds the root inside it: descend to it.
      const rest = pathSegments(root).slice(pathSegments(record.path).length);
      let node: RtdbValue | undefined = isPageRecord(record)
        ? { ...record.children }
        : record.value;
      for (const key of rest) {
        node =
          typeof node === 'object' && node !== null && Object.hasOwn(node, key)
            ? node[key]
            : undefined;
      }
      if (node !== undefined && node !== null) out.push({ root, path: root, value: node });
    }
  }
  return out;
}

/** The create/overwrite unit of a path: the child of its root it lies in. */
function unitOf(path: string, root: string): string {
  if (root !== '/') return root;
  const first = pathSegments(path)[0];
  return first === undefined ? '/' : `/${first}`;
}

export async function restoreTree(
  target: RtdbInstance,
  records: AsyncIterable<RtdbRecord>,
  options: RestoreTreeOptions,
): Promise<RtdbRestoreReport> {
  const report: RtdbRestoreReport = {
    ...emptyTally<RtdbRestoreFailure>(options.dryRun),
    nodes: 0,
    bytes: 0,
    skippedPaths: [],
  };
  const roots = options.paths?.length ? options.paths : ['/'];
  const limits = options.batch ?? RTDB_WRITE_BATCH;
  const units = new Map<string, boolean>(); // unit → write it
  const priorities: Array<[string, string | number]> = [];
  let batch: Record<string, RtdbValue> = {};
  let batchPaths = 0;
  let batchBytes = 0;

  const flush = async (): Promise<void> => {
    if (batchPaths === 0) return;
    await target.update(batch);
    options.onProgress?.(batchPaths, batchBytes);
    batch = {};
    batchPaths = 0;
    batchBytes = 0;
  };

  const decide = async (unit: string): Promise<boolean> => {
    const known = units.get(unit);
    if (known !== undefined) return known;
    const exists = await target.exists(unit);
    let write = true;
    if (report.planned) {
      report.planned[exists ? (options.mode === 'create' ? 'skip' : 'overwrite') : 'create']++;
      write = false;
    } else if (exists && options.mode === 'create') {
      report.skipped++;
      if (report.skippedPaths.length < MAX_LISTED_SKIPS) report.skippedPaths.push(unit);
      write = false;
    } else if (exists) {
      if (options.mode === 'overwrite') {
        await flush();
        await target.set(unit, null);
      }
      report.overwritten++;
    } else {
      report.created++;
    }
    units.set(unit, write);
    return write;
  };

  for await (const record of records) {
    if (options.signal?.aborted) throw new AppError('CANCELLED', 'The restore was cancelled.');
    for (const piece of piecesOf(record, roots)) {
      if (!(await decide(unitOf(piece.path, piece.root)))) continue;
      if (piece.priority !== undefined) {
        priorities.push([piece.path, piece.priority]);
        continue;
      }
      const value = piece.value!;
      const bytes = Buffer.byteLength(JSON.stringify(value));
      report.nodes++;
      report.bytes += bytes;
      if (piece.path === '/') {
        // The root itself (a leaf tree): no multi-location form for it.
        await flush();
        await target.set('/', value);
        continue;
      }
      if (batchPaths >= limits.paths || (batchPaths > 0 && batchBytes + bytes > limits.bytes)) {
        await flush();
      }
      // defineProperty: a key may be "__proto__".
      Object.defineProperty(batch, piece.path.slice(1), { value, enumerable: true });
      batchPaths++;
      batchBytes += bytes;
    }
  }
  await flush();
  for (const [path, priority] of priorities) await target.setPriority(path, priority);
  return report;
}
