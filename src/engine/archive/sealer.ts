/**
 * The last steps of writing an archive, after compression: AES-256-GCM of each coded
 * block into a segment (docs/design.md §2.3), and the archive digest of every byte
 * written (the manifest's). Two implementations with one contract: on the event loop
 * (small archives, where a thread would cost more than it saves), and on a worker thread
 * (seal-worker.ts) for backups, where these passes over every byte would otherwise run
 * on the one thread that also drives the download. (The trailer's record digest is the
 * writer's own: cheap since format version 3, it needs no thread; ADR 0028.)
 */
import { createHash } from 'node:crypto';
import type { CodedBlock, SegmentKeys } from './segment-codec.js';
import { sealSegment } from './segment-codec.js';

export interface SealJob {
  index: number;
  last: boolean;
  coded: CodedBlock;
  /** The block's plaintext: records, in archive order. */
  plain: Buffer;
}

export interface Sealed {
  /**
   * length ‖ ciphertext ‖ tag, ready to write, in one or more parts (to write in order);
   * none when the sealer wrote the segment into the archive's file itself.
   */
  segment: Buffer[];
  /** The segment's size in bytes. */
  length: number;
  /** The job's plaintext block, handed back for reuse (a worker returns it after use). */
  plain: Buffer;
}

/**
 * Jobs are taken in call order and must come in archive order; a sealer may use the
 * buffers it is given until it resolves (a worker takes them: the caller must not touch
 * `plain` or `coded.payload` again except through the result).
 */
export interface SegmentSealer {
  /** Bytes written before the first segment (header, envelope): archive digest only. */
  prelude(bytes: Buffer): void;
  seal(job: SealJob): Promise<Sealed>;
  /** The archive digest, hex, of the prelude and every segment sealed. */
  archiveDigest(): Promise<string>;
  /**
   * Frees the sealer (a worker is stopped); pending jobs fail. Resolves once nothing of
   * it runs any more: no write into the archive's file is under way after that.
   */
  close(): Promise<void>;
}

/** Everything on the calling thread, synchronously. */
export class InlineSealer implements SegmentSealer {
  private readonly archiveHash = createHash('sha256');

  constructor(private readonly keys: SegmentKeys) {}

  prelude(bytes: Buffer): void {
    this.archiveHash.update(bytes);
  }

  seal(job: SealJob): Promise<Sealed> {
    const segment = sealSegment(this.keys, job.index, job.last, job.coded);
    this.archiveHash.update(segment);
    return Promise.resolve({ segment: [segment], length: segment.length, plain: job.plain });
  }

  archiveDigest(): Promise<string> {
    return Promise.resolve(this.archiveHash.digest('hex'));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
