import { createHash, type Hash } from 'node:crypto';
import type { Keyring } from '../keys/keyring.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { ByteSource } from './byte-source.js';
import {
  HEADER_LENGTH,
  checkEnvelopeKeyId,
  checkPurpose,
  corrupt,
  maxSegmentLength,
  openEnvelope,
  parseEnvelope,
  parseHeader,
  type ArchiveHeader,
  type Envelope,
  type ObjectPurpose,
} from './format.js';
import {
  COUNT_NAMES,
  RECORD_PREFIX_LENGTH,
  RecordParser,
  RecordType,
  encodeRecordPrefix,
  parseJsonPayload,
  type RawRecord,
} from './records.js';
import {
  decompressBlock,
  openSegment,
  type CodedBlock,
  type SegmentKeys,
} from './segment-codec.js';
import type { Trailer } from './writer.js';
import { createRecordDigest, trailerDigestField } from './record-digest.js';

export interface ReadSummary {
  trailer: Trailer;
  segments: number;
  archiveBytes: number;
  /** SHA-256 of the archive bytes as read. */
  archiveSha256: string;
}

export interface ArchiveReaderOptions {
  /** Segments decompressed ahead of the consumer. */
  readAhead?: number;
  /** What the object must be (docs/design.md §2.1); 'archive' unless said. */
  purpose?: ObjectPurpose;
  /**
   * The key id the envelope must name, when known (the manifest's keyId; during a
   * `keys rewrap` also the previous archive's, see expectedKeyIds): another id is
   * ARCHIVE_CORRUPT, not KEY_NOT_FOUND.
   */
  expectKeyId?: string | readonly string[];
  /** Caps for reads whose records are buffered; manifests get MANIFEST_READ_LIMITS. */
  limits?: ReadLimits;
  /**
   * Called with the header and envelope bytes and the envelope's key id, before any key
   * is looked up: a caller that knows which archive it expects can refuse another here.
   */
  onPrologue?: (prologue: { bytes: Buffer; keyId: string }) => void;
  /**
   * Called with each segment's sealed bytes (ciphertext ‖ tag) before they are opened,
   * so before any record of the segment is yielded: a caller can bind this read to an
   * earlier one (operations/bind-to-manifest.ts).
   */
  onSegment?: (index: number, sealed: Buffer) => void;
  /**
   * Salvage mode (restore --salvage; never the default): a segment that fails
   * authentication or decompression is skipped and recorded in `report` instead of
   * failing the read, and the record stream resumes at the next record `accept` takes
   * as valid. A truncated archive yields what authenticated. The trailer's check cannot
   * pass once anything was skipped: it is reported as not verifiable.
   */
  salvage?: { report: SalvageReport; accept: (type: RecordType, payload: Buffer) => boolean };
}

/** What a salvaging read skipped. */
export interface SalvageReport {
  /** Segments that did not authenticate or decompress: index, byte range [start, end), why. */
  skippedSegments: Array<{ index: number; start: number; end: number; reason: string }>;
  /** Why reading stopped before the final segment (truncation, an unreadable length). */
  stoppedEarly?: string;
  /** Records cut by a gap (their start or end lay in a skipped segment). */
  droppedRecords: number;
  /** Plaintext bytes skipped while looking for the next record after a gap. */
  resyncBytes: number;
  /** The trailer, when its record survived (its counts say what the archive held). */
  trailer?: Trailer;
  /** 'verified' when nothing was skipped; otherwise the counts and digest cannot match. */
  trailerCheck: 'verified' | 'not verifiable';
}

export function emptySalvageReport(): SalvageReport {
  return { skippedSegments: [], droppedRecords: 0, resyncBytes: 0, trailerCheck: 'verified' };
}

/** A segment salvage skipped, in place of its block. */
interface Skipped {
  skipped: string;
}

export interface ReadLimits {
  maxBlockSize: number;
  maxSegments: number;
  /** Decompressed bytes across all segments. */
  maxPlaintextBytes: number;
}

/** A manifest is about a kilobyte in one segment; these leave room and bound memory. */
export const MANIFEST_READ_LIMITS: ReadLimits = {
  maxBlockSize: 1024 * 1024,
  maxSegments: 8,
  maxPlaintextBytes: 1024 * 1024,
};

/** The header and key envelope at the start of an archive, as stored. */
export interface ArchivePrefix {
  header: ReturnType<typeof parseHeader>;
  envelope: Envelope;
  /** header ‖ envelope, exactly as stored. */
  bytes: Buffer;
}

/** Reads just the header and key envelope of an archive, without any key. */
export async function readArchivePrefix(source: AsyncIterable<Uint8Array>): Promise<ArchivePrefix> {
  const bytes = new ByteSource(source);
  try {
    const header = parseHeader(await bytes.read(HEADER_LENGTH, 'the header'));
    const envelope = parseEnvelope(await bytes.read(header.envelopeLength, 'the key envelope'));
    return { header, envelope, bytes: Buffer.concat([header.bytes, envelope.bytes]) };
  } finally {
    await bytes.close();
  }
}

