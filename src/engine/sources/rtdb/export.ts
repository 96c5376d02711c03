/**
 * Export: an instance's tree (or the subtrees at chosen paths) as bounded records
 * (docs/design.md §3.7). Each walk root is read in pages of children in key order
 * (orderByKey + startAfter + limitToFirst), the page size adapting to the children's
 * size; consecutive small children are packed into page records of at most
 * RTDB_RECORD_BYTES of JSON, and a child larger than that is cut into records of its own
 * (recursively) where it stands in the key order. Memory holds one page of children.
 */
import { AppError } from '../../../shared/errors.js';
import type { RtdbInstance } from './connection.js';
import {
  RTDB_RECORD_BYTES,
  childPath,
  isObjectNode,
  type RtdbRecord,
  type RtdbValue,
} from './records.js';

export interface ExportTreeOptions {
  /** Subtrees to read; default: the whole tree ("/"). Normalised (normalisePaths). */
  paths?: string[];
  /** Largest node record's JSON, in bytes. */
  recordBytes?: number;
  /** Children per page query: first, and the bounds it adapts within. */
  pageSize?: { initial: number; max: number };
  signal?: AbortSignal;
}

const DEFAULT_PAGE = { initial: 16, max: 2048 };

/** The bytes of `"key":value,` as the child will stand in a page. */
function memberBytes(key: string, value: RtdbValue): number {
  return Buffer.byteLength(JSON.stringify(value)) + Buffer.byteLength(JSON.stringify(key)) + 2;
}

/**
 * Packs the children of one node into page records; a child too large for a page is
 * cut into its own records (from memory: it was read whole with its page).
 */
class PagePacker {
  private page: Record<string, RtdbValue> = Object.create(null) as Record<string, RtdbValue>;
  private bytes = 0;
  private first = true;

  constructor(
    private readonly instance: string,
    private readonly path: string,
    private readonly limit: number,
    private readonly priority?: string | number,
  ) {}

  /** Adds a child (`size`: its member's JSON bytes, memberBytes), cutting it when too large. */
  *add(key: string, value: RtdbValue, size = memberBytes(key, value)): Generator<RtdbRecord> {
    if (key === '.priority') return; // the node's own, carried by `priority`
    if (size > this.limit && isObjectNode(value)) {
      // The node's earlier children (and its priority) come before the child's records.
      if (this.bytes > 0 || (this.first && this.priority !== undefined)) yield this.flush();
      this.first = false;
      yield* cutNode(this.instance, childPath(this.path, key), value, this.limit);
      return;
    }
    if (this.bytes > 0 && this.bytes + size > this.limit) yield this.flush();
    this.page[key] = value;
    this.bytes += size;
  }

  *finish(): Generator<RtdbRecord> {
    if (this.bytes > 0 || (this.first && this.priority !== undefined)) yield this.flush();
  }

  private flush(): RtdbRecord {
    const record: RtdbRecord = {
      instance: this.instance,
      path: this.path,
      children: this.page,
      ...(this.first && this.priority !== undefined ? { priority: this.priority } : {}),
    };
    this.page = Object.create(null) as Record<string, RtdbValue>;
    this.bytes = 0;
    this.first = false;
    return record;
  }
}

/** A node already in memory, too large for one record, as page records. */
function* cutNode(
  instance: string,
  path: string,
  node: { [key: string]: RtdbValue },
  limit: number,
): Generator<RtdbRecord> {
  const priority = node['.priority'] as string | number | undefined;
  const packer = new PagePacker(instance, path, limit, priority);
  for (const key of Object.keys(node)) yield* packer.add(key, node[key]!);
  yield* packer.finish();
}

/** The instance record, then the tree's records, in key order. */
export async function* exportTree(
  instance: RtdbInstance,
  options: ExportTreeOptions = {},
): AsyncGenerator<RtdbRecord> {
  yield { instance: instance.name, databaseUrl: instance.databaseUrl };
  for (const root of options.paths?.length ? options.paths : ['/']) {
    yield* walk(instance, root, options);
  }
}

async function* walk(
  instance: RtdbInstance,
  root: string,
  options: ExportTreeOptions,
): AsyncGenerator<RtdbRecord> {
  const limit = options.recordBytes ?? RTDB_RECORD_BYTES;
  const bounds = options.pageSize ?? DEFAULT_PAGE;
  // The root's own priority is not visible to a query of its children (see ADR 0006).
  const packer = new PagePacker(instance.name, root, limit);
  let size = bounds.initial;
  let after: string | undefined;
  let any = false;
  for (;;) {
    if (options.signal?.aborted) throw new AppError('CANCELLED', 'The backup was cancelled.');
    const page = await instance.window(root, after, size);
    let bytes = 0;
    for (const [key, value] of page) {
      any = true;
      const size = memberBytes(key, value);
      bytes += size;
      yield* packer.add(key, value, size);
    }
    if (page.length < size) break;
    after = page[page.length - 1]![0];
    // Aim at a quarter of a record's worth per query: the client library holds a page
    // several times over (the message, its own tree, the exported copy), and the garbage
    // of each page is what the heap grows by before it is collected; small children
    // still come hundreds per round trip.
    const fit = Math.floor((size * limit) / 4 / Math.max(bytes, 1));
    size = Math.max(1, Math.min(bounds.max, 2 * size, fit));
  }
  yield* packer.finish();
  if (!any) {
    // No children: a leaf (small by the service's limits) or nothing.
    const value = await instance.read(root);
    if (value !== null) yield { instance: instance.name, path: root, value };
  }
}
