import { randomBytes } from 'node:crypto';
import {
  CODING_RAW,
  FORMAT_VERSION,
  KEY_LENGTH,
  envelopeLengthFor,
  newHeader,
  sealEnvelope,
  type ObjectPurpose,
} from '../../src/engine/archive/format.js';
import { createRecordDigest, trailerDigestField } from '../../src/engine/archive/record-digest.js';
import {
  RECORD_PREFIX_LENGTH,
  RecordType,
  encodeRecordPrefix,
} from '../../src/engine/archive/records.js';
import { sealSegment, type CodedBlock } from '../../src/engine/archive/segment-codec.js';
import type { MasterKey } from '../../src/engine/keys/master-key.js';

/**
 * The plaintext record stream of an archive: the records, then a trailer that matches
 * them (docs/design.md §3.3) in the given format version, so a crafted archive is valid
 * unless a test breaks it (`trailer` may change the trailer before it is encoded).
 */
export async function recordStream(
  records: ReadonlyArray<{ type: RecordType; payload: Buffer }>,
  options: { version?: number; trailer?: (trailer: Record<string, unknown>) => object } = {},
): Promise<Buffer> {
  const version = options.version ?? FORMAT_VERSION;
  const hash = await createRecordDigest(version);
  const parts: Buffer[] = [];
  let bytes = 0;
  let documents = 0;
  for (const { type, payload } of records) {
    const prefix = encodeRecordPrefix(type, payload.length);
    hash.update(prefix).update(payload);
    parts.push(prefix, payload);
    bytes += RECORD_PREFIX_LENGTH + payload.length;
    if (type === RecordType.FirestoreDocument) documents++;
  }
  const matching = {
    records: records.length,
    counts: documents ? { 'firestore.documents': documents } : {},
    bytes,
    [trailerDigestField(version)]: hash.hex(),
  };
  const trailer = Buffer.from(JSON.stringify(options.trailer?.(matching) ?? matching));
  parts.push(encodeRecordPrefix(RecordType.Trailer, trailer.length), trailer);
  return Buffer.concat(parts);
}

/** Cuts a plaintext stream into raw (uncompressed) blocks of `blockSize` bytes. */
export function rawBlocks(plain: Buffer, blockSize: number): CodedBlock[] {
  const blocks: CodedBlock[] = [];
  for (let at = 0; at < plain.length; at += blockSize) {
    blocks.push({ coding: CODING_RAW, payload: plain.subarray(at, at + blockSize) });
  }
  return blocks;
}

/**
 * Seals given coded blocks into an archive with the key, as a writer would but without
 * its checks: for tests of what a reader does with archives no writer makes (blocks of
 * the wrong size, trailers that do not match, objects of older versions of any size).
 */
export function craftArchive(
  key: MasterKey,
  blocks: readonly CodedBlock[],
  options: { blockSize: number; purpose?: ObjectPurpose; version?: number },
): Buffer {
  const header = newHeader(options.blockSize, envelopeLengthFor(key.id), options.purpose);
  // Set before the envelope, which authenticates the header.
  header.bytes.writeUInt16BE(options.version ?? FORMAT_VERSION, 8);
  if (options.version === 1) header.bytes[23] = 0;
  const dataKey = randomBytes(KEY_LENGTH);
  const envelope = sealEnvelope(header.bytes, key, dataKey);
  const keys = { dataKey, noncePrefix: header.noncePrefix, aad: header.bytes };
  return Buffer.concat([
    header.bytes,
    envelope.bytes,
    ...blocks.map((block, i) => sealSegment(keys, i, i === blocks.length - 1, block)),
  ]);
}
