import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AppError } from '../../shared/errors.js';
import type { MasterKey } from '../keys/master-key.js';
import type { FileSink } from '../storage/backend.js';
import { waitForDrain } from '../util/streams.js';
import {
  DEFAULT_BLOCK_SIZE,
  KEY_LENGTH,
  envelopeLengthFor,
  newHeader,
  sealEnvelope,
  type ObjectPurpose,
} from './format.js';
import { createRecordDigest, trailerDigestField, type RecordDigest } from './record-digest.js';
import { COUNT_NAMES, RecordType, encodeRecordPrefix } from './records.js';
import { WorkerSealer } from './seal-worker.js';
import { InlineSealer, type Sealed, type SegmentSealer } from './sealer.js';
import { compressBlock, type SegmentKeys } from './segment-codec.js';

export interface ArchiveWriterOptions {
  key: MasterKey;
  /** What the object is, authenticated in its header (docs/design.md §2.1). */
  purpose?: ObjectPurpose;
  /** Plaintext bytes per segment (docs/design.md §2.3). */
  blockSize?: number;
  /** Brotli quality 0–11; 5 keeps most of the ratio at tens of MB/s per core. */
  quality?: number;
  /** Blocks compressed at once on the thread pool. */
  concurrency?: number;
  /**
   * Encryption and the archive digest on a worker thread (sealer.ts): for backups, where
   * they would otherwise share the main thread with the reading. Off for small archives.
   */
  sealOffThread?: boolean;
  /**
   * Write the archive into this file instead of `output` (a local folder's object being
   * written in place): the sealing thread writes each segment at its offset itself, so
   * no ciphertext crosses back to the main thread (ADR 0029). Needs `sealOffThread`.
   * The writer never closes it: once `finish` resolves, or after `abort`, `stopped()`,
   * nothing writes into it any more, and the caller commits or aborts it.
   */
  file?: FileSink;
}

export interface Trailer {
  records: number;
  counts: Record<string, number>;
  bytes: number;
  /**
   * The digest of the records before the trailer (docs/design.md §3.3), in the field of
   * the object's format version (record-digest.ts): `xxh64` from version 3, `sha256` in
   * versions 1 and 2.
   */
  xxh64?: string;
  sha256?: string;
}

export interface WriteSummary {
  trailer: Trailer;
  /** Size and SHA-256 of the archive as written (what storage holds). */
  archiveBytes: number;
  archiveSha256: string;
  /** Where things are in it, for a browse directory (docs/design.md §7). */
  layout: ArchiveLayout;
}

export interface ArchiveLayout {
  /** The 24 header bytes (the associated data of every segment). */
  header: Buffer;
  blockSize: number;
  /** Byte offset of each segment, then the archive's end: segments + 1 entries. */
  segmentOffsets: number[];
}

export const DEFAULT_QUALITY = 5;
/** Plaintext bytes taken in between two yields to the event loop (a few ms of work). */
const YIELD_EVERY_BYTES = 128 * 1024;

interface Pending {
  sealed: Promise<Sealed>;
}

/**
 * Streams records into the archive format: records → blocks → Brotli (on the thread
 * pool, several blocks at once) → AES-256-GCM segments in order → `output`.
 *
 * `write` resolves when the writer has room again, so a fast producer is held back by
 * a slow destination and memory stays bounded (about `concurrency` + 2 blocks).
 */
export class ArchiveWriter {
  /** The archive bytes; hand this to StorageBackend.put. */
  readonly output: Readable;
  private readonly out = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  private readonly blockSize: number;
  private readonly segmentOffsets: number[] = [];
  /** The archive header: a browse directory is bound to it (docs/design.md §7). */
  private readonly headerBytes: Buffer;
  private readonly quality: number;
  private readonly concurrency: number;
  private readonly sealer: SegmentSealer;
  /** Set when the sealer is stopping or stopped; resolves once it runs no more. */
  private stopping: Promise<void> | undefined;
  private readonly file: FileSink | undefined;
  private readonly formatVersion: number;
  /** The trailer's digest of every record before it, fed block by block in order. */
  private readonly recordDigest: Promise<RecordDigest>;
  private block: Buffer;
  private readonly spareBlocks: Buffer[] = [];
  /** Settles once the last submitted block was handed to the sealer (they go in order). */
  private lastHandedOver: Promise<unknown> = Promise.resolve();
  /** Set when the trailer is being written: blocks after it are not in the record digest. */
  private recordsDigested = false;
  private fill = 0;
  private nextIndex = 0;
  private readonly queue: Pending[] = [];
  private archiveBytes = 0;
  private recordBytes = 0;
  private records = 0;
  private readonly counts: Record<string, number> = {};
  private sinceYield = 0;
  private failed: Error | undefined;
  private finished = false;

