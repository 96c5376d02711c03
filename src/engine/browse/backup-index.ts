import { AppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import type { Keyring } from '../keys/keyring.js';
import { openBoundScanner } from '../operations/backup-scanner.js';
import { findDocument } from '../operations/inspect.js';
import { byId } from './directory.js';
import type { ResolvedBackup } from '../operations/resolve-backup.js';
import type { OperationContext } from '../operations/types.js';

/**
 * A read-only browser's view of one backup: its collections (at every depth) and the
 * document ids in each, sorted as Firestore orders them, built by ONE authenticated read
 * of the whole archive (the scanner checks every segment, the trailer and the manifest's
 * digest before the index is used, so nothing shown comes from a tampered archive).
 *
 * Afterwards every page, collection list and document is answered from memory, so a
 * collection of a 100,000-document backup pages instantly after the first build.
 * The decrypted documents are kept in this process only (never written to disk: a
 * plaintext cache would undo the archive's encryption), up to a byte budget; beyond it
 * only the paths are kept and a document is found by reading the archive again.
 */
export class BackupIndex {
  /** Collection path → its document ids, sorted. "" is the parent of root collections. */
  private readonly documents = new Map<string, string[]>();
  /** Parent document path ("" for the root) → the ids of its subcollections, sorted. */
  private readonly children = new Map<string, string[]>();
  private readonly payloads = new Map<string, Buffer>();
  /** Paths of documents absent from the backup that have subcollections in it. */
  private readonly missing = new Set<string>();
  /** False when the budget ran out: documents are then re-read from the archive. */
  payloadsKept = true;
  totalDocuments = 0;
  /** Bytes of decrypted documents held. */
  heldBytes = 0;
  private fullBuild: Promise<BackupIndex> | undefined;
  /** With a browse directory: reads one document from its segment (directory-index.ts). */
  private seek: ((path: string) => Promise<FirestoreDocumentRecord>) | undefined;

  private constructor(
    private readonly backup: ResolvedBackup,
    private readonly keyring: Keyring,
  ) {}

  static async build(
    backup: ResolvedBackup,
    keyring: Keyring,
    options: { payloadBudget?: number; ctx?: OperationContext } = {},
  ): Promise<BackupIndex> {
    const index = new BackupIndex(backup, keyring);
    const budget = options.payloadBudget ?? DEFAULT_PAYLOAD_BUDGET;
    const { scanner } = await openBoundScanner(backup, keyring, options.ctx ?? {});
    const collections = new Map<string, string[]>();
    const children = new Map<string, Set<string>>();
    for await (const { doc, json } of scanner.documents()) {
      index.totalDocuments++;
      const cut = doc.path.lastIndexOf('/');
      const collection = doc.path.slice(0, cut);
      let ids = collections.get(collection);
      if (!ids) {
        ids = [];
        collections.set(collection, ids);
        BackupIndex.link(children, collection);
      }
      ids.push(doc.path.slice(cut + 1));
      if (index.payloadsKept) {
        if (index.heldBytes + json.length > budget) {
          index.payloadsKept = false;
          index.payloads.clear();
          index.heldBytes = 0;
        } else {
          // A view, not a copy: the segments it points into stay alive while the index
          // does, which is the same memory as copies without 100,000 allocations.
          index.payloads.set(doc.path, json);
          index.heldBytes += json.length;
        }
      }
    }
    index.fill(collections, children);
    return index;
  }

  /**
   * An index from a backup's browse directory (docs/design.md §7): ids are known at once,
   * and a document is read from its own segment by `seek` when it is opened.
   */
  static fromDirectory(
    collections: ReadonlyMap<string, readonly string[]>,
    totalDocuments: number,
    backup: ResolvedBackup,
    keyring: Keyring,
    seek: (path: string) => Promise<FirestoreDocumentRecord>,
  ): BackupIndex {
    const index = new BackupIndex(backup, keyring);
    const children = new Map<string, Set<string>>();
    const copies = new Map<string, string[]>();
    for (const [collection, ids] of collections) {
      BackupIndex.link(children, collection);
      // A copy: missing parents may be added to it, the directory's own stays aligned.
      copies.set(collection, [...ids]);
    }
    index.fill(copies, children);
    index.totalDocuments = totalDocuments;
    index.payloadsKept = false;
    index.seek = seek;
    return index;
  }

  /** Sorts the collections' ids and derives missing parents and subcollections. */
  private fill(collections: Map<string, string[]>, children: Map<string, Set<string>>): void {
    for (const [collection, ids] of collections) this.documents.set(collection, ids.sort(byId));
    // Documents that do not exist but have subcollections (Firestore allows them) are
    // listed too, marked missing, so every document below them can be reached.
    const grown = new Set<string[]>();
    for (const parent of children.keys()) {
      if (!parent || this.hasDocument(parent)) continue;
      const cut = parent.lastIndexOf('/');
      const collection = parent.slice(0, cut);
      const ids = this.documents.get(collection) ?? [];
      ids.push(parent.slice(cut + 1));
      this.documents.set(collection, ids);
      this.missing.add(parent);
      grown.add(ids);
    }
    // Sorted once per collection that gained some (not one insertion each).
    for (const ids of grown) ids.sort(byId);
    for (const [parent, set] of children) this.children.set(parent, [...set].sort(byId));
  }

  /**
   * Records a collection under its parent document, and so on up to the root, so the
   * subcollections of documents that do not exist themselves are still reachable.
   */
  private static link(children: Map<string, Set<string>>, collection: string): void {
    let path = collection;
    for (;;) {
      const cut = path.lastIndexOf('/');
      const parentDoc = cut < 0 ? '' : path.slice(0, cut);
      const set = children.get(parentDoc) ?? new Set<string>();
      children.set(parentDoc, set);
      const id = path.slice(cut + 1);
      if (set.has(id)) return;
      set.add(id);
      if (!parentDoc) return;
      path = parentDoc.slice(0, parentDoc.lastIndexOf('/'));
    }
  }

  /** The subcollections of a document ("" for the root collections), with their sizes. */
  collections(parent: string): Array<{ id: string; path: string; documents: number }> {
    return (this.children.get(parent) ?? []).map((id) => {
      const path = parent ? `${parent}/${id}` : id;
      return { id, path, documents: this.documents.get(path)?.length ?? 0 };
    });
  }

  hasCollection(path: string): boolean {
    const cut = path.lastIndexOf('/');
    const parent = cut < 0 ? '' : path.slice(0, cut);
    return (this.children.get(parent) ?? []).includes(path.slice(cut + 1));
  }

  /** A page of a collection's document ids after `cursor` (an id; the start when absent). */
  page(
    collection: string,
    cursor: string | undefined,
    limit: number,
  ): { ids: string[]; total: number; nextCursor: string | null } {
    if (!this.hasCollection(collection)) {
      throw new AppError('NOT_FOUND', `The backup holds no collection ${collection}.`);
    }
    const ids = this.documents.get(collection) ?? [];
    const start = cursor === undefined ? 0 : upperBound(ids, cursor);
    const slice = ids.slice(start, start + limit);
    const more = start + limit < ids.length;
    return { ids: slice, total: ids.length, nextCursor: more ? slice.at(-1)! : null };
  }

  /** One document, exactly as stored (typed values). */
  async document(path: string, ctx: OperationContext = {}): Promise<FirestoreDocumentRecord> {
    const held = this.payloads.get(path);
    if (held) return JSON.parse(held.toString('utf8')) as FirestoreDocumentRecord;
    if (!this.hasDocument(path) || this.missing.has(path)) {
      throw new AppError('NOT_FOUND', `No document ${path} in ${this.backup.label}.`);
    }
    if (this.seek) return this.seek(path);
    // A saved index holds no values: the full build started beside it brings them.
    if (this.fullBuild) return (await this.fullBuild).document(path, ctx);
    return findDocument(this.backup, this.keyring, path, ctx);
  }

  /** What is saved on disk (ids only, no values), see index-store.ts. */
  toSaved(): SavedIndex {
    return {
      totalDocuments: this.totalDocuments,
      collections: [...this.documents],
      children: [...this.children],
      missing: [...this.missing],
    };
  }

  /**
   * An index loaded from disk: pages answer at once; documents come from `fullBuild`
   * (a full authenticated read started beside it) once it is done.
   */
  static fromSaved(
    saved: SavedIndex,
    backup: ResolvedBackup,
    keyring: Keyring,
    fullBuild: Promise<BackupIndex>,
  ): BackupIndex {
    const index = new BackupIndex(backup, keyring);
    for (const [path, ids] of saved.collections) index.documents.set(path, ids);
    for (const [parent, ids] of saved.children) index.children.set(parent, ids);
    for (const path of saved.missing) index.missing.add(path);
    index.totalDocuments = saved.totalDocuments;
    index.payloadsKept = false;
    index.fullBuild = fullBuild;
    // Nobody may be waiting on it yet: an error is reported by document(), not unhandled.
    fullBuild.catch(() => undefined);
    return index;
  }

  /**
   * Documents the predicate keeps, per root collection (subcollections included), in
   * root order: what a restore of a selection would read.
   */
  countByRoot(keep: (path: string) => boolean): Array<{ collection: string; documents: number }> {
    const counts = new Map<string, number>();
    for (const [collection, ids] of this.documents) {
      const root = collection.split('/', 1)[0]!;
      let n = 0;
      for (const id of ids) {
        const path = `${collection}/${id}`;
        if (!this.missing.has(path) && keep(path)) n++;
      }
      if (n) counts.set(root, (counts.get(root) ?? 0) + n);
    }
    return [...counts]
      .sort(([a], [b]) => byId(a, b))
      .map(([collection, documents]) => ({ collection, documents }));
  }

  /** A listed document that is not in the backup itself, only its subcollections are. */
  isMissing(path: string): boolean {
    return this.missing.has(path);
  }

  /** How many subcollections a document has in the backup. */
  subcollectionCount(path: string): number {
    return this.children.get(path)?.length ?? 0;
  }

  hasDocument(path: string): boolean {
    const cut = path.lastIndexOf('/');
    const ids = this.documents.get(path.slice(0, cut));
    if (!ids) return false;
    const id = path.slice(cut + 1);
    const at = upperBound(ids, id) - 1;
    return at >= 0 && ids[at] === id;
  }
}

/** The ids of a backup's collections, as saved (encrypted) in the local browse cache. */
export interface SavedIndex {
  totalDocuments: number;
  collections: Array<[string, string[]]>;
  children: Array<[string, string[]]>;
  missing: string[];
}

/** 128 MiB of decrypted documents per backup held in memory, at most (three backups). */
export const DEFAULT_PAYLOAD_BUDGET = 128 * 1024 * 1024;

/** The first position whose id sorts after `id`. */
export function upperBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byId(ids[mid]!, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
