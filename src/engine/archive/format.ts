import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';

/** The container layout of docs/design.md §2. Every constant here is part of the format. */
export const MAGIC = Buffer.from([0x89, 0x46, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FORMAT_VERSION = 1;
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

export interface ArchiveHeader {
  version: number;
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

export function newHeader(blockSize: number, envelopeLength: number): ArchiveHeader {
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
  return { version: FORMAT_VERSION, blockSize, noncePrefix, bytes };
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
  if (version !== FORMAT_VERSION) {
    throw new AppError(
      'ARCHIVE_UNSUPPORTED',
      `This archive uses format version ${version}; this FireBackup reads version ${FORMAT_VERSION}. Upgrade FireBackup to read it.`,
    );
  }
  const blockSize = bytes.readUInt32BE(12);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || bytes[23] !== 0) {
    throw corrupt('The archive header is corrupt (impossible block size or reserved byte).');
  }
  return {
    version,
    blockSize,
    envelopeLength: bytes.readUInt16BE(10),
    noncePrefix: Buffer.from(bytes.subarray(16, 23)),
    bytes: Buffer.from(bytes.subarray(0, HEADER_LENGTH)),
  };
}

export function envelopeLengthFor(keyId: string): number {
  return 1 + Buffer.byteLength(keyId, 'ascii') + WRAP_NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;
}

function wrapAad(header: Buffer, keyIdBytes: Buffer): Buffer {
  return Buffer.concat([header, Buffer.from([keyIdBytes.length]), keyIdBytes]);
}

/** Wraps a data key under the master key; the envelope authenticates the header too. */
export function sealEnvelope(header: Buffer, master: MasterKey, dataKey: Buffer): Envelope {
  const keyIdBytes = Buffer.from(master.id, 'ascii');
  const wrapNonce = randomBytes(WRAP_NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', master.material(), wrapNonce, {
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
  const decipher = createDecipheriv('aes-256-gcm', master.material(), envelope.wrapNonce, {
    authTagLength: TAG_LENGTH,
  });
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
