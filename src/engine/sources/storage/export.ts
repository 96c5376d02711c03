/**
 * Export: every object of a bucket (under a prefix), listed page by page, each read
 * as a stream pinned to the generation that was listed and regrouped into content
 * records of CONTENT_CHUNK_MAX bytes (the last one shorter), in reused buffers that a
 * consumer gives back with `release()` (content-batcher.ts). The CRC32C of the bytes read
 * (the MD5 when the object has no CRC32C) is compared with the service's before the
 * object counts: a mismatch fails the export (the archive would hold wrong bytes).
 */
import type { Bucket, File } from '@google-cloud/storage';
import { AppError } from '../../../shared/errors.js';
import { gcsError } from '../../storage/gcs/errors.js';
import { ContentBatcher } from './content-batcher.js';
import { openMedia } from './media-download.js';
import {
  CONTENT_CHUNK_MAX,
  ObjectDigest,
  toObjectRecord,
  type StorageItem,
  type StorageObjectRecord,
} from './records.js';

export interface ExportObjectsOptions {
  /** Only objects whose name starts with this. */
  prefix?: string;
  pageSize?: number;
  signal?: AbortSignal;
  /** Objects deleted between the listing and their download (not an error: they are gone). */
  onVanished?: (name: string) => void;
}

async function* listPages(bucket: Bucket, options: ExportObjectsOptions): AsyncGenerator<File[]> {
  let query: Record<string, unknown> | null = {
    autoPaginate: false,
    maxResults: options.pageSize ?? 1000,
    ...(options.prefix ? { prefix: options.prefix } : {}),
  };
  while (query) {
    let files: File[];
    let next: Record<string, unknown> | null;
    try {
      [files, next] = (await bucket.getFiles(query)) as unknown as [
        File[],
        Record<string, unknown> | null,
      ];
    } catch (error) {
      throw gcsError(error, `Cannot list the objects of gs://${bucket.name}`, []);
    }
    if (files.length > 0) yield files;
    query = next && files.length > 0 ? next : null;
  }
}

/** Every object under the prefix: an object item, then its content items. */
export async function* exportObjects(
  bucket: Bucket,
  options: ExportObjectsOptions = {},
): AsyncGenerator<StorageItem> {
  // One batcher for the whole listing, so its buffers are reused from object to object.
  const records = new ContentBatcher(CONTENT_CHUNK_MAX);
  for await (const files of listPages(bucket, options)) {
    for (const file of files) {
      if (options.signal?.aborted) throw new AppError('CANCELLED', 'The backup was cancelled.');
      yield* exportObject(
        bucket,
        toObjectRecord(file.metadata as Record<string, unknown>),
        records,
        options,
      );
    }
  }
}

async function* exportObject(
  bucket: Bucket,
  listed: StorageObjectRecord,
  records: ContentBatcher,
  options: ExportObjectsOptions,
): AsyncGenerator<StorageItem> {
  const where = `gs://${bucket.name}/${listed.name}`;
  const digest = new ObjectDigest(listed);
  // Each chunk is checked and copied into a record as it arrives (in the socket's data
  // event): chunks never wait across an asynchronous step (ADR 0020). Opening tells
  // whether the listed generation still exists, before anything of this object is
  // written to the archive.
  const body = await openMedia(
    bucket,
    listed,
    (chunk) => {
      digest.update(chunk);
      return records.add(chunk);
    },
    options.signal ? { signal: options.signal } : {},
  );
  if (!body) {
    options.onVanished?.(listed.name);
    return;
  }
  yield { kind: 'object', record: listed };
  try {
    for (let batch = await body.next(); batch; batch = await body.next()) {
      for (const record of batch) yield { kind: 'content', ...record };
    }
  } catch (error) {
    throw gcsError(error, `Cannot read ${where}`, []);
  } finally {
    body.destroy();
  }
  const rest = records.flush();
  if (rest) yield { kind: 'content', ...rest };
  const mismatch = digest.mismatch();
  if (mismatch) {
    throw new AppError(
      'INTEGRITY',
      `${where} read back as ${mismatch} (the service's digest): the download was damaged or the object changed. Nothing was kept; run the backup again.`,
    );
  }
}
