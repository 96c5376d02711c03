import { createWriteStream, type WriteStream } from 'node:fs';
import { readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import type { Keyring } from '../keys/keyring.js';
import { openFirestore, type OpenFirestoreOptions } from '../sources/firestore/connection.js';
import { isUnder, normaliseSelection } from '../sources/firestore/paths.js';
import { restoreDocuments, type RestoreReport } from '../sources/firestore/restore.js';
import { fromFsError } from '../util/fs-errors.js';
import { waitForDrain } from '../util/streams.js';
import { BackupScanner, openBoundScanner, scanToEnd } from './backup-scanner.js';
import { PassBinding } from './bind-to-manifest.js';
import { ProgressMeter } from './progress-meter.js';
import type { ResolvedBackup } from './resolve-backup.js';
import type { OperationContext } from './types.js';
import { makeDirectory } from '../util/make-directory.js';

export type RestoreMode = 'create' | 'overwrite' | 'merge';

interface RestoreCommon {
  backup: ResolvedBackup;
  keyring: Keyring;
  /** Collections (root ids or path prefixes) to restore; all when empty. */
  collections?: string[];
  /** Document or collection paths to restore; all when empty. */
  paths?: string[];
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
function selector(opts: RestoreCommon): (path: string) => boolean {
  const lists = [opts.collections, opts.paths].map(
    (l) => normaliseSelection({ collections: l ?? [] }).include,
  );
  return (path) => lists.every((list) => !list || list.some((prefix) => isUnder(path, prefix)));
}

async function* selected(
  scanner: BackupScanner,
  opts: RestoreCommon,
): AsyncGenerator<{ doc: FirestoreDocumentRecord; json: Buffer }> {
  const keep = selector(opts);
  for await (const item of scanner.documents()) {
    if (keep(item.doc.path)) yield item;
  }
}

export async function restoreToFirestore(
  opts: RestoreToFirestoreOptions,
  ctx: OperationContext = {},
): Promise<RestoreReport & { backup: string; target: string }> {
  const meter = new ProgressMeter(ctx.onProgress, 'verifying');
  const scanner = await verifyFirst(opts, ctx, meter);
  const conn = await openFirestore(opts.target);
  try {
    const docs = (async function* () {
      for await (const { doc } of selected(scanner, opts)) yield doc;
    })();
    // The header is read with the first record, before any document reaches the writer.
    const report = await restoreDocuments(conn, docs, {
      mode: opts.mode,
      dryRun: opts.dryRun ?? false,
      sourceDocumentsRoot: () =>
        scanner.header
          ? `projects/${scanner.header.project}/databases/${scanner.header.database}/documents`
          : undefined,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onProgress: (done: number) => meter.add(done),
    });
    meter.done();
    return { ...report, backup: opts.backup.label, target: `${conn.projectId}/${conn.databaseId}` };
  } finally {
    // Closing must not hide the error that got us here (gax can throw on close, e.g.
    // when it never found credentials).
    await conn.close().catch(() => undefined);
  }
}

export interface RestoreToDirOptions extends RestoreCommon {
  directory: string;
}

export interface RestoreToDirReport {
  backup: string;
  directory: string;
  documents: number;
  files: Array<{ collection: string; file: string; documents: number }>;
}

/** A file name for a root collection id that is safe on every file system. */
export function fileNameForCollection(id: string): string {
  const safe = encodeURIComponent(id).replace(/\*/g, '%2A').replace(/^\./, '%2E');
  return `${safe}.ndjson`;
}

/**
 * The offline restore: decrypted NDJSON, one file per root collection (documents of its
 * subcollections included, each line carrying its full path), plus backup.json. Written
 * into a hidden folder that is renamed into place only when complete.
 */
export async function restoreToDir(
  opts: RestoreToDirOptions,
  ctx: OperationContext = {},
): Promise<RestoreToDirReport> {
  const target = path.resolve(opts.directory);
  await assertEmptyOrMissing(target);
  const meter = new ProgressMeter(ctx.onProgress, 'verifying');
  const scanner = await verifyFirst(opts, ctx, meter);
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.fbtmp-${randomBytes(4).toString('hex')}`,
  );
  const streams = new Map<string, { stream: WriteStream; file: string; documents: number }>();
  try {
    await makeDirectory(temp); // not mkdir -p: it spins forever under /proc
    let documents = 0;
    for await (const { doc, json } of selected(scanner, opts)) {
      const collection = doc.path.slice(0, doc.path.indexOf('/'));
      let out = streams.get(collection);
      if (!out) {
        const file = fileNameForCollection(collection);
        out = {
          stream: createWriteStream(path.join(temp, file), { flags: 'wx' }),
          file,
          documents: 0,
        };
        out.stream.on('error', () => undefined); // surfaced by write/close below
        streams.set(collection, out);
      }
      out.documents++;
      documents++;
      if (!out.stream.write(Buffer.concat([json, NEWLINE]))) await waitForDrain(out.stream);
      meter.add(1, json.length);
    }
    for (const { stream } of streams.values()) await closeStream(stream);
    const files = [...streams].map(([collection, s]) => ({
      collection,
      file: s.file,
      documents: s.documents,
    }));
    await writeFile(
      path.join(temp, 'backup.json'),
      `${JSON.stringify({ header: scanner.header, trailer: scanner.summary?.trailer, documents, files }, null, 2)}\n`,
    );
    await rmdir(target).catch(() => undefined);
    await rename(temp, target);
    meter.done();
    return { backup: opts.backup.label, directory: target, documents, files };
  } catch (error) {
    for (const { stream } of streams.values()) stream.destroy();
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (isAppError(error)) throw error;
    throw fromFsError(error, `Cannot write the restore into ${target}`);
  }
}

const NEWLINE = Buffer.from('\n');

async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

async function assertEmptyOrMissing(dir: string): Promise<void> {
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
