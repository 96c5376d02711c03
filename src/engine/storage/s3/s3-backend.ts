import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import {
  assertValidKey,
  isValidKey,
  objectError,
  type GetOptions,
  type Leftover,
  type ObjectInfo,
  type PutBody,
  type PutOptions,
  type StorageBackend,
  type StorageHousekeeping,
} from '../backend.js';
import type { BucketLocation } from '../wrappers/bucket-url.js';
import { guardDownload, watchSource } from '../wrappers/remote-errors.js';
import { s3Error } from './errors.js';

export interface S3BackendConfig {
  client: S3Client;
  location: BucketLocation;
  displayUrl: string;
  partSize: number;
  queueSize: number;
  /** Values scrubbed from every error message. */
  secrets: readonly (string | undefined)[];
}

/** Multipart uploads older than this under our prefix are leftovers of a crash. */
const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * An S3 bucket (or S3-compatible service) under a key prefix. Uploads stream through
 * lib-storage: bodies up to one part are a single PutObject, larger ones a multipart
 * upload, which S3 shows only once completed — so an interrupted put is never visible.
 * Memory is bounded by partSize × queueSize.
 */
export class S3Backend implements StorageBackend {
  readonly kind = 's3';
  readonly capabilities = { rangeReads: true, remote: true };
  readonly displayUrl: string;
  private sweptAbandoned = false;

  constructor(private readonly config: S3BackendConfig) {
    this.displayUrl = config.displayUrl;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo> {
    const Key = this.objectKey(key);
    await this.sweepAbandonedOnce();
    const source = watchSource(body);
    const upload = new Upload({
      client: this.config.client,
      params: {
        Bucket: this.config.location.bucket,
        Key,
        Body: source.body,
        // The service checks each part against this and refuses a mismatch (BadDigest).
        ChecksumAlgorithm: 'CRC32',
        ...(options?.contentLength !== undefined ? { ContentLength: options.contentLength } : {}),
      },
      partSize: this.config.partSize,
      queueSize: this.config.queueSize,
      // On failure lib-storage aborts the multipart upload, so no parts linger.
      leavePartsOnError: false,
    });
    const signal = options?.signal;
    const onAbort = (): void => void upload.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      const failure = source.failure();
      if (failure) throw failure.error;
      if (signal?.aborted) {
        throw new AppError('CANCELLED', `Uploading ${key} was cancelled; nothing was kept.`);
      }
      throw this.error(error, `Cannot upload ${key} to ${this.displayUrl}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return this.stat(key);
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const Key = this.objectKey(key);
    const { start = 0, end } = options?.range ?? {};
    // S3 cannot express an empty range; the answer is known anyway.
    if (end !== undefined && end <= start) return Readable.from([]);
    const Range =
      start > 0 || end !== undefined
        ? `bytes=${start}-${end !== undefined ? end - 1 : ''}`
        : undefined;
    const what = `Cannot read ${key} from ${this.displayUrl}`;
    try {
      const res = await this.config.client.send(
        new GetObjectCommand({ Bucket: this.config.location.bucket, Key, Range }),
        options?.signal ? { abortSignal: options.signal } : {},
      );
      return guardDownload(res.Body as Readable, res.ContentLength, (e) => this.error(e, what));
    } catch (error) {
      throw this.error(error, what, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    const Key = this.objectKey(key);
    try {
      const res = await this.config.client.send(
        new HeadObjectCommand({ Bucket: this.config.location.bucket, Key }),
      );
      // A plain 32-hex ETag is the MD5 of the stored bytes; multipart and SSE-KMS ETags are not.
      const etag = /^"?([0-9a-f]{32})"?$/i.exec(res.ETag ?? '')?.[1]?.toLowerCase();
      return {
        key,
        size: res.ContentLength ?? 0,
        modified: res.LastModified ?? new Date(0),
        ...(etag ? { md5: etag } : {}),
      };
    } catch (error) {
      throw this.error(error, `Cannot find ${key} in ${this.displayUrl}`, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const root = this.config.location.prefix;
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.config.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.location.bucket,
            Prefix: root + prefix,
            ContinuationToken,
          }),
        );
      } catch (error) {
        throw this.error(error, `Cannot list ${this.displayUrl}`);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(root.length) ?? '';
        // Folder markers ("a/") and names our keys cannot have are someone else's files.
        if (!isValidKey(key)) continue;
        yield { key, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.config.client.send(
        new DeleteObjectCommand({ Bucket: this.config.location.bucket, Key }),
      );
    } catch (error) {
      const mapped = this.error(error, `Cannot delete ${key} in ${this.displayUrl}`);
      if (mapped.code !== 'NOT_FOUND' || /bucket/.test(mapped.message)) throw mapped;
    }
  }

  /** Unfinished multipart uploads under our prefix (invisible to `list`, billed all the same). */
  readonly housekeeping: StorageHousekeeping = {
    kinds: ['upload'],
    leftovers: () => this.uploads(),
    removeLeftover: (leftover) => this.abortUpload(leftover.key, leftover.ref),
  };

  /**
   * Aborts multipart uploads under our prefix started more than a day ago: the parts a
   * crashed run left behind cost storage but are never listed. Returns how many it
   * aborted. Younger ones may belong to a backup running right now and are left alone.
   */
  async abortAbandonedUploads(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let aborted = 0;
    for await (const u of this.uploads()) {
      if (u.modified.getTime() > cutoff) continue;
      await this.abortUpload(u.key, u.ref);
      aborted++;
    }
    return aborted;
  }

  private async *uploads(): AsyncIterable<Leftover> {
    const { bucket, prefix } = this.config.location;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.config.client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix,
            KeyMarker,
            UploadIdMarker,
          }),
        );
      } catch (error) {
        throw this.error(error, `Cannot list unfinished uploads in ${this.displayUrl}`);
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        yield {
          kind: 'upload',
          key: u.Key.slice(prefix.length),
          modified: u.Initiated ?? new Date(0),
          ref: u.UploadId,
        };
      }
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (KeyMarker);
  }

  private async abortUpload(key: string, uploadId: string): Promise<void> {
    await this.config.client.send(
      new AbortMultipartUploadCommand({
        Bucket: this.config.location.bucket,
        Key: this.config.location.prefix + key,
        UploadId: uploadId,
      }),
    );
  }

  /** Best effort, once per instance: some S3-compatible servers lack ListMultipartUploads. */
  private async sweepAbandonedOnce(): Promise<void> {
    if (this.sweptAbandoned) return;
    this.sweptAbandoned = true;
    await this.abortAbandonedUploads().catch(() => undefined);
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.config.location.prefix + key;
  }

  /** Maps an SDK error; a 404 on an object (not the bucket) is the interface's NOT_FOUND. */
  private error(error: unknown, what: string, key?: string): AppError {
    return objectError(s3Error(error, what, this.config.secrets), this.displayUrl, key);
  }
}
