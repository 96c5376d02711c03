import type { Keyring } from '../keys/keyring.js';
import {
  HEADER_LENGTH,
  checkEnvelopeKeyId,
  checkPurpose,
  corrupt,
  envelopeLengthFor,
  maxSegmentLength,
  openEnvelope,
  parseEnvelope,
  parseHeader,
  type ArchiveHeader,
} from './format.js';
import {
  MAX_RECORD_PAYLOAD,
  RECORD_PREFIX_LENGTH,
  type RawRecord,
  type RecordType,
} from './records.js';
import { decompressBlock, openSegment, type SegmentKeys } from './segment-codec.js';

/** Reads bytes [start, end) of the archive object (a ranged read of the destination). */
export type RangeReader = (start: number, end: number) => Promise<Buffer>;

/** The longest header ‖ envelope there can be (a 64-character key id). */
const MAX_PREFIX_LENGTH = HEADER_LENGTH + envelopeLengthFor('x'.repeat(64));

/** Where the segments are, from a browse directory (docs/design.md §7). */
export interface SegmentMap {
  /** offsets[i]: where segment i starts; the last entry: where the last listed one ends. */
  offsets: readonly number[];
  /** Segments in the whole archive: the last one is opened with the final flag. */
  segments: number;
}

/**
 * Random access to an archive's segments by ranged reads, given where they are. Every
 * segment is authenticated as segment `s` of THIS archive (its data key, its header as
 * associated data, `s` and the final flag in the nonce) before a byte of it is used, so
 * a wrong offset, a tampered or moved segment is refused, never shown. It does not read
 * the whole archive, so it checks neither the trailer nor the archive's digest: `verify`
 * does (docs/design.md §7.2).
 */
export class SeekableArchive {
  /** Decrypted blocks kept for the next reads (a page's documents share segments). */
  private readonly blocks = new Map<number, Promise<Buffer>>();

  private constructor(
    readonly header: ArchiveHeader,
    private readonly keys: SegmentKeys,
    private readonly map: SegmentMap,
    private readonly read: RangeReader,
    private readonly label: string,
    private readonly cacheBlocks: number,
  ) {}

  /**
   * Reads and authenticates the header and key envelope (one ranged read of the first
   * bytes); the envelope must name one of `expectKeyIds` (the manifest's).
   */
  static async open(
    read: RangeReader,
    keyring: Keyring,
    options: {
      expectKeyIds: readonly string[];
      map: SegmentMap;
      label: string;
      cacheBlocks?: number;
    },
  ): Promise<SeekableArchive> {
    const first = await read(0, MAX_PREFIX_LENGTH);
    const header = parseHeader(first.subarray(0, HEADER_LENGTH));
    checkPurpose(header, 'archive');
    const end = HEADER_LENGTH + header.envelopeLength;
    if (first.length < end) throw corrupt('The archive is truncated: it ends inside its header.');
    const envelope = parseEnvelope(first.subarray(HEADER_LENGTH, end));
    checkEnvelopeKeyId(envelope, options.expectKeyIds);
    const keys: SegmentKeys = {
      dataKey: openEnvelope(header.bytes, envelope, keyring),
      noncePrefix: header.noncePrefix,
      aad: header.bytes,
    };
    return new SeekableArchive(
      header,
      keys,
      options.map,
      read,
      options.label,
      options.cacheBlocks ?? 8,
    );
  }

  /** The record that starts at `position` of the plaintext record stream. */
  async recordAt(position: number): Promise<RawRecord> {
    const size = this.header.blockSize;
    let segment = Math.floor(position / size);
    const parts: Buffer[] = [];
    let have = 0;
    let block = (await this.block(segment)).subarray(position % size);
    let want = RECORD_PREFIX_LENGTH;
    let known = false;
    for (;;) {
      parts.push(block);
      have += block.length;
      if (!known && have >= RECORD_PREFIX_LENGTH) {
        const length = (parts.length === 1 ? block : Buffer.concat(parts)).readUInt32BE(1);
        if (length > MAX_RECORD_PAYLOAD) {
          throw corrupt(
            `${this.label}: the browse directory points at no record (segment ${segment}).`,
          );
        }
        want += length;
        known = true;
      }
      if (have >= want) break;
      block = await this.block(++segment);
    }
    const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    return {
      type: whole[0] as RecordType,
      payload: whole.subarray(RECORD_PREFIX_LENGTH, want),
    };
  }

  /** Block `s`, authenticated and decompressed (kept for a few reads). */
  private block(s: number): Promise<Buffer> {
    let block = this.blocks.get(s);
    if (block) {
      this.blocks.delete(s);
    } else {
      block = this.readBlock(s);
      // A failed read is not kept: the next request tries again (and fails the same way
      // if the bytes are bad).
      block.catch(() => this.blocks.delete(s));
    }
    this.blocks.set(s, block);
    while (this.blocks.size > this.cacheBlocks)
      this.blocks.delete(this.blocks.keys().next().value!);
    return block;
  }

  private async readBlock(s: number): Promise<Buffer> {
    const { offsets, segments } = this.map;
    if (s + 1 >= offsets.length) {
      throw corrupt(
        `${this.label}: a record runs past the segments its browse directory lists (segment ${s}).`,
      );
    }
    const start = offsets[s]!;
    const end = offsets[s + 1]!;
    const bytes = await this.read(start, end);
    const size = this.header.blockSize;
    if (bytes.length !== end - start) {
      throw corrupt(
        `${this.label}: the archive is truncated: it ends inside segment ${s} (at byte ${start + bytes.length}).`,
      );
    }
    const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
    if (length !== bytes.length - 4 || length < 17 || length > maxSegmentLength(size)) {
      throw corrupt(
        `${this.label}: segment ${s} (at byte ${start}) is not where the browse directory says, or its length is corrupt.`,
      );
    }
    const last = s === segments - 1;
    const coded = openSegment(this.keys, s, last, bytes.subarray(4));
    if (!coded) {
      throw corrupt(
        `${this.label}: segment ${s} (at byte ${start}) failed authentication: the archive is corrupt or was tampered with.`,
      );
    }
    const plain = await decompressBlock(coded, size, s);
    if (plain.length === 0 || plain.length > size || (!last && plain.length !== size)) {
      throw corrupt(
        `${this.label}: segment ${s} holds a block of the wrong size (${plain.length} bytes; the block size is ${size}).`,
      );
    }
    return plain;
  }
}
