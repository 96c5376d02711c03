import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { HEADER_LENGTH } from '../../src/engine/archive/format.js';
import { ArchiveReader, type ArchiveReaderOptions } from '../../src/engine/archive/reader.js';
import { parseJsonPayload } from '../../src/engine/archive/records.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { isAppError } from '../../src/shared/errors.js';

/** Reads an archive; returns the values yielded before any failure, and the failure. */
export async function readBack(
  bytes: Buffer,
  keyring: Keyring,
  options: ArchiveReaderOptions = {},
): Promise<{ values: unknown[]; error?: unknown }> {
  const reader = new ArchiveReader(Readable.from([bytes]), keyring, options);
  const values: unknown[] = [];
  try {
    for await (const record of reader.records()) values.push(parseJsonPayload(record));
    return { values };
  } catch (error) {
    return { values, error };
  }
}

export function codeOf(error: unknown): string | undefined {
  return isAppError(error) ? error.code : String(error);
}

/**
 * Flips every bit of the header and envelope in turn: each copy must be refused before
 * any record is yielded. With the expected key id (as the manifest gives it), a flipped
 * key id is corruption, never "key not found".
 */
export async function expectEveryHeaderBitFlipRefused(
  bytes: Buffer,
  keyring: Keyring,
  keyId: string,
): Promise<void> {
  const headerAndEnvelope = HEADER_LENGTH + bytes.readUInt16BE(10);
  for (let at = 0; at < headerAndEnvelope; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 1 << bit;
      const plain = await readBack(copy, keyring);
      expect(codeOf(plain.error), `byte ${at} bit ${bit}`).toMatch(
        /^(ARCHIVE_CORRUPT|ARCHIVE_UNSUPPORTED|KEY_NOT_FOUND)$/,
      );
      expect(plain.values).toEqual([]);
      const bound = await readBack(copy, keyring, { expectKeyId: keyId });
      expect(codeOf(bound.error), `byte ${at} bit ${bit}, key id expected`).toMatch(
        /^(ARCHIVE_CORRUPT|ARCHIVE_UNSUPPORTED)$/,
      );
      expect(bound.values).toEqual([]);
    }
  }
}
