import type { BackupHeader, BackupSelection } from '../../shared/backups.js';
import { AppError } from '../../shared/errors.js';
import { RECORD_PREFIX_LENGTH, RecordType } from '../archive/records.js';
import { ArchiveWriter, DEFAULT_QUALITY } from '../archive/writer.js';
import {
  DIRECTORY_MAX_DOCUMENTS,
  DIRECTORY_MAX_ID_BYTES,
  DirectoryBuilder,
  putBrowseDirectory,
  sealBrowseDirectory,
} from '../browse/directory.js';
import type { Keyring } from '../keys/keyring.js';
import type { OpenFirestoreOptions } from '../sources/firestore/connection.js';
import type { FileSink, StorageBackend } from '../storage/backend.js';
import { APP_VERSION } from '../version.js';
import { archiveKeyOf, browseDirectoryKeyOf, manifestKeyOf, newBackupId } from './backup-names.js';
import {
  rtdbSelection,
  storageSelection,
  writeOtherSources,
  type OtherSourcesOptions,
  type StorageSelection,
} from './backup-sources.js';
import { CrossChecks, type CrossCheckReport } from './cross-checks.js';
import { manifestFor, writeManifest } from './manifest.js';
import { preflight } from './preflight.js';
import { preflightSources, probeRequestOf } from './source-probes.js';
import { ProgressMeter } from './progress-meter.js';
import type { OperationContext } from './types.js';

export interface BackupOptions extends OtherSourcesOptions {
  destination: StorageBackend;
  keyring: Keyring;
  source: OpenFirestoreOptions;
  /** Root collection ids or path prefixes to include (all when empty). */
  collections?: string[];
  /** Root collection ids or path prefixes to leave out. */
  exclude?: string[];
  /** Brotli quality 0–11. */
  quality?: number;
  blockSize?: number;
  now?: () => Date;
  /** The schedule making this backup, recorded in its manifest (retention's scope). */
  scheduleId?: string;
  /** An empty backup is expected (no warning). */
  allowEmpty?: boolean;
  /**
   * Write the browse directory beside the archive (default true; docs/design.md §7).
   * Off only to measure what it costs, or to make a backup as older versions did.
   */
  browseDirectory?: boolean;
}

export interface BackupResult {
  id: string;
  archiveKey: string;
  manifestKey: string;
  destination: string;
  project: string;
  database: string;
  readTime: string;
  keyId: string;
  /** The sources the backup holds, in archive order. */
  sources: string[];
  counts: Record<string, number>;
  documents: number;
  /** Bytes of records before compression. */
  plaintextBytes: number;
  /** Bytes stored. */
  archiveBytes: number;
  durationMs: number;
  selection: BackupSelection;
  /** Things the user should hear about although the backup succeeded (an empty backup). */
  warnings: string[];
  /** Cross-checks between its sources (cross-checks.ts), when it holds two to compare. */
  crossChecks?: CrossCheckReport;
}

/** What to tell a user whose backup holds no document (almost always a wrong selection). */
export function emptyBackupWarning(
  project: string,
  database: string,
  selection: BackupSelection,
): string {
  const what = selection.collections.length
    ? `collections ${selection.collections.join(', ')}`
    : 'the database';
  return `The backup holds no documents: ${what} of ${project}/${database} had none at the read time. Check the project, --database and --collections; pass --allow-empty if an empty backup is expected. Retention never lets an unexpected empty backup replace a real one.`;
}

/**
 * One backup of one Firestore database: every document at one read time, streamed
 * through the archive writer into the destination. The archive becomes visible only
 * when complete, and the manifest that makes `list` show it is written last, after the
 * stored size was checked. On any failure or cancellation nothing visible is left.
 */
