import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type { GetOptions, ObjectInfo, PutBody, PutOptions, StorageBackend } from '../backend.js';

/** Size and SHA-256 (hex) of an object's bytes. */
export interface ObjectDigest {
  size: number;
  sha256: string;
}

/** What a verified put returns: the usual info plus the digest that was read back. */
export interface PutResult extends ObjectInfo {
  sha256: string;
}

/** The digest a verified put recorded, for callers holding a plain `ObjectInfo`. */
export function putDigest(info: ObjectInfo): string | undefined {
  const value = (info as Partial<PutResult>).sha256;
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
): Promise<ObjectDigest> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = await backend.get(key, signal ? { signal } : {});
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
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

  constructor(private readonly inner: StorageBackend) {
    this.kind = inner.kind;
    this.displayUrl = inner.displayUrl;
    this.capabilities = inner.capabilities;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    const sha256 = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    let sent: PutBody;
    if (body instanceof Uint8Array) {
      // Bytes stay bytes, so a retrying layer below can still replay them.
      sha256.update(body);
      md5.update(body);
      size = body.byteLength;
      sent = body;
    } else {
      sent = (async function* digesting() {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          sha256.update(chunk);
          md5.update(chunk);
          size += chunk.byteLength;
          yield chunk;
        }
      })();
    }
    const info = await this.inner.put(key, sent, options);
    const expected = { size, sha256: sha256.digest('hex') };
    const problem = await this.readBack(key, expected, md5.digest('hex'), options?.signal);
    if (problem) {
      await this.inner.delete(key).catch(() => undefined);
      throw new AppError(
        'INTEGRITY',
        `Upload of "${key}" to ${this.displayUrl} failed verification: ${problem}. The damaged copy was removed; run the backup again.`,
      );
    }
    return { ...info, size, sha256: expected.sha256 };
  }

  /**
   * Reads back what the destination stored. Where the service reports the size and its
   * own MD5 of the stored bytes, those are compared (no second transfer of a large
   * archive); otherwise the object is downloaded and its SHA-256 compared.
   */
  private async readBack(
    key: string,
    expected: ObjectDigest,
    md5: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const stored = await this.inner.stat(key);
    if (stored.size !== expected.size)
      return `expected ${expected.size} bytes, found ${stored.size}`;
    if (stored.md5)
      return stored.md5 === md5
        ? undefined
        : `the service's MD5 of the stored bytes differs from what was sent`;
    return compareDigests(expected, await digestObject(this.inner, key, signal));
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
