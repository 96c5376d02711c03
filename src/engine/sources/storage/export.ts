/**
 * Export: every object of a bucket (under a prefix), listed page by page, each read
 * as a stream pinned to the generation that was listed and regrouped into content
 * records of CONTENT_CHUNK_MAX bytes (the last one shorter), in reused buffers that a
 * consumer gives back with `release()` (content-batcher.ts). The CRC32C of the bytes read
 * (the MD5 when the object has no CRC32C) is compared with the service's before the
 * object counts: a mismatch fails the export (the archive would hold wrong bytes).
 * The next object's download is asked for while the end of the current one is read, so
 * the service's time to answer it overlaps with bytes arriving (OPEN_AHEAD_BYTES).
 */
import type { Bucket, File } from '@google-cloud/storage';
import { AppError } from '../../../shared/errors.js';
import { gcsError } from '../../storage/gcs/errors.js';
import { ContentBatcher, type ContentRecord } from './content-batcher.js';
import { openMedia, proxyConfigured, type MediaBody } from './media-download.js';
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

/**
 * How close to its end the object being read must be before the next object's download
 * is asked for. The service takes a while to answer a GET (the Storage emulator ~90 ms
 * per 100 MiB object, Cloud Storage tens of ms): asked this much ahead, that wait passes
 * while these bytes arrive (32 MiB is ~0.1 s at backup speeds). A bound, not "at once":
 * the early response waits with its connection paused until its turn, and a long wait
 * (behind a multi-GB object on a slow link) could see it closed by the service.
 */
export const OPEN_AHEAD_BYTES = 32 * 1024 * 1024;

/** An object whose download was asked for, perhaps before its turn. */
interface Opening {
  listed: StorageObjectRecord;
  digest: ObjectDigest;
  body: Promise<MediaBody<ContentRecord> | undefined>;
}

function openObject(
  bucket: Bucket,
  listed: StorageObjectRecord,
  records: ContentBatcher,
  options: ExportObjectsOptions,
): Opening {
  const digest = new ObjectDigest(listed);
  // Each chunk is checked and copied into a record as it arrives (in the socket's data
  // event): chunks never wait across an asynchronous step (ADR 0020). Nothing is read
  // before the object's turn (ArrivalQueue), so the shared batcher only ever sees one
  // object's chunks.
  const body = openMedia(
    bucket,
    listed,
    (chunk) => {
      digest.update(chunk);
      return records.add(chunk);
    },
    options.signal ? { signal: options.signal } : {},
  );
  body.catch(() => undefined); // awaited in the object's turn, where a failure is reported
  return { listed, digest, body };
}

async function* listObjects(
  bucket: Bucket,
  options: ExportObjectsOptions,
): AsyncGenerator<StorageObjectRecord> {
  for await (const files of listPages(bucket, options)) {
    for (const file of files) yield toObjectRecord(file.metadata as Record<string, unknown>);
  }
}

/** Every object under the prefix: an object item, then its content items. */
export async function* exportObjects(
  bucket: Bucket,
  options: ExportObjectsOptions = {},
): AsyncGenerator<StorageItem> {
  // One batcher for the whole listing, so its buffers are reused from object to object.
  const records = new ContentBatcher(CONTENT_CHUNK_MAX);
  const listing = listObjects(bucket, options);
  let next = await listing.next();
  let ahead: Opening | undefined;
  try {
    while (!next.done) {
      if (options.signal?.aborted) throw new AppError('CANCELLED', 'The backup was cancelled.');
      // Held in `ahead` until the listing has answered, so a listing that fails closes it.
      ahead ??= openObject(bucket, next.value, records, options);
      next = await listing.next();
      const current = ahead;
      ahead = undefined;
      const following = next.done ? undefined : next.value;
      // Asks for the next object's bytes once this one is near its end (see OPEN_AHEAD_BYTES).
      const openNext = (): void => {
        // Not through the library's read (behind a proxy): it starts reading at once.
        if (following && !ahead && !options.signal?.aborted && !proxyConfigured()) {
          ahead = openObject(bucket, following, records, options);
        }
      };
      yield* exportObject(bucket, current, records, options, openNext);
    }
  } finally {
    // A download asked for and never read (this export failed or was stopped).
    if (ahead)
      void ahead.body.then(
        (body) => body?.destroy(),
        () => undefined,
      );
  }
}

async function* exportObject(
  bucket: Bucket,
  { listed, digest, body: opening }: Opening,
  records: ContentBatcher,
  options: ExportObjectsOptions,
  openNext: () => void,
): AsyncGenerator<StorageItem> {
  const where = `gs://${bucket.name}/${listed.name}`;
  const size = Number(listed.size);
  const nearEnd = (): void => {
    if (size - digest.bytes <= OPEN_AHEAD_BYTES) openNext();
  };
  // Opening tells whether the listed generation still exists, before anything of this
  // object is written to the archive.
  const body = await opening;
  if (!body) {
    options.onVanished?.(listed.name);
    return;
  }
  try {
    nearEnd();
    yield { kind: 'object', record: listed };
    for (let batch = await body.next(); batch; batch = await body.next()) {
      nearEnd();
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