/** Reads just the key id of an archive from its first bytes, without any key. */
export async function peekKeyId(source: AsyncIterable<Uint8Array>): Promise<string> {
  return (await readArchivePrefix(source)).envelope.keyId;
}

/**
 * Streams the records out of an archive, authenticating every segment before any of
 * its bytes are parsed, and checking the trailer (counts, digest), the final-segment
 * flag and the end of the file. Memory: a few blocks, whatever the archive's size.
 *
 * Iterate `records()` once; it yields every record except the trailer, and `summary`
 * is set when it completes. Any failure throws ARCHIVE_CORRUPT (or a key error) with
 * a message naming what is wrong and where.
 */
export class ArchiveReader {
  summary: ReadSummary | undefined;
  header: ArchiveHeader | undefined;
  keyId: string | undefined;
  private readonly bytes: ByteSource;
  private readonly archiveHash: Hash = createHash('sha256');
  private readonly parser: RecordParser;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly keyring: Keyring,
    private readonly options: ArchiveReaderOptions = {},
  ) {
    this.parser = new RecordParser(options.salvage?.accept);
    const hash = this.archiveHash;
    this.bytes = new ByteSource(
      (async function* hashing() {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      })(),
    );
  }

  /** Bytes copied to reassemble records that span blocks (linear in the archive). */
  get recordBytesCopied(): number {
    return this.parser.bytesCopied;
  }

  async *records(): AsyncGenerator<RawRecord> {
    try {
      yield* this.readAll();
    } finally {
      await this.bytes.close();
    }
  }

  private async *readAll(): AsyncGenerator<RawRecord> {
    const purpose = this.options.purpose ?? 'archive';
    const limits =
      this.options.limits ?? (purpose === 'manifest' ? MANIFEST_READ_LIMITS : undefined);
    const header = parseHeader(await this.bytes.read(HEADER_LENGTH, 'the header'));
    checkPurpose(header, purpose);
    if (limits && header.blockSize > limits.maxBlockSize) throw tooLarge(purpose);
    const envelope = parseEnvelope(
      await this.bytes.read(header.envelopeLength, 'the key envelope'),
    );
    if (this.options.expectKeyId !== undefined)
      checkEnvelopeKeyId(envelope, this.options.expectKeyId);
    this.header = header;
    this.keyId = envelope.keyId;
    this.options.onPrologue?.({
      bytes: Buffer.concat([header.bytes, envelope.bytes]),
      keyId: envelope.keyId,
    });
    const keys: SegmentKeys = {
      dataKey: openEnvelope(header.bytes, envelope, this.keyring),
      noncePrefix: header.noncePrefix,
      aad: header.bytes,
    };

    const parser = this.parser;
    let plaintextBytes = 0;
    const recordHash = await createRecordDigest(header.version);
    const counts: Record<string, number> = {};
    let records = 0;
    let recordBytes = 0;
    let trailer: Trailer | undefined;
    const readAhead = Math.max(1, this.options.readAhead ?? 3);
    const pending: Array<{ index: number; last: boolean; block: Promise<Buffer | Skipped> }> = [];
    let index = 0;
    let sawLast = false;

    const consume = function* (block: Buffer, segment: number): Generator<RawRecord> {
      for (const record of parser.push(block)) {
        if (trailer) throw corrupt(`Segment ${segment} holds records after the trailer.`);
        if (record.type === RecordType.Trailer) {
          trailer = parseJsonPayload<Trailer>(record);
          continue;
        }
        recordHash
          .update(encodeRecordPrefix(record.type, record.payload.length))
          .update(record.payload);
        recordBytes += RECORD_PREFIX_LENGTH + record.payload.length;
        records++;
        const name = COUNT_NAMES[record.type];
        if (name) counts[name] = (counts[name] ?? 0) + 1;
        yield record;
      }
    };

    const salvage = this.options.salvage?.report;
    const damaged = (): boolean =>
      Boolean(salvage && (salvage.skippedSegments.length > 0 || salvage.stoppedEarly));
    while (!sawLast) {
      if (limits && index >= limits.maxSegments) throw tooLarge(purpose);
      const start = this.bytes.offset;
      let read: { coded: CodedBlock; last: boolean } | Skipped;
      try {
        read = await this.readSegment(keys, header.blockSize, index);
      } catch (error) {
        if (!salvage || !isCorrupt(error)) throw error;
        if (error instanceof SegmentUnreadable) {
          read = { skipped: error.message };
        } else {
          // Truncated, an impossible length, or bytes after the final segment: the next
          // segment cannot be located, so reading ends here with what authenticated.
          salvage.stoppedEarly = (error as Error).message;
          break;
        }
      }
      const segment = index++;
      const end = this.bytes.offset;
      if ('skipped' in read) {
        salvage!.skippedSegments.push({ index: segment, start, end, reason: read.skipped });
        pending.push({ index: segment, last: false, block: Promise.resolve(read) });
      } else {
        const { coded, last } = read;
        sawLast = last;
        const block = decompressBlock(coded, header.blockSize, segment).then((plain) => {
          // Every block, raw or decompressed, final or not, is at most B bytes.
          if (
            plain.length === 0 ||
            plain.length > header.blockSize ||
            (!last && plain.length !== header.blockSize)
          ) {
            throw corrupt(
              `Segment ${segment} holds a block of the wrong size (${plain.length} bytes; the block size is ${header.blockSize}).`,
            );
          }
          plaintextBytes += plain.length;
          if (limits && plaintextBytes > limits.maxPlaintextBytes) throw tooLarge(purpose);
          return plain;
        });
        const kept: Promise<Buffer | Skipped> = salvage
          ? block.catch((error: unknown) => {
              if (!isCorrupt(error)) throw error;
              salvage.skippedSegments.push({
                index: segment,
                start,
                end,
                reason: (error as Error).message,
              });
              return { skipped: (error as Error).message };
            })
          : block;
        kept.catch(() => undefined); // awaited in order below
        pending.push({ index: segment, last, block: kept });
      }
      while (pending.length >= readAhead || (sawLast && pending.length > 0)) {
        const head = pending.shift()!;
        const plain = await head.block;
        if ('skipped' in plain) parser.gap();
        else yield* consume(plain, head.index);
      }
    }
    for (const head of pending.splice(0)) {
      const plain = await head.block;
      if ('skipped' in plain) parser.gap();
      else yield* consume(plain, head.index);
    }
    parser.end();
    if (salvage) {
      salvage.droppedRecords = parser.droppedRecords;
      salvage.resyncBytes = parser.resyncBytes;
      if (trailer) salvage.trailer = trailer;
      if (damaged()) {
        // Records are missing, so the trailer's counts and digest cannot match.
        salvage.trailerCheck = 'not verifiable';
        return;
      }
    }
    if (!trailer)
      throw corrupt('The archive has no trailer: the backup that wrote it did not finish.');
    if (
      trailer.records !== records ||
      trailer.bytes !== recordBytes ||
      trailer[trailerDigestField(header.version)] !== recordHash.hex() ||
      JSON.stringify(sortKeys(trailer.counts)) !== JSON.stringify(sortKeys(counts))
    ) {
      throw corrupt('The archive trailer does not match its records (counts or digest differ).');
    }
    this.summary = {
      trailer,
      segments: index,
      archiveBytes: this.bytes.offset,
      archiveSha256: this.archiveHash.digest('hex'),
    };
  }

  /**
   * Reads segment `index`. Whether it should be the final one is decided by whether
   * bytes follow it; when authentication fails, the other flag is tried only to name
   * the problem precisely (truncated vs. appended bytes vs. corrupt).
   */
  private async readSegment(
    keys: SegmentKeys,
    blockSize: number,
    index: number,
  ): Promise<{ coded: CodedBlock; last: boolean }> {
    const start = this.bytes.offset;
    const length = (await this.bytes.read(4, `the length of segment ${index}`)).readUInt32BE(0);
    if (length < 17 || length > maxSegmentLength(blockSize)) {
      throw corrupt(
        `Segment ${index} (at byte ${start}) has an impossible length ${length}: the archive is corrupt.`,
      );
    }
    const sealed = await this.bytes.read(length, `segment ${index}`);
    this.options.onSegment?.(index, sealed);
    const last = await this.bytes.atEnd();
    const coded = openSegment(keys, index, last, sealed);
    if (coded) return { coded, last };
    const other = openSegment(keys, index, !last, sealed);
    if (other) {
      const problem = last
        ? `The archive is truncated: it ends after segment ${index}, which is not the final one.`
        : `Unexpected bytes follow the final segment (${index}) at byte ${this.bytes.offset}: data was appended to the archive.`;
      if (!this.options.salvage) throw corrupt(problem);
      // Salvage: the segment itself is intact; reading ends after it.
      this.options.salvage.report.stoppedEarly = problem;
      return { coded: other, last: true };
    }
    throw new SegmentUnreadable(
      `Segment ${index} (at byte ${start}) failed authentication: the archive is corrupt or was tampered with.`,
    );
  }
}

/** A segment that does not authenticate but whose length was read: the next one can be found. */
class SegmentUnreadable extends AppError {
  constructor(message: string) {
    super('ARCHIVE_CORRUPT', message);
  }
}

function isCorrupt(error: unknown): boolean {
  return isAppError(error) && error.code === 'ARCHIVE_CORRUPT';
}

function tooLarge(purpose: ObjectPurpose): Error {
  return corrupt(
    `The object is too large for ${purpose === 'manifest' ? 'a manifest' : 'what was asked'}: reading stopped before buffering more (it may be an archive put in its place).`,
  );
}

function sortKeys(record: Record<string, number>): Array<[string, number]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