export async function runBackup(
  options: BackupOptions,
  ctx: OperationContext = {},
): Promise<BackupResult> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const key = options.keyring.current();
  const { destination } = options;
  const createdAt = now();
  const id = newBackupId(createdAt);
  const archiveKey = archiveKeyOf(id);
  const quality = options.quality ?? DEFAULT_QUALITY;
  const selection = { collections: options.collections ?? [], exclude: options.exclude ?? [] };
  const meter = new ProgressMeter(ctx.onProgress, 'checking destination');
  meter.flush();

  // Nothing billed happens before we know the result can be kept.
  await preflight(destination, options.keyring, ctx.signal);
  meter.setPhase('connecting');
  const sources = options.sources ?? ['firestore'];
  // Every source asked for must be readable before any of them is read.
  await preflightSources(sources, probeRequestOf(options));
  // Without Firestore there is no connection and no read time but the start. Its client
  // (google-gax, protobufjs, gRPC) is loaded only then: ~0.2 s of CPU a backup of other
  // sources alone would spend before its first byte.
  const firestore = sources.includes('firestore')
    ? await import('../sources/firestore/export.js')
    : undefined;
  const conn = firestore
    ? await (await import('../sources/firestore/connection.js')).openFirestore(options.source)
    : undefined;
  let writer: ArchiveWriter | undefined;
  let upload: Promise<unknown> | undefined;
  /** The archive's file, where the destination is a local folder (ADR 0029). */
  let file: FileSink | undefined;
  try {
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    const readTime =
      conn && firestore ? await firestore.chooseReadTime(conn, signal) : createdAt.toISOString();
    meter.startPhase('reading');
    if (conn && firestore) {
      void firestore
        .countDocuments(conn, { ...selection, readTime, ...signal })
        .then((total) => meter.setTotal(total))
        .catch(() => undefined); // the count only feeds the ETA
    }
    const storage: StorageSelection | undefined =
      sources.includes('storage') && options.storage
        ? await storageSelection(options.source.projectId, options.storage)
        : undefined;
    const rtdb =
      sources.includes('rtdb') && options.rtdb
        ? await rtdbSelection(options.source.projectId, options.rtdb)
        : undefined;

    // A local folder's archive is written in place by the sealing thread, with no
    // stream between (ADR 0029); other destinations take the writer's output.
    file = await destination.openFile?.(archiveKey);
    writer = new ArchiveWriter({
      key,
      quality,
      // Digests and encryption beside the reading, not after it (ADR 0009).
      sealOffThread: true,
      ...(file ? { file } : {}),
      ...(options.blockSize ? { blockSize: options.blockSize } : {}),
    });
    if (!file) {
      const active = writer;
      upload = destination.put(archiveKey, writer.output, ctx.signal ? { signal: ctx.signal } : {});
      // If the destination fails first, stop the producer at its next write.
      upload.catch((error: unknown) =>
        active.abort(error instanceof Error ? error : new Error(String(error))),
      );
    }

    const header: BackupHeader = {
      format: 1,
      backupId: id,
      app: `firebackup ${APP_VERSION}`,
      createdAt: createdAt.toISOString(),
      project: options.source.projectId,
      database: options.source.databaseId ?? '(default)',
      sources,
      readTime,
      selection,
      ...(storage ? { storage } : {}),
      ...(rtdb ? { rtdb } : {}),
      compression: { algorithm: 'brotli', quality },
    };
    await writer.writeJson(RecordType.BackupHeader, header);
    const checks = new CrossChecks({ sources, storage });
    // Where each document's record is, for the browse directory (docs/design.md §7).
    const directory = options.browseDirectory === false ? undefined : new DirectoryBuilder();
    let plaintextBytes = 0;
    for await (const doc of conn && firestore
      ? firestore.exportDocuments(conn, {
          ...selection,
          readTime,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        })
      : []) {
      if (ctx.signal?.aborted)
        throw new AppError('CANCELLED', 'The backup was cancelled; nothing was kept.');
      const position = writer.recordOffset;
      const bytes = await writer.writeText(RecordType.FirestoreDocument, JSON.stringify(doc));
      directory?.add(doc.path, position, RECORD_PREFIX_LENGTH + bytes);
      plaintextBytes += bytes;
      meter.add(1, bytes);
      checks.noteDocument(doc);
    }
    await writeOtherSources(
      writer,
      options.source.projectId,
      options,
      storage,
      { meter, checks, ...(ctx.signal ? { signal: ctx.signal } : {}) },
      rtdb,
    );
    meter.setPhase('finishing');
    const written = await writer.finish();
    // Sealed while the upload completes and is checked (its compression runs on the pool).
    const entries = directory?.build(id, { size: written.archiveBytes, layout: written.layout });
    const sealing = entries ? sealBrowseDirectory(key, entries) : undefined;
    sealing?.catch(() => undefined); // awaited below
    if (file) {
      // finish() returned once nothing writes into the file any more.
      const complete = file;
      file = undefined; // commit cleans up after itself if it fails
      await complete.commit();
    }
    await upload;

    // Read back what storage holds before the backup counts as done.
    const stored = await destination.stat(archiveKey);
    if (stored.size !== written.archiveBytes) {
      throw new AppError(
        'INTEGRITY',
        `The destination holds ${stored.size} bytes for ${archiveKey} but ${written.archiveBytes} were written. The backup was discarded; try again.`,
      );
    }
    const warnings: string[] = [];
    if (sealing) {
      await putBrowseDirectory(destination, id, await sealing, ctx.signal);
    } else if (directory) {
      warnings.push(
        `No browse directory was written: the backup has more documents or longer ids than one holds (${DIRECTORY_MAX_DOCUMENTS.toLocaleString('en')} documents, ${DIRECTORY_MAX_ID_BYTES / 1024 / 1024} MiB of paths). The backup is complete; browsing it in the app reads it in full the first time.`,
      );
    }
    const counts = written.trailer.counts;
    const manifest = manifestFor(
      header,
      written,
      key.id,
      now(),
      options.scheduleId,
      Boolean(options.rtdb?.instances?.length),
    );
    await writeManifest(destination, manifest, key);
    meter.done();
    const documents = counts['firestore.documents'] ?? 0;
    return {
      id,
      archiveKey,
      manifestKey: manifestKeyOf(id),
      destination: destination.displayUrl,
      project: header.project,
      database: header.database,
      readTime,
      keyId: key.id,
      sources,
      counts,
      documents,
      plaintextBytes,
      archiveBytes: written.archiveBytes,
      durationMs: performance.now() - started,
      // As recorded in the manifest (with the sources): the backup's retention scope.
      selection: manifest.selection ?? selection,
      // An empty Firestore selection is the suspicious case; a backup without Firestore is not.
      warnings: [
        ...(conn && documents === 0 && !options.allowEmpty
          ? [emptyBackupWarning(header.project, header.database, selection)]
          : []),
        ...warnings,
      ],
      ...(checks.active ? { crossChecks: checks.report()! } : {}),
    };
  } catch (error) {
    const reason = ctx.signal?.aborted
      ? new AppError('CANCELLED', 'The backup was cancelled; nothing was kept.')
      : error;
    writer?.abort(reason instanceof Error ? reason : new Error(String(reason)));
    await upload?.catch(() => undefined);
    if (file) {
      // Closed only once the sealing thread has stopped: it may be writing into it.
      await writer?.stopped();
      await file.abort();
    }
    // The archive may have been stored before a later step failed: remove it so only
    // complete, checked backups remain (it is invisible to `list` either way).
    await destination.delete(archiveKey).catch(() => undefined);
    await destination.delete(browseDirectoryKeyOf(id)).catch(() => undefined);
    throw reason;
  } finally {
    // Closing must not hide the error that got us here (gax can throw on close, e.g.
    // when it never found credentials).
    await conn?.close().catch(() => undefined);
  }
}
