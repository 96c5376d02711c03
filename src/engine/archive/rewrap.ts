import { createHash } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';
import { envelopeLengthFor, openEnvelope, sealEnvelope } from './format.js';
import type { ArchivePrefix } from './reader.js';

/**
 * The same header with the data key unwrapped (by whichever key of the keyring sealed
 * it) and wrapped again under `to` (docs/design.md §2.2, §6). The header is kept byte for
 * byte, so every segment stays valid; a version 1 archive stays version 1.
 */
export function rewrapPrefix(prefix: ArchivePrefix, keyring: Keyring, to: MasterKey): Buffer {
  if (envelopeLengthFor(to.id) !== prefix.header.envelopeLength) {
    // Key ids have one length ('k' + 16 hex), so this cannot happen with real keys.
    throw new AppError('INTERNAL', 'The new key id does not fit the archive envelope.');
  }
  const dataKey = openEnvelope(prefix.header.bytes, prefix.envelope, keyring);
  return Buffer.concat([prefix.header.bytes, sealEnvelope(prefix.header.bytes, to, dataKey).bytes]);
}

export interface PrefixSwap {
  /** The archive with its first `oldLength` bytes replaced by `newPrefix`. */
  bytes: AsyncGenerator<Buffer>;
  /** Size and SHA-256 of the source as read, and of the bytes produced; set at the end. */
  digests(): { size: number; oldSha256: string; newSha256: string };
}

/**
 * Streams an archive with a new prefix (header ‖ envelope), hashing what it reads and
 * what it yields. With `expectOldSha256`, a source that turns out to differ throws at its
 * end, so a put of these bytes fails and leaves the stored object as it was.
 */
export function swapPrefix(
  source: AsyncIterable<Uint8Array>,
  oldLength: number,
  newPrefix: Buffer,
  expectOldSha256?: string,
): PrefixSwap {
  const oldHash = createHash('sha256');
  const newHash = createHash('sha256');
  let size = 0;
  let result: { size: number; oldSha256: string; newSha256: string } | undefined;
  async function* bytes(): AsyncGenerator<Buffer> {
    newHash.update(newPrefix);
    yield newPrefix;
    let skipped = 0;
    for await (const part of source) {
      let chunk = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
      oldHash.update(chunk);
      size += chunk.length;
      if (skipped < oldLength) {
        const cut = Math.min(oldLength - skipped, chunk.length);
        skipped += cut;
        chunk = chunk.subarray(cut);
      }
      if (chunk.length === 0) continue;
      newHash.update(chunk);
      yield chunk;
    }
    result = { size, oldSha256: oldHash.digest('hex'), newSha256: newHash.digest('hex') };
    if (expectOldSha256 !== undefined && result.oldSha256 !== expectOldSha256) {
      throw new AppError(
        'INTEGRITY',
        'The archive changed while it was being re-wrapped; it was left as it was.',
      );
    }
  }
  return {
    bytes: bytes(),
    digests: () => {
      if (!result) throw new AppError('INTERNAL', 'The archive was not read to its end.');
      return result;
    },
  };
}
