/**
 * Restore: archived objects into a bucket (the one they came from or another), each
 * streamed from its content records into an upload, never held whole. create skips
 * objects whose name exists (and, on Cloud Storage, uploads with ifGenerationMatch=0 so
 * one created meanwhile is not replaced); overwrite replaces them. The bytes sent are
 * checked against the archived size and digests, and the digests the service reports
 * for what it stored against the archived ones: an object that does not match is
 * deleted again and reported. Per-object failures are reported by name.
 */
import type { Bucket, CreateWriteStreamOptions } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, isAppError, type ErrorCode } from '../../../shared/errors.js';
import { gcsError } from '../../storage/gcs/errors.js';
import { emptyTally, noteFailure, type RestoreTally } from '../restore-tally.js';
import { ObjectDigest, type StorageItem, type StorageObjectRecord } from './records.js';

export type StorageRestoreMode = 'create' | 'overwrite';

export interface RestoreObjectsOptions {
  mode: StorageRestoreMode;
  dryRun?: boolean;
  /** Resumable uploads (Cloud Storage); single requests against the emulator. */
  resumable: boolean;
  /** Whether the service honours ifGenerationMatch (the emulator ignores it). */
  preconditions?: boolean;
  signal?: AbortSignal;
  /** Called per object finished, with its byte count. */
  onProgress?: (objects: number, bytes: number) => void;
}

export interface StorageRestoreFailure {
  name: string;
  code: ErrorCode;
  message: string;
}

export interface StorageRestoreReport extends RestoreTally<StorageRestoreFailure> {
  bytes: number;
}

/** The metadata a client may set on upload, from an archived object. */
function writableMetadata(record: StorageObjectRecord): Record<string, unknown> {
  const keys = [
    'contentType',
    'cacheControl',
    'contentDisposition',
    'contentEncoding',
    'contentLanguage',
    'customTime',
    'metadata',
  ] as const;
  return Object.fromEntries(keys.filter((k) => record[k] !== undefined).map((k) => [k, record[k]]));
}

function corrupt(message: string): AppError {
  return new AppError('ARCHIVE_CORRUPT', message);
}

interface ObjectEntry {
  record: StorageObjectRecord;
  content: AsyncGenerator<Buffer>;
}

/**
 * Groups the flat item stream into objects with their content. The consumer may read
 * an object's content, part of it, or none: what it leaves is skipped before the next
 * object, so one failed upload does not derail the stream.
 */
export async function* groupObjects(
  items: AsyncIterable<StorageItem>,
): AsyncGenerator<ObjectEntry> {
  const it = items[Symbol.asyncIterator]();
  let remaining = 0;
  const pull = async (name: string): Promise<Buffer> => {
    const next = await it.next();
    if (next.done || next.value.kind !== 'content') {
      throw corrupt(`The archive ends or moves on inside the content of Storage object ${name}.`);
    }
    remaining -= next.value.bytes.length;
    if (remaining < 0) throw corrupt(`Storage object ${name} has more content than its size.`);
    return next.value.bytes;
  };
  for (let step = await it.next(); !step.done; step = await it.next()) {
    if (step.value.kind !== 'object') throw corrupt('Storage content without its object record.');
    const { record } = step.value;
    remaining = Number(record.size);
    const content = (async function* () {
      while (remaining > 0) yield await pull(record.name);
    })();
    yield { record, content };
    while (remaining > 0) await pull(record.name);
  }
}

export async function restoreObjects(
  bucket: Bucket,
  items: AsyncIterable<StorageItem>,
  options: RestoreObjectsOptions,
): Promise<StorageRestoreReport> {
  const report: StorageRestoreReport = { ...emptyTally(options.dryRun), bytes: 0 };
  for await (const { record, content } of groupObjects(items)) {
    if (options.signal?.aborted) throw new AppError('CANCELLED', 'The restore was cancelled.');
    const file = bucket.file(record.name);
    const where = `gs://${bucket.name}/${record.name}`;
    let exists: boolean;
    try {
      [exists] = await file.exists();
    } catch (error) {
      throw gcsError(error, `Cannot check ${where}`, []);
    }
    if (report.planned) {
      report.planned[exists ? (options.mode === 'create' ? 'skip' : 'overwrite') : 'create']++;
      continue;
    }
    if (exists && options.mode === 'create') {
      report.skipped++;
      continue;
    }
    try {
      await uploadOne(bucket, record, content, options, exists);
      report[exists ? 'overwritten' : 'created']++;
      report.bytes += Number(record.size);
      options.onProgress?.(1, Number(record.size));
    } catch (error) {
      if (options.signal?.aborted) throw new AppError('CANCELLED', 'The restore was cancelled.');
      // A damaged archive stops everything; a refused object is reported and skipped.
      if (isAppError(error) && error.code === 'ARCHIVE_CORRUPT') throw error;
      // Created by someone else since the existence check: create mode leaves it alone.
      if (options.mode === 'create' && (error as { code?: unknown }).code === 412) {
        report.skipped++;
        continue;
      }
      const failure = isAppError(error) ? error : gcsError(error, `Cannot upload ${where}`, []);
      noteFailure(report, { name: record.name, code: failure.code, message: failure.message });
    }
  }
  return report;
}

async function uploadOne(
  bucket: Bucket,
  record: StorageObjectRecord,
  content: AsyncGenerator<Buffer>,
  options: RestoreObjectsOptions,
  exists: boolean,
): Promise<void> {
  const file = bucket.file(record.name);
  const where = `gs://${bucket.name}/${record.name}`;
  const sent = new ObjectDigest(record);
  const writeOptions: CreateWriteStreamOptions = {
    resumable: options.resumable,
    validation: false, // compared below, against the archive's digests
    metadata: writableMetadata(record),
    ...(!exists && options.preconditions !== false
      ? { preconditionOpts: { ifGenerationMatch: 0 } }
      : {}),
  };
  const body = Readable.from(
    (async function* () {
      for await (const chunk of content) {
        sent.update(chunk);
        yield chunk;
      }
    })(),
  );
  await pipeline(
    body,
    file.createWriteStream(writeOptions),
    options.signal ? { signal: options.signal } : {},
  );
  const fromArchive = sent.mismatch();
  if (fromArchive) {
    await file.delete().catch(() => undefined);
    throw corrupt(`The archive's content of ${record.name} is ${fromArchive}.`);
  }
  const stored = file.metadata as { size?: unknown; md5Hash?: string; crc32c?: string };
  const differs =
    String(stored.size) !== record.size ||
    (record.md5Hash && stored.md5Hash && stored.md5Hash !== record.md5Hash) ||
    (record.crc32c && stored.crc32c && stored.crc32c !== record.crc32c);
  if (differs) {
    await file.delete().catch(() => undefined);
    throw new AppError(
      'INTEGRITY',
      `${where} was stored as ${String(stored.size)} bytes, MD5 ${stored.md5Hash}, CRC32C ${stored.crc32c}, not as archived (${record.size} bytes, MD5 ${record.md5Hash}, CRC32C ${record.crc32c}); it was deleted again.`,
    );
  }
}
