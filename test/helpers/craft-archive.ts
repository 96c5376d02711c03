import { createHash, randomBytes } from 'node:crypto';
import {
  CODING_RAW,
  KEY_LENGTH,
  envelopeLengthFor,
  newHeader,
  sealEnvelope,
  type ObjectPurpose,
} from '../../src/engine/archive/format.js';
import {
  RECORD_PREFIX_LENGTH,
  RecordType,
  encodeRecordPrefix,
} from '../../src/engine/archive/records.js';
import { sealSegment, type CodedBlock } from '../../src/engine/archive/segment-codec.js';
import type { MasterKey } from '../../src/engine/keys/master-key.js';

/**
 * The plaintext record stream of an archive: the records, then a trailer that matches
 * them (docs/design.md §3.3), so a crafted archive is valid unless a test breaks it.
 */
export function recordStream(
  records: ReadonlyArray<{ type: RecordType; payload: Buffer }>,
): Buffer {
  const hash = createHash('sha256');
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
  const trailer = Buffer.from(
    JSON.stringify({
      records: records.length,
      counts: documents ? { 'firestore.documents': documents } : {},
      bytes,
      sha256: hash.digest('hex'),
    }),
  );
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
 * the wrong size, version 1 objects of any size).
 */
export function craftArchive(
  key: MasterKey,
  blocks: readonly CodedBlock[],
  options: { blockSize: number; purpose?: ObjectPurpose; version?: 1 | 2 },
): Buffer {
  const header = newHeader(options.blockSize, envelopeLengthFor(key.id), options.purpose);
  if (options.version === 1) {
    header.bytes.writeUInt16BE(1, 8);
    header.bytes[23] = 0;
  }
  const dataKey = randomBytes(KEY_LENGTH);
  const envelope = sealEnvelope(header.bytes, key, dataKey);
  const keys = { dataKey, noncePrefix: header.noncePrefix, aad: header.bytes };
  return Buffer.concat([
    header.bytes,
    envelope.bytes,
    ...blocks.map((block, i) => sealSegment(keys, i, i === blocks.length - 1, block)),
  ]);
}
