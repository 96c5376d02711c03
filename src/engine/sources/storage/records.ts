/**
 * The Storage records of the archive (docs/design.md §3.6): one object record (the
 * object's metadata, JSON), then its content in raw-byte records of at most
 * CONTENT_CHUNK_MAX bytes each, exactly `size` bytes in all. Bounded records keep
 * memory flat however large the object: no reader or writer ever holds more than one.
 */
import { createHash, type Hash } from 'node:crypto';
import { AppError } from '../../../shared/errors.js';
import { Crc32c } from './crc32c.js';

/** The largest content record; the format allows 64 MiB, a smaller bound keeps memory flat. */
export const CONTENT_CHUNK_MAX = 1024 * 1024;

/**
 * A Cloud Storage object resource (JSON API) as listed, minus the fields that name the
 * server it came from (selfLink, mediaLink, id, etag, kind). `size` is a decimal string.
 */
export interface StorageObjectRecord {
  bucket: string;
  name: string;
  size: string;
  generation?: string;
  /** Base64 MD5 of the stored bytes; composite objects have none. */
  md5Hash?: string;
  /** Base64 big-endian CRC32C of the stored bytes. */
  crc32c?: string;
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  /** Custom metadata, download tokens (firebaseStorageDownloadTokens) included. */
  metadata?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * What a source export yields, in order: an object, then its content. A content item's
 * `release`, when there is one, gives its buffer back for reuse: call it once done with
 * `bytes` (never before, never read `bytes` after); a consumer that keeps the bytes
 * simply does not call it.
 */
export type StorageItem =
  | { kind: 'object'; record: StorageObjectRecord }
  | { kind: 'content'; bytes: Buffer; release?: () => void };

const SERVER_FIELDS = ['selfLink', 'mediaLink', 'id', 'etag', 'kind'];

export function toObjectRecord(resource: Record<string, unknown>): StorageObjectRecord {
  const record = Object.fromEntries(
    Object.entries(resource).filter(([k, v]) => !SERVER_FIELDS.includes(k) && v !== undefined),
  ) as StorageObjectRecord;
  if (typeof record.name !== 'string' || typeof record.bucket !== 'string') {
    throw new AppError('INTEGRITY', 'Cloud Storage listed an object without a name or bucket.');
  }
  record.size = String(resource.size ?? '0');
  return record;
}

export function parseObjectRecord(value: unknown): StorageObjectRecord {
  const r = value as StorageObjectRecord | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.name !== 'string' ||
    typeof r.size !== 'string' ||
    !/^\d+$/.test(r.size)
  ) {
    throw new AppError('ARCHIVE_CORRUPT', 'A Storage object record in the archive is malformed.');
  }
  return r;
}

/**
 * The one digest of a byte stream that is checked against an object record: its CRC32C,
 * which Cloud Storage keeps for every object (composites included), else its MD5. One
 * is enough: either is the service's own digest of the stored bytes, so it tells that
 * the bytes read are the bytes stored (tampering with an archive is the AES-GCM tags'
 * job, not this). CRC32C first because ours (crc32c.ts, the CPU's instruction) runs
 * several times faster than node:crypto's MD5; computing both made digests the costliest
 * step of an export.
 */
export class ObjectDigest {
  private readonly crc: Crc32c | undefined;
  private readonly md5: Hash | undefined;
  bytes = 0;

  constructor(private readonly record: StorageObjectRecord) {
    if (record.crc32c) this.crc = new Crc32c();
    else if (record.md5Hash) this.md5 = createHash('md5');
  }

  update(chunk: Buffer): void {
    this.crc?.update(chunk);
    this.md5?.update(chunk);
    this.bytes += chunk.length;
  }

  /** Names what differs from the record's size and digest, or undefined when all match. */
  mismatch(): string | undefined {
    const record = this.record;
    if (String(this.bytes) !== record.size) return `${this.bytes} bytes instead of ${record.size}`;
    const crc = this.crc?.base64();
    if (crc !== undefined && crc !== record.crc32c) {
      return `CRC32C ${crc} instead of ${record.crc32c}`;
    }
    const md5 = this.md5?.digest('base64');
    if (md5 !== undefined && md5 !== record.md5Hash) {
      return `MD5 ${md5} instead of ${record.md5Hash}`;
    }
    return undefined;
  }
}
