import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, isAppError } from '../../../shared/errors.js';
import { fromFsError } from '../../util/fs-errors.js';
import { FlushBehind } from './flush-behind.js';
import { LocalFile } from './local-file.js';
import { makeDirectory } from '../../util/make-directory.js';
import {
  assertValidKey,
  type GetOptions,
  type Leftover,
  type ObjectInfo,
  type PutBody,
  type PutOptions,
  type StorageBackend,
  type StorageHousekeeping,
} from '../backend.js';

/** Temporaries start with this; `list` never shows them. */
const TEMP_MARK = '.fbtmp-';
/** A temporary this old belongs to a process that died (a write never takes a day). */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

/**
 * A folder on this machine. Writes go to a hidden temporary beside the target, are
 * fsynced, renamed into place, and the folder is fsynced, so a crash at any moment
 * leaves either the old state or the complete new object.
 */
export class LocalBackend implements StorageBackend {
  readonly kind = 'local';
  readonly capabilities = { rangeReads: true, remote: false };
  readonly displayUrl: string;
  private readonly root: string;
  private readonly swept = new Set<string>();
  /** Temporaries of writes that never finished, anywhere under the folder. */
  readonly housekeeping: StorageHousekeeping = {
    kinds: ['temporary'],
    leftovers: () => this.temporaries(''),
    removeLeftover: async (leftover) => {
      if (!path.posix.basename(leftover.ref).startsWith(TEMP_MARK)) {
        throw new AppError('INTERNAL', `${leftover.ref} is not a temporary; not removing it.`);
      }
      await rm(this.pathOf(leftover.ref), { force: true }).catch((error: unknown) => {
        throw fromFsError(error, `Cannot remove ${leftover.ref} in ${this.displayUrl}`);
      });
    },
  };

  constructor(root: string) {
    this.root = path.resolve(root);
    this.displayUrl = this.root;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo> {
    const file = await this.openFile(key);
    try {
      // A stream body too goes through Readable.from, whose reads join what is buffered
      // (up to the archive writer's 4 MiB) into one fresh buffer: a copy, but the
      // cheapest way measured (docs/benchmarks.md, Storage). Piping the writer's ~1 MiB
      // segments straight into the file stream kept each alive until its write
      // completed, and V8 ran ~55 full collections per 400 MiB instead of 2; copying
      // them into two reused buffers instead made the kernel's copies 3-4x dearer.
      // (Backups skip all this: their sealing thread writes the file itself, ADR 0029.)
      const source = body instanceof Uint8Array ? Readable.from([body]) : Readable.from(body);
      // The numeric fd, left open: the file is fsynced whole through its handle on commit
      // (a stream given the FileHandle itself would hold it until it closes).
      const out = createWriteStream('', { fd: file.fd, autoClose: false });
      await pipeline(
        source,
        new FlushBehind(file.writeback),
        out,
        options?.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      await file.abort();
      if ((error as Error).name === 'AbortError') {
        throw new AppError('CANCELLED', `Writing ${key} was cancelled; nothing was kept.`);
      }
      throw file.describe(error);
    }
    return file.commit();
  }

  async openFile(key: string): Promise<LocalFile> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    const temp = path.join(
      dir,
      `${TEMP_MARK}${randomBytes(6).toString('hex')}-${path.basename(target)}`,
    );
    const what = `Cannot write ${key} in ${this.displayUrl}`;
    try {
      await makeDirectory(dir);
    } catch (error) {
      throw isAppError(error) ? error : fromFsError(error, what);
    }
    await this.sweepStaleTemporaries(dir);
    // Created before any byte is written: a write that fails early must not be able to
    // create it after its cleanup has run.
    return LocalFile.create(key, temp, target, what);
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const file = this.pathOf(key);
    // Open first so a missing file rejects here rather than as a stream error later.
    const handle = await open(file, 'r').catch((error: unknown) => {
      throw fromFsError(error, `Cannot read ${key} in ${this.displayUrl}`, 'read');
    });
    const range = options?.range;
    return createReadStream('', {
      fd: handle,
      start: range?.start ?? 0,
      ...(range?.end !== undefined ? { end: range.end - 1 } : {}),
      highWaterMark: 1 << 20,
      ...(options?.signal ? { signal: options.signal } : {}),
    });
  }

  async stat(key: string): Promise<ObjectInfo> {
    try {
      const info = await stat(this.pathOf(key));
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      return { key, size: info.size, modified: info.mtime };
    } catch (error) {
      throw fromFsError(error, `Cannot find ${key} in ${this.displayUrl}`, 'read');
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk only the folder that can hold the prefix, not the whole tree.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash) : '';
    yield* this.walk(base, prefix);
  }

  async delete(key: string): Promise<void> {
    try {
      await rm(this.pathOf(key), { force: true });
    } catch (error) {
      throw fromFsError(error, `Cannot delete ${key} in ${this.displayUrl}`);
    }
  }

  /**
   * Removes temporaries left by killed processes (SIGKILL, power loss), once per folder
   * per instance. Best effort: a folder that cannot be cleaned still takes new writes.
   */
  private async sweepStaleTemporaries(dir: string): Promise<void> {
    if (this.swept.has(dir)) return;
    this.swept.add(dir);
    const now = Date.now();
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(TEMP_MARK))) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TEMP_MS)
        await rm(file, { force: true }).catch(() => undefined);
    }
  }

  private async *temporaries(relDir: string): AsyncIterable<Leftover> {
    const dir = relDir ? path.join(this.root, ...relDir.split('/')) : this.root;
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw fromFsError(error, `Cannot list ${this.displayUrl}`);
    });
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) yield* this.temporaries(rel);
      else if (entry.isFile() && entry.name.startsWith(TEMP_MARK)) {
        const info = await stat(path.join(dir, entry.name)).catch(() => undefined);
        if (!info) continue; // finished (renamed) or swept meanwhile
        // ".fbtmp-<12 hex>-<target name>": the target's name says which write it was.
        const target = entry.name.slice(TEMP_MARK.length).replace(/^[0-9a-f]{12}-/, '');
        yield {
          kind: 'temporary',
          key: relDir ? `${relDir}/${target}` : target,
          modified: info.mtime,
          size: info.size,
          ref: rel,
        };
      }
    }
  }

  private async *walk(relDir: string, prefix: string): AsyncIterable<ObjectInfo> {
    const dir = relDir ? path.join(this.root, ...relDir.split('/')) : this.root;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw fromFsError(error, `Cannot list ${this.displayUrl}`, 'read');
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_MARK)) continue;
      const key = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await stat(path.join(dir, entry.name)).catch(() => undefined);
        if (info) yield { key, size: info.size, modified: info.mtime };
      }
    }
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }
}

/** Makes a rename in `dir` durable. */
