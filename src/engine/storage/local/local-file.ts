import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../shared/errors.js';
import { fromFsError } from '../../util/fs-errors.js';
import { fsyncPath } from '../../util/fsync-path.js';
import type { FileSink, ObjectInfo } from '../backend.js';
import { Writeback } from './flush-behind.js';

/**
 * One write of a local folder's object: a hidden temporary beside the target, filled in
 * place (by a stream in `put`, or by the archive writer's sealing thread through `fd`),
 * then fsynced, renamed into place and the folder fsynced, so a crash at any moment
 * leaves either the old state or the complete new object. Either `commit` or `abort`
 * ends it, once; both close the descriptor, so neither may run while a write through
 * `fd` is still under way (the FileSink contract).
 */
export class LocalFile implements FileSink {
  /** Background writeback of what is written so far (flush-behind.ts). */
  readonly writeback: Writeback;
  private noted = 0;
  private ended = false;

  private constructor(
    private readonly key: string,
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly target: string,
    /** Names the write in error messages: "Cannot write <key> in <folder>". */
    private readonly what: string,
  ) {
    this.writeback = new Writeback(handle);
  }

  /**
   * Creates the temporary `temp` (which must not exist) for `target`. The caller has made
   * the folder; a failure here is reported as writing `key`.
   */
  static async create(key: string, temp: string, target: string, what: string): Promise<LocalFile> {
    try {
      return new LocalFile(key, await open(temp, 'wx'), temp, target, what);
    } catch (error) {
      throw fromFsError(error, what);
    }
  }

  get fd(): number {
    return this.handle.fd;
  }

  wrote(bytes: number): void {
    if (bytes <= this.noted) return;
    this.writeback.add(bytes - this.noted);
    this.noted = bytes;
  }

  describe(error: unknown): AppError {
    return error instanceof AppError ? error : fromFsError(error, this.what);
  }

  async commit(): Promise<ObjectInfo> {
    this.end();
    try {
      await this.writeback.settled();
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.target);
      await fsyncPath(path.dirname(this.target));
      const info = await stat(this.target);
      return { key: this.key, size: info.size, modified: info.mtime };
    } catch (error) {
      await this.discard();
      throw this.describe(error);
    }
  }

  async abort(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.discard();
  }

  private end(): void {
    if (this.ended) throw new Error(`The write of ${this.key} was already ended.`);
    this.ended = true;
  }

  private async discard(): Promise<void> {
    // A FileHandle closes after its pending calls (a flush still in flight); closing one
    // already closed is refused, which is fine here.
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true }).catch(() => undefined);
  }
}
