import { Readable } from 'node:stream';
import type { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';
import type { ObjectPurpose } from './format.js';
import { ArchiveReader, type ArchiveReaderOptions, type ReadSummary } from './reader.js';
import type { RawRecord, RecordType } from './records.js';
import { ArchiveWriter, type WriteSummary } from './writer.js';

/** Seals a few JSON records into one in-memory archive (manifests, test vectors). */
export async function sealJsonRecords(
  key: MasterKey,
  records: ReadonlyArray<{ type: RecordType; value: unknown }>,
  options: {
    blockSize?: number;
    purpose?: ObjectPurpose;
    /** Brotli quality (the writer's default otherwise). */
    quality?: number;
    /** Told where each record went in the record stream, and its whole length. */
    onRecord?: (type: RecordType, value: unknown, position: number, length: number) => void;
  } = {},
): Promise<{ bytes: Buffer; summary: WriteSummary }> {
  const writer = new ArchiveWriter({
    key,
    blockSize: options.blockSize ?? 64 * 1024,
    purpose: options.purpose ?? 'archive',
    ...(options.quality === undefined ? {} : { quality: options.quality }),
  });
  const chunks: Buffer[] = [];
  writer.output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    writer.output.once('end', resolve);
    writer.output.once('error', reject);
  });
  for (const { type, value } of records) {
    const position = writer.recordOffset;
    await writer.writeJson(type, value);
    options.onRecord?.(type, value, position, writer.recordOffset - position);
  }
  const summary = await writer.finish();
  await ended;
  return { bytes: Buffer.concat(chunks), summary };
}

/**
 * Reads every record of a small archive into memory. A manifest read (purpose
 * 'manifest') is capped by MANIFEST_READ_LIMITS, so what it buffers stays small.
 */
export async function openAllRecords(
  bytes: Buffer | AsyncIterable<Uint8Array>,
  keyring: Keyring,
  options: ArchiveReaderOptions = {},
): Promise<{ records: RawRecord[]; summary: ReadSummary }> {
  const source: AsyncIterable<Uint8Array> = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
  const reader = new ArchiveReader(source, keyring, options);
  const records: RawRecord[] = [];
  for await (const record of reader.records()) records.push(record);
  return { records, summary: reader.summary! };
}
