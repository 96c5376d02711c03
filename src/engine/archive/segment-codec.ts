import { createCipheriv, createDecipheriv } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants as zlib } from 'node:zlib';
import { CODING_BROTLI, CODING_RAW, TAG_LENGTH, corrupt, segmentNonce } from './format.js';

// The async zlib calls run on libuv's thread pool, so compression of several blocks
// proceeds on several cores at once and never blocks the event loop.
const compressAsync = promisify(brotliCompress);
const decompressAsync = promisify(brotliDecompress);

export interface CodedBlock {
  coding: number;
  payload: Buffer;
}

/** Compresses one block alone; keeps it raw when Brotli would not make it smaller. */
export async function compressBlock(block: Buffer, quality: number): Promise<CodedBlock> {
  const compressed = await compressAsync(block, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: quality,
      [zlib.BROTLI_PARAM_SIZE_HINT]: block.length,
      // A window just large enough for the block: a larger one finds nothing more in a
      // block compressed alone, and costs memory on every thread compressing.
      [zlib.BROTLI_PARAM_LGWIN]: windowBitsFor(block.length),
    },
  });
  return compressed.length < block.length
    ? { coding: CODING_BROTLI, payload: compressed }
    : { coding: CODING_RAW, payload: block };
}

function windowBitsFor(length: number): number {
  return Math.min(24, Math.max(16, Math.ceil(Math.log2(Math.max(length, 1)))));
}

export async function decompressBlock(
  coded: CodedBlock,
  maxLength: number,
  index: number,
): Promise<Buffer> {
  if (coded.coding === CODING_RAW) {
    if (coded.payload.length > maxLength)
      throw corrupt(`Segment ${index} holds a raw block longer than the block size.`);
    return coded.payload;
  }
  if (coded.coding !== CODING_BROTLI)
    throw corrupt(`Segment ${index} uses an unknown coding ${coded.coding}.`);
  try {
    // The bound stops a hostile archive from expanding into unbounded memory.
    return await decompressAsync(coded.payload, { maxOutputLength: maxLength });
  } catch {
    throw corrupt(`Segment ${index} does not decompress to a valid block.`);
  }
}

export interface SegmentKeys {
  dataKey: Buffer;
  noncePrefix: Buffer;
  /** The 24 header bytes, bound into every segment. */
  aad: Buffer;
}

/** Encrypts one coded block as segment `index`: length ‖ ciphertext ‖ tag. */
export function sealSegment(
  keys: SegmentKeys,
  index: number,
  last: boolean,
  coded: CodedBlock,
): Buffer {
  const cipher = createCipheriv(
    'aes-256-gcm',
    keys.dataKey,
    segmentNonce(keys.noncePrefix, index, last),
    {
      authTagLength: TAG_LENGTH,
    },
  );
  cipher.setAAD(keys.aad);
  const first = cipher.update(Buffer.from([coded.coding]));
  const body = cipher.update(coded.payload);
  const final = cipher.final();
  const sealedLength = first.length + body.length + final.length + TAG_LENGTH;
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(sealedLength, 0);
  return Buffer.concat([length, first, body, final, cipher.getAuthTag()], 4 + sealedLength);
}

/**
 * Authenticates and decrypts a segment's sealed bytes (ciphertext ‖ tag). Returns
 * undefined when the tag does not match, so the caller can tell truncation and
 * appended data (a wrong `last` flag) from corruption.
 */
export function openSegment(
  keys: SegmentKeys,
  index: number,
  last: boolean,
  sealed: Buffer,
): CodedBlock | undefined {
  const decipher = createDecipheriv(
    'aes-256-gcm',
    keys.dataKey,
    segmentNonce(keys.noncePrefix, index, last),
    {
      authTagLength: TAG_LENGTH,
    },
  );
  decipher.setAAD(keys.aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  try {
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH)),
      decipher.final(),
    ]);
    return { coding: plain[0]!, payload: plain.subarray(1) };
  } catch {
    return undefined;
  }
}