  constructor(options: ArchiveWriterOptions) {
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.quality = options.quality ?? DEFAULT_QUALITY;
    if (!Number.isInteger(this.quality) || this.quality < 0 || this.quality > 11) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'Compression quality must be a whole number from 0 to 11.',
      );
    }
    // One block per core in flight (plus one so a core never waits for the next block):
    // more only holds memory, as libuv's pool has no more cores to run them on.
    this.concurrency = Math.max(1, options.concurrency ?? Math.min(4, availableParallelism() + 1));
    const header = newHeader(
      this.blockSize,
      envelopeLengthFor(options.key.id),
      options.purpose ?? 'archive',
    );
    const dataKey = randomBytes(KEY_LENGTH);
    const envelope = sealEnvelope(header.bytes, options.key, dataKey);
    const keys: SegmentKeys = { dataKey, noncePrefix: header.noncePrefix, aad: header.bytes };
    this.headerBytes = header.bytes;
    this.formatVersion = header.version;
    this.recordDigest = createRecordDigest(header.version);
    this.recordDigest.catch(() => undefined); // awaited with the first block or at finish
    if (options.file && !options.sealOffThread) {
      throw new AppError(
        'INTERNAL',
        'An archive is written into a file by its sealing thread only.',
      );
    }
    this.file = options.file;
    this.sealer = options.sealOffThread
      ? new WorkerSealer(keys, options.file?.fd)
      : new InlineSealer(keys);
    this.block = this.newBlock();
    this.output = this.out;
    this.out.on('error', (error) => {
      this.failed ??= error;
    });
    const prelude = Buffer.concat([header.bytes, envelope.bytes]);
    this.sealer.prelude(prelude);
    // Into the file, the sealing thread writes the prelude too: here it is only counted.
    if (this.file) this.archiveBytes += prelude.length;
    else void this.emit(prelude);
  }

  /**
   * Where the next record starts in the plaintext record stream (the concatenated
   * blocks): a browse directory finds a record by it (docs/design.md §7).
   */
  get recordOffset(): number {
    return this.recordBytes;
  }

  /** Adds one record whose payload is JSON. */
  async writeJson(type: RecordType, value: unknown): Promise<void> {
    await this.writeText(type, JSON.stringify(value));
  }

  /**
   * Adds one record whose payload is the UTF-8 encoding of `text`; resolves to its size.
   * The text is encoded straight into the block: no intermediate buffer per record.
   */
  async writeText(type: RecordType, text: string): Promise<number> {
    this.assertOpen();
    const length = Buffer.byteLength(text, 'utf8');
    const prefix = this.countRecord(type, length);
    await this.append(prefix);
    if (length <= this.blockSize - this.fill) {
      this.fill += this.block.write(text, this.fill, 'utf8');
      this.sinceYield += length;
      await this.maybeYield();
    } else {
      await this.append(Buffer.from(text, 'utf8'));
    }
    return length;
  }

  async write(type: RecordType, payload: Buffer): Promise<void> {
    this.assertOpen();
    const prefix = this.countRecord(type, payload.length);
    await this.append(prefix);
    await this.append(payload);
  }

  /** Writes the trailer and the final segment, and ends `output`. */
  async finish(): Promise<WriteSummary> {
    this.assertOpen();
    // The record digest covers every record before the trailer: the blocks handed over,
    // then what the current block holds so far.
    await this.settled(this.lastHandedOver);
    this.recordsDigested = true;
    const digest = await this.settled(this.recordDigest);
    const trailer: Trailer = {
      records: this.records,
      counts: { ...this.counts },
      bytes: this.recordBytes,
      [trailerDigestField(this.formatVersion)]: digest
        .update(this.block.subarray(0, this.fill))
        .hex(),
    };
    const payload = Buffer.from(JSON.stringify(trailer), 'utf8');
    await this.append(encodeRecordPrefix(RecordType.Trailer, payload.length));
    await this.append(payload);
    this.finished = true;
    this.submit(this.block.subarray(0, this.fill), true);
    while (this.queue.length > 0) await this.sealNext();
    const archiveSha256 = await this.settled(this.sealer.archiveDigest());
    const stopped = this.stop();
    // The caller commits the file next: nothing may be writing into it by then.
    if (this.file) await stopped;
    this.out.end();
    return {
      trailer,
      archiveBytes: this.archiveBytes,
      archiveSha256,
      layout: {
        header: this.headerBytes,
        blockSize: this.blockSize,
        segmentOffsets: [...this.segmentOffsets, this.archiveBytes],
      },
    };
  }

  /** Stops the writer: `output` fails, so a destination discards what it received. */
  abort(reason: Error): void {
    this.failed ??= reason;
    this.finished = true;
    void this.stop();
    this.out.destroy(reason);
  }

  /**
   * Resolves once the sealer runs no more (after `abort`, or once `finish` resolved): from
   * then on nothing writes into the writer's file, which its owner may close.
   */
  stopped(): Promise<void> {
    return this.stopping ?? Promise.resolve();
  }

  private stop(): Promise<void> {
    return (this.stopping ??= this.sealer.close());
  }

  private countRecord(type: RecordType, payloadLength: number): Buffer {
    const prefix = encodeRecordPrefix(type, payloadLength);
    this.recordBytes += prefix.length + payloadLength;
    this.records++;
    const name = COUNT_NAMES[type];
    if (name) this.counts[name] = (this.counts[name] ?? 0) + 1;
    return prefix;
  }

  private assertOpen(): void {
    if (this.failed) throw this.failed;
    if (this.finished) throw new AppError('INTERNAL', 'The archive writer was already finished.');
  }

  private async append(bytes: Buffer): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.fill === this.blockSize) {
        // Only now is it known that this full block is not the last one.
        this.submit(this.block, false);
        this.block = this.spareBlocks.pop() ?? this.newBlock();
        this.fill = 0;
        if (this.queue.length >= this.concurrency) await this.sealNext();
      }
      const n = bytes.copy(this.block, this.fill, offset);
      this.fill += n;
      offset += n;
      this.sinceYield += n;
    }
    await this.maybeYield();
  }

  private async maybeYield(): Promise<void> {
    if (this.sinceYield >= YIELD_EVERY_BYTES) {
      // A producer whose writes all resolve at once (compression keeping up) would
      // otherwise hold the event loop for as long as it has records: yield regularly so
      // timers, I/O and UI messages keep flowing during a backup.
      this.sinceYield = 0;
      await yieldToEventLoop();
    }
  }

  /**
   * A block in an ArrayBuffer of its own (never Node's shared pool), so a worker sealer
   * can take it without a copy.
   */
  private newBlock(): Buffer {
    return Buffer.from(new ArrayBuffer(this.blockSize));
  }

  /**
   * Compresses the block (thread pool, blocks at once), then, in archive order whichever
   * compression finishes first, adds it to the record digest and hands it to the sealer.
   * The block belongs to the sealer from then on: it comes back with the segment.
   */
  private submit(block: Buffer, last: boolean): void {
    const index = this.nextIndex++;
    // Blocks submitted once finish() has begun hold the trailer, which the digest it
    // carries cannot cover; finish() digested the records before it in those blocks.
    const digested = !this.recordsDigested;
    const coded = compressBlock(block, this.quality);
    const handedOver = this.lastHandedOver
      .then(() => Promise.all([coded, this.recordDigest]))
      // Wrapped, so this settles when the sealer has the job, not when it is done.
      .then(([c, digest]) => {
        if (digested) digest.update(block);
        return { sealed: this.sealer.seal({ index, last, coded: c, plain: block }) };
      });
    this.lastHandedOver = handedOver;
    const sealed = handedOver.then((h) => h.sealed);
    handedOver.catch(() => undefined); // failures surface through sealed
    sealed.catch(() => undefined); // awaited in order by sealNext
    this.queue.push({ sealed });
  }

  private async sealNext(): Promise<void> {
    const { segment, length, plain } = await this.settled(this.queue.shift()!.sealed);
    // The segment holds its own copy: reuse the block rather than leave a megabyte of
    // garbage per block for the collector (it kept peak memory growing with size).
    if (plain.length === this.blockSize) this.spareBlocks.push(plain);
    this.segmentOffsets.push(this.archiveBytes);
    if (this.file) {
      // Already in the file, written by the sealing thread.
      this.archiveBytes += length;
      this.file.wrote(this.archiveBytes);
    } else {
      for (const part of segment) await this.emit(part);
    }
  }

  /**
   * Awaits sealing work; if the writer failed meanwhile, with the reason it failed for
   * (an abort stops the sealer, whose pending work then reports only that it stopped).
   * A failed write into the file (a full disk) is told as its owner tells it.
   */
  private async settled<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (this.failed) throw this.failed;
      throw this.file && !(error instanceof AppError) ? this.file.describe(error) : error;
    }
  }

  private async emit(bytes: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.archiveBytes += bytes.length;
    if (!this.out.write(bytes)) {
      await waitForDrain(this.out).catch(() => undefined);
      if (this.failed) throw this.failed;
      if (this.out.destroyed) {
        throw new AppError('CANCELLED', 'The archive destination stopped reading.');
      }
    }
  }
}
