import { Transform, type TransformCallback } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';

/**
 * How much is written between two background flushes. The page cache otherwise holds a
 * whole archive until its final fsync, which then waits for all of it with nothing else
 * left to do: 0.5 s for a 1 GiB archive on the test machine's disk (docs/benchmarks.md).
 */
export const FLUSH_BEHIND_BYTES = 64 * 1024 * 1024;

/**
 * Asks the disk, every `interval` bytes written to a file, to write back what is written
 * so far (fdatasync, in the background, one at a time), so writeback overlaps with the
 * rest of the file arriving and the final fsync has only the last stretch left.
 * Durability is unchanged: the file is still fsynced whole before it is renamed into
 * place. A failed flush (a full disk, an I/O error) is kept for `failure` and `settled()`.
 */
export class Writeback {
  private pending: Promise<void> | undefined;
  private error: unknown;
  private sinceFlush = 0;

  constructor(
    private readonly handle: Pick<FileHandle, 'datasync'>,
    private readonly interval = FLUSH_BEHIND_BYTES,
  ) {}

  /** What a flush failed with so far; undefined while none has. */
  get failure(): unknown {
    return this.error;
  }

  /** `bytes` more were written. */
  add(bytes: number): void {
    this.sinceFlush += bytes;
    if (this.sinceFlush >= this.interval && this.pending === undefined) {
      this.sinceFlush = 0;
      this.pending = this.handle.datasync().then(
        () => {
          this.pending = undefined;
        },
        (error: unknown) => {
          this.error ??= error;
          this.pending = undefined;
        },
      );
    }
  }

  /** Waits for the flush in flight; rethrows the failure of any flush. */
  async settled(): Promise<void> {
    await this.pending;
    if (this.error !== undefined) throw this.error;
  }
}

/**
 * Passes a file's bytes through to its write stream, with a `Writeback` behind them: a
 * failed flush fails the next chunk, or `settled()`.
 */
export class FlushBehind extends Transform {
  constructor(private readonly writeback: Writeback) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.writeback.failure !== undefined) return callback(this.writeback.failure as Error);
    this.writeback.add(chunk.length);
    callback(null, chunk);
  }

  /** Waits for the flush in flight; rethrows the failure of any flush. */
  settled(): Promise<void> {
    return this.writeback.settled();
  }
}
