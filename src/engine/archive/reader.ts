import { createHash, type Hash } from 'node:crypto';
import type { Keyring } from '../keys/keyring.js';
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
  private readonly parser = new RecordParser();

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly keyring: Keyring,
    private readonly options: ArchiveReaderOptions = {},
  ) {
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
    const recordHash = createHash('sha256');
    const counts: Record<string, number> = {};
    let records = 0;
    let recordBytes = 0;
    let trailer: Trailer | undefined;
    const readAhead = Math.max(1, this.options.readAhead ?? 3);
    const pending: Array<{ index: number; last: boolean; block: Promise<Buffer> }> = [];
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

    while (!sawLast) {
      if (limits && index >= limits.maxSegments) throw tooLarge(purpose);
      const { coded, last } = await this.readSegment(keys, header.blockSize, index);
      sawLast = last;
      const segment = index++;
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
      block.catch(() => undefined); // awaited in order below
      pending.push({ index: segment, last, block });
      while (pending.length >= readAhead || (sawLast && pending.length > 0)) {
        const head = pending.shift()!;
        yield* consume(await head.block, head.index);
      }
    }
    parser.end();
    if (!trailer)
      throw corrupt('The archive has no trailer: the backup that wrote it did not finish.');
    const digest = recordHash.digest('hex');
    if (
      trailer.records !== records ||
      trailer.bytes !== recordBytes ||
      trailer.sha256 !== digest ||
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
    if (openSegment(keys, index, !last, sealed)) {
      throw corrupt(
        last
          ? `The archive is truncated: it ends after segment ${index}, which is not the final one.`
          : `Unexpected bytes follow the final segment (${index}) at byte ${this.bytes.offset}: data was appended to the archive.`,
      );
    }
    throw corrupt(
      `Segment ${index} (at byte ${start}) failed authentication: the archive is corrupt or was tampered with.`,
    );
  }
}

function tooLarge(purpose: ObjectPurpose): Error {
  return corrupt(
    `The object is too large for ${purpose === 'manifest' ? 'a manifest' : 'what was asked'}: reading stopped before buffering more (it may be an archive put in its place).`,
  );
}

function sortKeys(record: Record<string, number>): Array<[string, number]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
