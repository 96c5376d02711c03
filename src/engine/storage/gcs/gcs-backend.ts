import type { Bucket } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import {
  assertValidKey,
  isValidKey,
  objectError,
  type GetOptions,
  type ObjectInfo,
  type PutBody,
  type PutOptions,
  type StorageBackend,
} from '../backend.js';
import type { BucketLocation } from '../wrappers/bucket-url.js';
import { guardDownload, watchSource } from '../wrappers/remote-errors.js';
import { retryCall, type RetryPolicy } from '../wrappers/retry.js';
import { gcsError } from './errors.js';

export interface GcsBackendConfig {
  bucket: Bucket;
  location: BucketLocation;
  displayUrl: string;
  resumable: boolean;
  chunkSize: number;
  retry: RetryPolicy;
  secrets: readonly (string | undefined)[];
}

/**
 * A Google Cloud Storage bucket under a key prefix. GCS makes an object visible only when
 * its upload is finalised, so a failed put leaves nothing. Every upload carries a crc32c
 * the library compares with the one the service computed (a mismatch deletes the object).
 */
export class GcsBackend implements StorageBackend {
  readonly kind = 'gcs';
  readonly capabilities = { rangeReads: true, remote: true };
  readonly displayUrl: string;

  constructor(private readonly config: GcsBackendConfig) {
    this.displayUrl = config.displayUrl;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo> {
    const file = this.config.bucket.file(this.objectKey(key));
    const what = `Cannot upload ${key} to ${this.displayUrl}`;
    const signal = options?.signal;
    const writeOptions = {
      resumable: this.config.resumable,
      chunkSize: this.config.chunkSize,
      validation: 'crc32c' as const,
      contentType: 'application/octet-stream',
    };
    try {
      if (body instanceof Uint8Array) {
        // Bytes in memory can be sent again: retry the whole (single) request.
        const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
        await retryCall(
          () =>
            file.save(data, { ...writeOptions, resumable: false }).catch((error: unknown) => {
              throw gcsError(error, what, this.config.secrets);
            }),
          this.config.retry,
          signal,
        );
      } else {
        const source = watchSource(body);
        try {
          await pipeline(
            source.body,
            file.createWriteStream(writeOptions),
            signal ? { signal } : {},
          );
        } catch (error) {
          const failure = source.failure();
          if (failure) throw failure.error;
          throw error;
        }
      }
    } catch (error) {
      if (signal?.aborted) {
        throw new AppError('CANCELLED', `Uploading ${key} was cancelled; nothing was kept.`);
      }
      throw this.error(error, what);
    }
    return this.stat(key);
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const { size } = await this.stat(key);
    const { start = 0, end = size } = options?.range ?? {};
    const stop = Math.min(end, size);
    if (stop <= start) return Readable.from([]);
    const whole = start === 0 && stop === size;
    const what = `Cannot read ${key} from ${this.displayUrl}`;
    const stream = this.config.bucket.file(this.objectKey(key)).createReadStream(
      // A whole read is checked against the stored crc32c; the library cannot check ranges.
      whole ? { validation: 'crc32c' } : { start, end: stop - 1, validation: false },
    );
    return guardDownload(stream, stop - start, (e) => this.error(e, what, key));
  }

  async stat(key: string): Promise<ObjectInfo> {
    const file = this.config.bucket.file(this.objectKey(key));
    try {
      const [meta] = await file.getMetadata();
      // Composite objects have no md5Hash; the others carry the service's own MD5.
      const md5 =
        typeof meta.md5Hash === 'string'
          ? Buffer.from(meta.md5Hash, 'base64').toString('hex')
          : undefined;
      return {
        key,
        size: Number(meta.size ?? 0),
        modified: new Date(meta.updated ?? meta.timeCreated ?? 0),
        ...(md5 ? { md5 } : {}),
      };
    } catch (error) {
      throw this.error(error, `Cannot find ${key} in ${this.displayUrl}`, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const root = this.config.location.prefix;
    let pageToken: string | undefined;
    do {
      let files, next;
      try {
        [files, next] = await this.config.bucket.getFiles({
          prefix: root + prefix,
          autoPaginate: false,
          maxResults: 1000,
          ...(pageToken ? { pageToken } : {}),
        });
      } catch (error) {
        throw this.error(error, `Cannot list ${this.displayUrl}`);
      }
      for (const file of files) {
        const key = file.name.slice(root.length);
        if (!isValidKey(key)) continue; // folder placeholders and foreign names
        yield {
          key,
          size: Number(file.metadata.size ?? 0),
          modified: new Date(file.metadata.updated ?? file.metadata.timeCreated ?? 0),
        };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.config.bucket.file(this.objectKey(key)).delete({ ignoreNotFound: true });
    } catch (error) {
      throw this.error(error, `Cannot delete ${key} in ${this.displayUrl}`);
    }
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.config.location.prefix + key;
  }

  private error(error: unknown, what: string, key?: string): AppError {
    return objectError(gcsError(error, what, this.config.secrets), this.displayUrl, key);
  }
}
