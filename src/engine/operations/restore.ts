import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import type { Keyring } from '../keys/keyring.js';
import { openFirestore, type OpenFirestoreOptions } from '../sources/firestore/connection.js';
import { isUnder, normaliseSelection } from '../sources/firestore/paths.js';
import {
  restoreDocuments,
  type RestoreMode,
  type RestoreReport,
} from '../sources/firestore/restore.js';
import { fromFsError } from '../util/fs-errors.js';
import {
  BackupScanner,
  openBoundScanner,
  scanToEnd,
  type ScannedDocument,
} from './backup-scanner.js';
import { openSalvageScanner, type SalvageSummary } from './restore-salvage.js';
import { PassBinding } from './bind-to-manifest.js';
import { ProgressMeter } from './progress-meter.js';
import { extraDocuments } from './restore-mirror.js';
import {
  CollectionFileNames,
  makePrivateDir,
  PrivateFile,
  sweepStaleTemporaries,
  temporaryFor,
  writePrivateFile,
} from './restore-files.js';
import type { ResolvedBackup } from './resolve-backup.js';
import {
  restoreOtherSources,
  type OtherSourcesReport,
  type OtherSourcesTargets,
} from './restore-sources.js';
import type { ScannedRecord, SourceName } from './source-records.js';
import { OtherSourcesDirWriter, type OtherSourcesDirSummary } from './to-dir-sources.js';
import type { OperationContext } from './types.js';

export type { RestoreMode };

interface RestoreCommon {
  backup: ResolvedBackup;
  keyring: Keyring;
  /** Collections (root ids or path prefixes) to restore; all when empty. */
  collections?: string[];
  /** Document or collection paths to restore; all when empty. */
  paths?: string[];
  /** Which of the backup's sources to restore; all when absent. */
  sources?: SourceName[];
  /**
   * restore --salvage: restore what authenticates from a damaged archive, in one pass
   * (restore-salvage.ts); the report's `salvage` says what was skipped.
   */
  salvage?: boolean;
}

/** The documents to restore, from a verified archive or, with --salvage, a damaged one. */
interface DocumentSource {
  scanner: BackupScanner;
  documents: () => AsyncGenerator<ScannedDocument>;
  /** Every source's records (not with salvage, which reads Firestore documents only). */
  records?: () => AsyncGenerator<ScannedRecord>;
  salvage?: () => SalvageSummary;
  /** Where the backup was taken from when its header may be lost (salvage: the manifest's). */
  origin?: { project: string; database: string } | undefined;
}

async function openSource(
  opts: RestoreCommon,
  ctx: OperationContext,
  meter: ProgressMeter,
): Promise<DocumentSource> {
  if (opts.salvage) {
    meter.startPhase('restoring');
    const { scanner, documents, summary, origin } = await openSalvageScanner(
      opts.backup,
      opts.keyring,
      ctx,
    );
    return { scanner, documents, salvage: summary, origin };
  }
  const scanner = await verifyFirst(opts, ctx, meter);
  return {
    scanner,
    documents: () => scanner.documents(),
    records: () => scanner.records(),
  };
}

export interface RestoreToFirestoreOptions extends RestoreCommon {
  target: OpenFirestoreOptions;
  mode: RestoreMode;
  dryRun?: boolean;
  concurrency?: number;
}

/**
 * Authenticates the whole archive first, then streams it a second time into the target:
 * an archive that fails anywhere writes nothing. Both passes run in constant memory.
 * The archive must be the one its backup describes (bind-to-manifest.ts), and the second
 * read is bound to the first segment by segment, so storage that serves other bytes the
 * second time is caught before any record of them is released.
 */
