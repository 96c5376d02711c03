import type { BackupHeader } from '../../shared/backups.js';
import { AppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import type { Keyring } from '../keys/keyring.js';
import { openBoundScanner } from './backup-scanner.js';
import { bindingReport } from './bind-to-manifest.js';
import { CrossChecks, type CrossCheckReport } from './cross-checks.js';
import { SourceTally, type SourceCounts } from './source-tally.js';
import { ProgressMeter } from './progress-meter.js';
import type { ResolvedBackup } from './resolve-backup.js';
import type { OperationContext } from './types.js';

export interface CollectionCount {
  /** A collection path with document ids replaced by "{id}": "users/{id}/orders". */
  collection: string;
  documents: number;
}

export interface InspectReport {
  backup: string;
  header: BackupHeader;
  documents: number;
  /** Documents per root collection, subcollections included. */
  rootCollections: Array<{ collection: string; documents: number }>;
  /** Documents per collection shape, every depth. */
  collections: CollectionCount[];
  /** Whether the archive was checked against its manifest, and what was not checked. */
  binding: { manifest: boolean; note?: string };
  /** Auth users and Storage objects (per bucket), when the backup holds them. */
  sources: SourceCounts;
  /** Cross-checks between the backup's sources, recomputed from the archive. */
  crossChecks?: CrossCheckReport;
}

/** The shape of a document's collection: ids replaced, so counts stay few however many docs. */
export function collectionShape(documentPath: string): string {
  const parts = documentPath.split('/');
  parts.pop();
  return parts.map((p, i) => (i % 2 === 1 ? '{id}' : p)).join('/');
}

/** Reads a backup (authenticating all of it) and counts what it holds, without restoring. */
export async function inspectBackup(
  backup: ResolvedBackup,
  keyring: Keyring,
  ctx: OperationContext = {},
): Promise<InspectReport> {
  const meter = new ProgressMeter(ctx.onProgress, 'reading');
  const { scanner, binding } = await openBoundScanner(backup, keyring, ctx, { meter });
  const roots = new Map<string, number>();
  const shapes = new Map<string, number>();
  let documents = 0;
  const tally = new SourceTally();
  let checks: CrossChecks | undefined;
  for await (const record of scanner.records()) {
    // The header has been read with the first record.
    checks ??= new CrossChecks({
      sources: scanner.header!.sources,
      storage: scanner.header!.storage,
      examples: INSPECT_EXAMPLES,
    });
    if (record.kind === 'auth-user') checks.noteUser(record.record.localId);
    if (record.kind === 'storage-object') {
      checks.noteObject(record.record.bucket, record.record.name);
    }
    if (record.kind !== 'firestore') {
      tally.add(record);
      continue;
    }
    const { doc } = record;
    checks.noteDocument(doc);
    documents++;
    const root = doc.path.slice(0, doc.path.indexOf('/'));
    roots.set(root, (roots.get(root) ?? 0) + 1);
    const shape = collectionShape(doc.path);
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
  }
  meter.done();
  const sorted = (m: Map<string, number>) =>
    [...m]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([collection, n]) => ({ collection, documents: n }));
  return {
    backup: backup.label,
    header: scanner.header!,
    documents,
    rootCollections: sorted(roots),
    collections: sorted(shapes),
    binding: bindingReport(binding),
    sources: tally.counts(),
    ...(checks?.active ? { crossChecks: checks.report()! } : {}),
  };
}

/** Findings `inspect` lists per cross-check (the backup's own output names only the counts). */
const INSPECT_EXAMPLES = 1000;

/** One document of a backup, by path, read without restoring anything. */
export async function findDocument(
  backup: ResolvedBackup,
  keyring: Keyring,
  documentPath: string,
  ctx: OperationContext = {},
): Promise<FirestoreDocumentRecord> {
  const wanted = documentPath.trim().replace(/^\/+|\/+$/g, '');
  if (!wanted || wanted.split('/').length % 2 !== 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${documentPath}" is not a document path: it needs an even number of segments, like users/alice.`,
    );
  }
  const meter = new ProgressMeter(ctx.onProgress, 'searching');
  const { scanner } = await openBoundScanner(backup, keyring, ctx, { meter });
  let found: FirestoreDocumentRecord | undefined;
  // Read to the end even after a match, so the answer comes from an authenticated archive.
  for await (const { doc } of scanner.documents()) if (doc.path === wanted) found = doc;
  meter.done();
  if (!found) throw new AppError('NOT_FOUND', `No document ${wanted} in ${backup.label}.`);
  return found;
}
