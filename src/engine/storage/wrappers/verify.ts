import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type {
  GetOptions,
  ObjectInfo,
  PutBody,
  PutOptions,
  StorageBackend,
  StorageHousekeeping,
} from '../backend.js';

/** Size and SHA-256 (hex) of an object's bytes. */
export interface ObjectDigest {
  size: number;
  sha256: string;
}

/** What a verified put returns: the usual info plus the MD5 that was read back. */
export interface PutResult extends ObjectInfo {
  md5: string;
}

/** The digest a verified put recorded, for callers holding a plain `ObjectInfo`. */
export function putDigest(info: ObjectInfo): string | undefined {
  const value = (info as Partial<PutResult>).md5;
  return typeof value === 'string' ? value : undefined;
}

export interface VerifiedBackend extends StorageBackend {
  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;
}

/** Streams the whole object and digests it, holding one chunk at a time. */
export async function digestObject(
  backend: StorageBackend,
  key: string,
  signal?: AbortSignal,
): Promise<ObjectDigest>;
export async function digestObject(
  backend: StorageBackend,
  key: string,
  signal: AbortSignal | undefined,
  algorithm: 'md5',
): Promise<{ size: number; digest: string }>;
export async function digestObject(
  backend: StorageBackend,
  key: string,
  signal?: AbortSignal,
  algorithm: 'sha256' | 'md5' = 'sha256',
): Promise<ObjectDigest | { size: number; digest: string }> {
  const hash = createHash(algorithm);
  let size = 0;
  const stream = await backend.get(key, signal ? { signal } : {});
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const digest = hash.digest('hex');
  return algorithm === 'md5' ? { size, digest } : { size, sha256: digest };
}

/**
 * Reads `key` back and checks it against `expected`; a mismatch is an INTEGRITY error
 * that names the object, so `verify` can say which backup is damaged.
 */
export async function verifyObject(
  backend: StorageBackend,
  key: string,
  expected: ObjectDigest,
  signal?: AbortSignal,
): Promise<void> {
  const problem = compareDigests(expected, await digestObject(backend, key, signal));
  if (problem) {
    throw new AppError(
      'INTEGRITY',
      `"${key}" in ${backend.displayUrl} is damaged: ${problem}. Restore from another backup; this one cannot be trusted.`,
    );
  }
}

/** Says how two digests differ, or undefined when they match. */
export function compareDigests(expected: ObjectDigest, actual: ObjectDigest): string | undefined {
  if (actual.size !== expected.size) return `expected ${expected.size} bytes, found ${actual.size}`;
  if (actual.sha256 !== expected.sha256) {
    return `expected SHA-256 ${expected.sha256.slice(0, 16)}…, found ${actual.sha256.slice(0, 16)}…`;
  }
  return undefined;
}

/**
 * Wraps a back end so a put counts as done only after the object is read back from the
 * destination: the same size, and the same digest (the service's MD5 where it reports
 * one, else our SHA-256 of a full download). A mismatch deletes the bad object (so it is
 * never listed as a backup) and fails with INTEGRITY.
 */
export function withVerification(backend: StorageBackend): VerifiedBackend {
  return new VerifyingBackend(backend);
}

class VerifyingBackend implements VerifiedBackend {
  readonly kind: string;
  readonly displayUrl: string;
  readonly capabilities: StorageBackend['capabilities'];
  readonly housekeeping?: StorageHousekeeping;

  constructor(private readonly inner: StorageBackend) {
    this.kind = inner.kind;
    this.displayUrl = inner.displayUrl;
    this.capabilities = inner.capabilities;
    // Housekeeping is maintenance of what lies beneath; wrappers pass it through as is.
    if (inner.housekeeping) this.housekeeping = inner.housekeeping;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    // MD5, because it is the digest S3 and GCS compute of what they store (so the check
    // needs no second transfer); it guards against accidents in transit and at the
    // service, while the archive's own AES-GCM tags guard against tampering.
    const hash = createHash('md5');
    let size = 0;
    let sent: PutBody;
    if (body instanceof Uint8Array) {
      // Bytes stay bytes, so a retrying layer below can still replay them.
      hash.update(body);
      size = body.byteLength;
      sent = body;
    } else {
      sent = (async function* digesting() {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          size += chunk.byteLength;
          yield chunk;
        }
      })();
    }
    const info = await this.inner.put(key, sent, options);
    const md5 = hash.digest('hex');
    const problem = await this.readBack(key, size, md5, options?.signal);
    if (problem) {
      await this.inner.delete(key).catch(() => undefined);
      throw new AppError(
        'INTEGRITY',
        `Upload of "${key}" to ${this.displayUrl} failed verification: ${problem}. The damaged copy was removed; run the backup again.`,
      );
    }
    return { ...info, size, md5 };
  }

  /**
   * Reads back what the destination stored: its size, and the service's own MD5 of the
   * stored bytes where it reports one, else the MD5 of a full download.
   */
  private async readBack(
    key: string,
    size: number,
    md5: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const stored = await this.inner.stat(key);
    if (stored.size !== size) return `expected ${size} bytes, found ${stored.size}`;
    const found = stored.md5 ?? (await digestObject(this.inner, key, signal, 'md5')).digest;
    return found === md5 ? undefined : 'the stored bytes differ from those sent (MD5)';
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.inner.get(key, options);
  }
  stat(key: string): Promise<ObjectInfo> {
    return this.inner.stat(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}
