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

// The first query asks for one child: the children's size is unknown until one arrives,
// and a few huge top-level nodes are a common shape.
const DEFAULT_PAGE = { initial: 1, max: 2048 };

/** A record as the archive stores it: its JSON text, built once. */
export interface ExportedRecord {
  json: string;
}

const text = (record: RtdbRecord): ExportedRecord => ({ json: JSON.stringify(record) });

/**
 * Packs the children of one node into page records; a child too large for a page is
 * cut into its own records (from memory: it was read whole with its page). Children are
 * kept as their JSON text (`"key":value`), which is both the record's final form and far
 * smaller than the objects, so little of a page outlives the query that brought it.
 */
class PagePacker {
  private members: string[] = [];
  private bytes = 0;
  private first = true;

  constructor(
    private readonly instance: string,
    private readonly path: string,
    private readonly limit: number,
    private readonly priority?: string | number,
  ) {}

  /** Adds a child; returns the bytes of its JSON. */
  *add(key: string, value: RtdbValue): Generator<ExportedRecord, number> {
    if (key === '.priority') return 0; // the node's own, carried by `priority`
    const member = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    const size = Buffer.byteLength(member) + 1;
    if (size > this.limit && isObjectNode(value)) {
      // The node's earlier children (and its priority) come before the child's records.
      if (this.bytes > 0 || (this.first && this.priority !== undefined)) yield this.flush();
      this.first = false;
      yield* cutNode(this.instance, childPath(this.path, key), value, this.limit);
      return size;
    }
    if (this.bytes > 0 && this.bytes + size > this.limit) yield this.flush();
    this.members.push(member);
    this.bytes += size;
    return size;
  }

  *finish(): Generator<ExportedRecord> {
    if (this.bytes > 0 || (this.first && this.priority !== undefined)) yield this.flush();
  }

  /** The page record `{ instance, path, children, priority? }` (§3.7), as text. */
  private flush(): ExportedRecord {
    const priority =
      this.first && this.priority !== undefined
        ? `,"priority":${JSON.stringify(this.priority)}`
        : '';
    const json = `{"instance":${JSON.stringify(this.instance)},"path":${JSON.stringify(this.path)},"children":{${this.members.join(',')}}${priority}}`;
    this.members = [];
    this.bytes = 0;
    this.first = false;
    return { json };
  }
}

/** A node already in memory, too large for one record, as page records. */
function* cutNode(
  instance: string,
  path: string,
  node: { [key: string]: RtdbValue },
  limit: number,
): Generator<ExportedRecord> {
  const priority = node['.priority'] as string | number | undefined;
  const packer = new PagePacker(instance, path, limit, priority);
  for (const key of Object.keys(node)) yield* packer.add(key, node[key]!);
  yield* packer.finish();
}

/** The instance record, then the tree's records, in key order. */
export async function* exportTree(
  instance: RtdbInstance,
  options: ExportTreeOptions = {},
): AsyncGenerator<ExportedRecord> {
  yield text({ instance: instance.name, databaseUrl: instance.databaseUrl });
  for (const root of options.paths?.length ? options.paths : ['/']) {
    yield* walk(instance, root, options);
  }
}

async function* walk(
  instance: RtdbInstance,
  root: string,
  options: ExportTreeOptions,
): AsyncGenerator<ExportedRecord> {
  const limit = options.recordBytes ?? RTDB_RECORD_BYTES;
  const bounds = options.pageSize ?? DEFAULT_PAGE;
  // The root's own priority is not visible to a query of its children (see ADR 0007).
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
      bytes += yield* packer.add(key, value);
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
    if (value !== null) yield text({ instance: instance.name, path: root, value });
  }
}
