import { Transform, type TransformCallback } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';

/**
 * How much is written between two background flushes. The page cache otherwise holds a
 * whole archive until its final fsync, which then waits for all of it with nothing else
 * left to do: 0.5 s for a 1 GiB archive on the test machine's disk (docs/benchmarks.md).
 */
export const FLUSH_BEHIND_BYTES = 64 * 1024 * 1024;

/**
 * Passes a file's bytes through to its write stream and, every `interval` bytes, asks the
 * disk to write back what is written so far (fdatasync, in the background, one at a
 * time), so writeback overlaps with the rest of the file arriving and the final fsync
 * has only the last stretch left. Durability is unchanged: the file is still fsynced
 * whole before it is renamed into place. A failed flush (a full disk, an I/O error)
 * fails the next chunk, or `settled()`.
 */
export class FlushBehind extends Transform {
  private pending: Promise<void> | undefined;
  private failure: unknown;
  private sinceFlush = 0;

  constructor(
    private readonly handle: Pick<FileHandle, 'datasync'>,
    private readonly interval = FLUSH_BEHIND_BYTES,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.failure !== undefined) return callback(this.failure as Error);
    this.sinceFlush += chunk.length;
    if (this.sinceFlush >= this.interval && this.pending === undefined) {
      this.sinceFlush = 0;
      this.pending = this.handle.datasync().then(
        () => {
          this.pending = undefined;
        },
        (error: unknown) => {
          this.failure = error;
          this.pending = undefined;
        },
      );
    }
    callback(null, chunk);
  }

  /** Waits for the flush in flight; rethrows the failure of any flush. */
  async settled(): Promise<void> {
    await this.pending;
    if (this.failure !== undefined) throw this.failure;
  }
}