async function verifyFirst(
  opts: RestoreCommon,
  ctx: OperationContext,
  meter: ProgressMeter,
): Promise<BackupScanner> {
  meter.startPhase('verifying');
  const pass = new PassBinding(opts.backup.label);
  const { scanner: check, binding } = await openBoundScanner(opts.backup, opts.keyring, ctx, {
    meter,
    pass,
  });
  const { documents } = await scanToEnd(check);
  pass.firstPassDone(check.summary!);
  meter.startPhase('restoring', documents);
  return new BackupScanner(opts.backup, opts.keyring, {
    binding,
    pass,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

/** Keeps the documents under every given list (collections, paths); all when a list is empty. */
export function restoreSelector(
  opts: Pick<RestoreCommon, 'collections' | 'paths'>,
): (path: string) => boolean {
  const lists = [opts.collections, opts.paths].map(
    (l) => normaliseSelection({ collections: l ?? [] }).include,
  );
  return (path) => lists.every((list) => !list || list.some((prefix) => isUnder(path, prefix)));
}

async function* selected(
  source: DocumentSource,
  opts: RestoreCommon,
  /** Receives the records of the other sources chosen (Auth, Storage), in order. */
  onOther?: (record: Exclude<ScannedRecord, { kind: 'firestore' }>) => Promise<void>,
): AsyncGenerator<{ doc: FirestoreDocumentRecord; json: Buffer }> {
  const keep = restoreSelector(opts);
  const wanted = (name: SourceName): boolean => !opts.sources || opts.sources.includes(name);
  if (!source.records) {
    // Salvage reads Firestore documents only.
    if (!wanted('firestore')) return;
    for await (const item of source.documents()) if (keep(item.doc.path)) yield item;
    return;
  }
  for await (const item of source.records()) {
    if (item.kind !== 'firestore') {
      const name = item.kind.startsWith('auth') ? 'auth' : 'storage';
      if (onOther && wanted(name)) await onOther(item);
    } else if (wanted('firestore') && keep(item.doc.path)) yield item;
  }
}

export async function restoreToFirestore(
  opts: RestoreToFirestoreOptions,
  ctx: OperationContext = {},
): Promise<RestoreReport & { backup: string; target: string; salvage?: SalvageSummary }> {
  const meter = new ProgressMeter(ctx.onProgress, 'verifying');
  const source = await openSource(opts, ctx, meter);
  const scanner = source.scanner;
  const conn = await openFirestore(opts.target);
  // Mirror: the archive's paths, to tell the target's extra documents (memory grows
  // with the number of documents restored: about 100 bytes each).
  const present = opts.mode === 'mirror' ? new Set<string>() : undefined;
  try {
    const docs = (async function* () {
      for await (const { doc } of selected(source, opts)) {
        present?.add(doc.path);
        yield doc;
      }
    })();
    const extras = (): AsyncIterable<string> =>
      extraDocuments(
        conn,
        {
          collections: opts.collections ?? [],
          paths: opts.paths ?? [],
          backup: scanner.header?.selection ?? { collections: [], exclude: [] },
        },
        present ?? new Set(),
        ctx.signal,
      );
    // The header is read with the first record, before any document reaches the writer.
    const report = await restoreDocuments(conn, docs, {
      mode: opts.mode,
      dryRun: opts.dryRun ?? false,
      ...(present ? { extras } : {}),
      // Salvage may have lost the header: the manifest then says where references point.
      sourceDocumentsRoot: () => {
        const from = scanner.header ?? source.origin;
        return from ? `projects/${from.project}/databases/${from.database}/documents` : undefined;
      },
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onProgress: (done: number) => meter.add(done),
    });
    meter.done();
    return {
      ...report,
      backup: opts.backup.label,
      target: `${conn.projectId}/${conn.databaseId}`,
      ...(source.salvage ? { salvage: source.salvage() } : {}),
    };
  } finally {
    // Closing must not hide the error that got us here (gax can throw on close, e.g.
    // when it never found credentials).
    await conn.close().catch(() => undefined);
  }
}

/**
 * Restores the Auth and Storage sections of a backup (those named in `targets.sources`)
 * after verifying the whole archive, like every restore.
 */
export async function restoreSourcesToProject(
  opts: RestoreCommon & { targets: OtherSourcesTargets },
  ctx: OperationContext = {},
): Promise<OtherSourcesReport & { backup: string }> {
  const meter = new ProgressMeter(ctx.onProgress, 'verifying');
  const scanner = await verifyFirst(opts, ctx, meter);
  const report = await restoreOtherSources(scanner, opts.targets, {
    meter,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  meter.done();
  return { ...report, backup: opts.backup.label };
}

export interface RestoreToDirOptions extends RestoreCommon {
  directory: string;
}

export interface RestoreToDirReport {
  backup: string;
  directory: string;
  documents: number;
  /** One file per root collection: `collection` is the real id, `file` its name in the folder. */
  files: Array<{ collection: string; file: string; documents: number }>;
  /** Temporary folders of earlier killed restores into the same folder, removed first. */
  sweptTemporaries: string[];
  /** Auth users and Storage objects written, when the backup holds them. */
  sources: OtherSourcesDirSummary;
  /** restore --salvage: what was skipped. */
  salvage?: SalvageSummary;
}

/**
 * The offline restore: decrypted NDJSON, one file per root collection (documents of its
 * subcollections included, each line carrying its full path), plus backup.json, whose
 * index maps every real collection id to its file. Written owner-only into a hidden
 * folder that is renamed into place only when every byte was written: any write error
 * fails the restore and removes the folder.
 */
export async function restoreToDir(
  opts: RestoreToDirOptions,
  ctx: OperationContext = {},
): Promise<RestoreToDirReport> {
  const target = path.resolve(opts.directory);
  await assertEmptyOrMissing(target);
  const sweptTemporaries = await sweepStaleTemporaries(target);
  const meter = new ProgressMeter(ctx.onProgress, 'verifying');
  const source = await openSource(opts, ctx, meter);
  const scanner = source.scanner;
  const temp = temporaryFor(target);
  const names = new CollectionFileNames();
  const outputs = new Map<string, { out: PrivateFile; file: string; documents: number }>();
  const others = new OtherSourcesDirWriter(temp);
  try {
    await makePrivateDir(temp);
    let documents = 0;
    for await (const { doc, json } of selected(source, opts, (r) => others.write(r))) {
      const collection = doc.path.slice(0, doc.path.indexOf('/'));
      let output = outputs.get(collection);
      if (!output) {
        const file = names.nameFor(collection);
        output = { out: await PrivateFile.create(path.join(temp, file)), file, documents: 0 };
        outputs.set(collection, output);
      }
      await output.out.write(Buffer.concat([json, NEWLINE]));
      output.documents++;
      documents++;
      meter.add(1, json.length);
    }
    for (const { out } of outputs.values()) await out.close();
    const sources = await others.close();
    const files = [...outputs].map(([collection, o]) => ({
      collection,
      file: o.file,
      documents: o.documents,
    }));
    const salvage = source.salvage?.();
    await writePrivateFile(
      path.join(temp, 'backup.json'),
      `${JSON.stringify({ header: scanner.header, trailer: scanner.summary?.trailer, documents, files, sources, ...(salvage ? { salvage } : {}) }, null, 2)}\n`,
    );
    await rmdir(target).catch(() => undefined);
    await rename(temp, target);
    meter.done();
    return {
      backup: opts.backup.label,
      directory: target,
      documents,
      files,
      sweptTemporaries,
      sources,
      ...(salvage ? { salvage } : {}),
    };
  } catch (error) {
    for (const { out } of outputs.values()) out.destroy();
    others.destroy();
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (isAppError(error)) throw error;
    throw fromFsError(error, `Cannot write the restore into ${target}`);
  }
}

const NEWLINE = Buffer.from('\n');

export async function assertEmptyOrMissing(dir: string): Promise<void> {
  try {
    const entries = await readdir(dir);
    if (entries.length > 0) {
      throw new AppError(
        'ALREADY_EXISTS',
        `${dir} is not empty. Restore into a new or empty folder so nothing there is overwritten.`,
      );
    }
  } catch (error) {
    if (isAppError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromFsError(error, `Cannot use ${dir} as the restore folder`);
  }
}
