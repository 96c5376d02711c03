import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';

/** The container layout of docs/design.md §2. Every constant here is part of the format. */
export const MAGIC = Buffer.from([0x89, 0x46, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The version writers produce. */
export const FORMAT_VERSION = 3;
/**
 * Versions readers accept: 1 (master key wraps directly, no purpose), 2, and 3 (as 2, with
 * the trailer digest XXH64 instead of SHA-256: record-digest.ts).
 */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3];
export const HEADER_LENGTH = 24;
export const NONCE_PREFIX_LENGTH = 7;
export const TAG_LENGTH = 16;
export const KEY_LENGTH = 32;
export const WRAP_NONCE_LENGTH = 12;
export const MIN_BLOCK_SIZE = 4 * 1024;
export const MAX_BLOCK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Segment body codings (first plaintext byte of a segment). */
export const CODING_RAW = 0x00;
export const CODING_BROTLI = 0x01;

/**
 * What an object is (header byte 23 in version 2, authenticated as part of the header):
 * an archive can never stand in for a manifest, nor a manifest for an archive.
 * 0x03–0x0f are reserved for configuration objects; 0x10 is a browse directory (§7).
 */
export const Purpose = { archive: 0x01, manifest: 0x02, browseDirectory: 0x10 } as const;
export type ObjectPurpose = keyof typeof Purpose;
const PURPOSE_NAMES: Record<number, string> = {
  0x01: 'a backup archive',
  0x02: 'a manifest',
  0x10: 'a browse directory',
};

export interface ArchiveHeader {
  version: number;
  /** Header byte 23 in version 2; undefined for version 1, which has no purpose. */
  purpose: number | undefined;
  blockSize: number;
  noncePrefix: Buffer;
  /** The 24 header bytes: the associated data of every segment. */
  bytes: Buffer;
}

export interface Envelope {
  keyId: string;
  wrapNonce: Buffer;
  wrappedKey: Buffer;
  bytes: Buffer;
}

export function corrupt(message: string): AppError {
  return new AppError('ARCHIVE_CORRUPT', message);
}

export function newHeader(
  blockSize: number,
  envelopeLength: number,
  purpose: ObjectPurpose = 'archive',
): ArchiveHeader {
  if (!Number.isInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Block size must be between ${MIN_BLOCK_SIZE} and ${MAX_BLOCK_SIZE} bytes.`,
    );
  }
  const bytes = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt16BE(FORMAT_VERSION, 8);
  bytes.writeUInt16BE(envelopeLength, 10);
  bytes.writeUInt32BE(blockSize, 12);
  const noncePrefix = randomBytes(NONCE_PREFIX_LENGTH);
  noncePrefix.copy(bytes, 16);
  bytes[23] = Purpose[purpose];
  return { version: FORMAT_VERSION, purpose: Purpose[purpose], blockSize, noncePrefix, bytes };
}

/**
 * Parses the fixed header. The magic and then the version are checked before anything
 * else is interpreted, so a future format is refused cleanly rather than misread.
 */
export function parseHeader(bytes: Buffer): ArchiveHeader & { envelopeLength: number } {
  if (bytes.length < HEADER_LENGTH || !bytes.subarray(0, 8).equals(MAGIC)) {
    throw corrupt(
      bytes.length < HEADER_LENGTH && MAGIC.subarray(0, bytes.length).equals(bytes)
        ? 'The archive is truncated: it ends inside its header.'
        : 'This is not a FireBackup archive (its first bytes are not the .fbk signature).',
    );
  }
  const version = bytes.readUInt16BE(8);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new AppError(
      'ARCHIVE_UNSUPPORTED',
      `This archive uses format version ${version}; this FireBackup reads versions ${READABLE_VERSIONS[0]} to ${READABLE_VERSIONS.at(-1)}. Upgrade FireBackup to read it.`,
    );
  }
  const blockSize = bytes.readUInt32BE(12);
  const purpose = version === 1 ? undefined : bytes[23]!;
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    throw corrupt('The archive header is corrupt (impossible block size).');
  }
  if (purpose === undefined ? bytes[23] !== 0 : !PURPOSE_NAMES[purpose]) {
    throw corrupt(
      `The archive header is corrupt (${purpose === undefined ? 'reserved byte' : `unknown purpose ${purpose}`}).`,
    );
  }
  return {
    version,
    purpose,
    blockSize,
    envelopeLength: bytes.readUInt16BE(10),
    noncePrefix: Buffer.from(bytes.subarray(16, 23)),
    bytes: Buffer.from(bytes.subarray(0, HEADER_LENGTH)),
  };
}

/**
 * Refuses an object made for another purpose (docs/design.md §2.1). Version 1 objects
 * carry no purpose and pass; the reader's size limits guard those.
 */
export function checkPurpose(header: ArchiveHeader, expected: ObjectPurpose): void {
  if (header.purpose === undefined || header.purpose === Purpose[expected]) return;
  throw corrupt(
    `This object is ${PURPOSE_NAMES[header.purpose]}, not ${PURPOSE_NAMES[Purpose[expected]]}: it was put in the place of another (a copied or renamed file).`,
  );
}

/**
 * Refuses an envelope that names another key than the one expected (the manifest's
 * keyId): a flipped bit in the key id, or another backup's archive, is corruption, not a
 * missing key.
 */
export function checkEnvelopeKeyId(envelope: Envelope, expected: string | readonly string[]): void {
  const ids = typeof expected === 'string' ? [expected] : expected;
  if (ids.includes(envelope.keyId)) return;
  throw corrupt(
    `The archive's key envelope names key ${envelope.keyId}, but its manifest names key ${ids.join(' or ')}: the archive header is corrupt or this is not the backup's archive.`,
  );
}

export function envelopeLengthFor(keyId: string): number {
  return 1 + Buffer.byteLength(keyId, 'ascii') + WRAP_NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;
}

function wrapAad(header: Buffer, keyIdBytes: Buffer): Buffer {
  return Buffer.concat([header, Buffer.from([keyIdBytes.length]), keyIdBytes]);
}

/**
 * The key that wraps data keys, by the header's version: the derived wrap key in
 * version 2, the master key itself in version 1 (docs/design.md §2.2).
 */
function wrappingKey(header: Buffer, master: MasterKey): Buffer {
  return header.readUInt16BE(8) === 1 ? master.material() : master.wrapKey();
}

/**
 * Wraps a data key under the master key; the envelope authenticates the header too.
 * Also re-wraps an existing archive's data key (`keys rewrap`): the header is kept, so
 * its version decides how the key is wrapped.
 */
export function sealEnvelope(header: Buffer, master: MasterKey, dataKey: Buffer): Envelope {
  const keyIdBytes = Buffer.from(master.id, 'ascii');
  const wrapNonce = randomBytes(WRAP_NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(header, master), wrapNonce, {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(wrapAad(header, keyIdBytes));
  const wrappedKey = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  const bytes = Buffer.concat([
    Buffer.from([keyIdBytes.length]),
    keyIdBytes,
    wrapNonce,
    wrappedKey,
  ]);
  return { keyId: master.id, wrapNonce, wrappedKey, bytes };
}

export function parseEnvelope(bytes: Buffer): Envelope {
  const idLength = bytes[0] ?? 0;
  if (idLength < 1 || idLength > 64 || bytes.length !== envelopeLengthFor('x'.repeat(idLength))) {
    throw corrupt('The archive header is corrupt (its key envelope has an impossible length).');
  }
  // Decode as latin1 and check: 'ascii' decoding drops the high bit, so a flipped bit
  // there would read as the same id and go unnoticed.
  const keyId = bytes.subarray(1, 1 + idLength).toString('latin1');
  if (!/^[\x21-\x7e]+$/.test(keyId)) {
    throw corrupt('The archive header is corrupt (its key id is not printable ASCII).');
  }
  const wrapNonce = Buffer.from(bytes.subarray(1 + idLength, 1 + idLength + WRAP_NONCE_LENGTH));
  const wrappedKey = Buffer.from(bytes.subarray(1 + idLength + WRAP_NONCE_LENGTH));
  return { keyId, wrapNonce, wrappedKey, bytes: Buffer.from(bytes) };
}

/** Finds the master key named by the envelope and unwraps the archive's data key. */
export function openEnvelope(header: Buffer, envelope: Envelope, keyring: Keyring): Buffer {
  const master = keyring.require(envelope.keyId);
  const keyIdBytes = Buffer.from(envelope.keyId, 'ascii');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    wrappingKey(header, master),
    envelope.wrapNonce,
    {
      authTagLength: TAG_LENGTH,
    },
  );
  decipher.setAAD(wrapAad(header, keyIdBytes));
  decipher.setAuthTag(envelope.wrappedKey.subarray(KEY_LENGTH));
  try {
    return Buffer.concat([
      decipher.update(envelope.wrappedKey.subarray(0, KEY_LENGTH)),
      decipher.final(),
    ]);
  } catch {
    throw corrupt(
      `The archive header failed authentication under key ${envelope.keyId}: the header is corrupt or was tampered with.`,
    );
  }
}

export function segmentNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  if (index > 0xffffffff) throw corrupt('The archive has more segments than the format allows.');
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** The largest segment (ciphertext + tag) a block of `blockSize` bytes can produce. */
export function maxSegmentLength(blockSize: number): number {
  return 1 + blockSize + Math.floor(blockSize / 8) + 1024 + TAG_LENGTH;
}
