import type { Readable } from 'node:stream';
import { AppError } from '../../shared/errors.js';

/**
 * The storage interface every destination implements (local folder, memory, S3, GCS).
 *
 * Keys are relative, '/'-separated paths ("backups/bkp_x.fbk"); see `assertValidKey`.
 *
 * Guarantees every back end gives (checked by the conformance suite):
 * - Atomic visibility: an object is either absent or complete. A `put` that fails or is
 *   interrupted leaves nothing under `key` (at most an invisible temporary).
 * - Read-after-write: once `put` resolves, `get`, `stat` and `list` see the new object.
 * - A missing object makes `get` and `stat` reject with an AppError whose code is
 *   `NOT_FOUND`; `delete` of a missing object succeeds.
 * - `list(prefix)` yields every visible object whose key starts with `prefix`, in no
 *   promised order, and never temporaries.
 */
export interface StorageBackend {
  /** Short name of the back end kind: "local", "memory", "s3", "gcs". */
  readonly kind: string;
  /** Where this back end points, safe to show (no credentials). */
  readonly displayUrl: string;
  readonly capabilities: BackendCapabilities;

  put(key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo>;
  /**
   * Opens `key` to be written in place rather than streamed through `put`: only where an
   * object is a file on this machine (a local folder). The archive writer's sealing
   * thread then writes the bytes at their offsets itself (ADR 0029). Same guarantees as
   * `put`: nothing is visible under `key` until `commit` resolves.
   */
  openFile?(key: string): Promise<FileSink>;
  get(key: string, options?: GetOptions): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  /** What interrupted writes leave behind out of `list`'s sight; absent when nothing can be. */
  readonly housekeeping?: StorageHousekeeping;
}

/**
 * Leftovers of interrupted writes that `list` never shows: a local folder's hidden
 * temporaries, an S3 bucket's unfinished multipart uploads. `firebackup check` reports
 * them and, with --repair, removes the old ones.
 */
export type LeftoverKind = 'temporary' | 'upload';

export interface Leftover {
  kind: LeftoverKind;
  /** The object the write was for (a temporary's own name for local folders). */
  key: string;
  /** When it was started or last written: young ones may belong to a running write. */
  modified: Date;
  size?: number;
  /** What `removeLeftover` needs to find it again (a path, an upload id). */
  ref: string;
}

export interface StorageHousekeeping {
  /** The kinds of leftover this back end can have (and `leftovers` looks for). */
  readonly kinds: readonly LeftoverKind[];
  leftovers(signal?: AbortSignal): AsyncIterable<Leftover>;
  removeLeftover(leftover: Leftover): Promise<void>;
}

export type PutBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * An object being written in place (`StorageBackend.openFile`): a hidden temporary file
 * that its writer fills with positional writes through `fd`, from any thread of the
 * process. `commit` or `abort` ends it, once, and only after every write through `fd`
 * has returned: the descriptor is closed then, and its number may be reused at once.
 */
export interface FileSink {
  /** The temporary's descriptor, open for writing; positional writes only. */
  readonly fd: number;
  /**
   * Says how many bytes are written so far, so the disk can be asked to write them back
   * in the background (one flush at a time); a flush that fails fails `commit`.
   */
  wrote(bytes: number): void;
  /** The error a failed write through `fd` means to the user (a full disk, permissions). */
  describe(error: unknown): AppError;
  /** fsyncs the file, puts it in place under its key (atomically) and returns its info. */
  commit(): Promise<ObjectInfo>;
  /** Removes the temporary; nothing is left under the key. Never throws. */
  abort(): Promise<void>;
}

export interface BackendCapabilities {
  /** `get` honours `range` without reading the whole object. */
  rangeReads: boolean;
  /** The back end stores data off this machine. */
  remote: boolean;
}

export interface PutOptions {
  /** Size in bytes when known in advance; lets some back ends pick a faster upload. */
  contentLength?: number;
  signal?: AbortSignal;
}

export interface GetOptions {
  /** Inclusive start, exclusive end (end omitted: to the end of the object). */
  range?: { start: number; end?: number };
  signal?: AbortSignal;
}

export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
  /**
   * MD5 (hex) of the whole object as the service computed it from the bytes it stored,
   * when it reports one (`stat` of S3 single-part objects, GCS); lets a write be checked
   * without downloading it again.
   */
  md5?: string;
}

const KEY_SEGMENT = /^[^/\\\0]+$/;

/** Rejects keys that could escape a prefix or mean different things on different back ends. */
export function assertValidKey(key: string): void {
  const ok =
    key.length > 0 &&
    key.length <= 1024 &&
    key.split('/').every((s) => KEY_SEGMENT.test(s) && s !== '.' && s !== '..');
  if (!ok) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Invalid storage key "${key}": use relative '/'-separated names without '.', '..', '\\' or empty parts.`,
    );
  }
}

/** True for keys `assertValidKey` accepts: listings skip foreign names (folder markers…). */
export function isValidKey(key: string): boolean {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * A remote back end's mapped error, with a 404 on an object (not on the bucket) turned
 * into the interface's NOT_FOUND for that key.
 */
export function objectError(mapped: AppError, displayUrl: string, key?: string): AppError {
  if (key !== undefined && mapped.code === 'NOT_FOUND' && !/bucket/i.test(mapped.message)) {
    return notFound(displayUrl, key);
  }
  return mapped;
}

/** True when `key` exists; false on NOT_FOUND; other failures are thrown. */
export async function objectExists(backend: StorageBackend, key: string): Promise<boolean> {
  try {
    await backend.stat(key);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === 'NOT_FOUND') return false;
    throw error;
  }
}

export function notFound(displayUrl: string, key: string): AppError {
  return new AppError('NOT_FOUND', `No object "${key}" in ${displayUrl}.`);
}

/** Collects a body into one buffer (for back ends that store whole objects). */
export async function bodyToBuffer(body: PutBody): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}
