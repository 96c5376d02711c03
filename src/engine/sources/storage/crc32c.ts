/**
 * CRC32C (Castagnoli), the digest Cloud Storage keeps for every object, composite ones
 * included. The hardware instruction through @node-rs/crc32 (an N-API module, so it
 * loads in Node and in Electron alike) runs at several GB/s; where its binary is missing
 * or fails its self-check, a slicing-by-16 in JavaScript (~1.7 GB/s per core here, ten
 * times @google-cloud/storage's byte-at-a-time CRC32C) computes the same value.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';

const POLYNOMIAL = 0x82f63b78; // reflected Castagnoli

/** TABLE[k * 256 + b]: the CRC of byte b followed by k zero bytes. */
const TABLE = ((): Int32Array => {
  const table = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let k = 1; k < 16; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = table[(k - 1) * 256 + n]!;
      table[k * 256 + n] = (previous >>> 8) ^ table[previous & 0xff]!;
    }
  }
  return table;
})();

/** Words are read in the machine's order; the table lookups below assume little-endian. */
const LITTLE_ENDIAN = endianness() === 'LE';

function byBytes(c: number, bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) c = (c >>> 8) ^ TABLE[(c ^ bytes[i]!) & 0xff]!;
  return c;
}

/** The running CRC (inverted, as kept between calls) after `bytes`. */
function update(crc: number, bytes: Uint8Array): number {
  const T = TABLE;
  if (!LITTLE_ENDIAN) return byBytes(crc, bytes, 0, bytes.length);
  // Bytes up to a 4-byte boundary, then 16 bytes per step as four aligned words.
  const head = Math.min((4 - (bytes.byteOffset & 3)) & 3, bytes.length);
  let c = byBytes(crc, bytes, 0, head);
  const words = ((bytes.length - head) >>> 4) << 2;
  if (words === 0) return byBytes(c, bytes, head, bytes.length);
  const w = new Int32Array(bytes.buffer, bytes.byteOffset + head, words);
  for (let j = 0; j < words; j += 4) {
    c ^= w[j]!;
    const b = w[j + 1]!;
    const d = w[j + 2]!;
    const e = w[j + 3]!;
    c =
      T[3840 + (c & 0xff)]! ^
      T[3584 + ((c >>> 8) & 0xff)]! ^
      T[3328 + ((c >>> 16) & 0xff)]! ^
      T[3072 + (c >>> 24)]! ^
      T[2816 + (b & 0xff)]! ^
      T[2560 + ((b >>> 8) & 0xff)]! ^
      T[2304 + ((b >>> 16) & 0xff)]! ^
      T[2048 + (b >>> 24)]! ^
      T[1792 + (d & 0xff)]! ^
      T[1536 + ((d >>> 8) & 0xff)]! ^
      T[1280 + ((d >>> 16) & 0xff)]! ^
      T[1024 + (d >>> 24)]! ^
      T[768 + (e & 0xff)]! ^
      T[512 + ((e >>> 8) & 0xff)]! ^
      T[256 + ((e >>> 16) & 0xff)]! ^
      T[e >>> 24]!;
  }
  return byBytes(c, bytes, head + words * 4, bytes.length);
}

/**
 * Continues a CRC32C: `previous` is the finished CRC of the bytes before (0 for none),
 * the result the finished CRC of those bytes followed by `bytes`, unsigned.
 */
export type Crc32cStep = (bytes: Uint8Array, previous: number) => number;

/** The JavaScript CRC32C. */
export const crc32cJs: Crc32cStep = (bytes, previous) => ~update(~previous, bytes) >>> 0;

/** "123456789" → 0xe3069283, the standard check value. */
const CHECK_INPUT = Buffer.from('123456789');
const CHECK_VALUE = 0xe3069283;

/**
 * The native CRC32C, or undefined when its module cannot load here (no prebuilt binary
 * for this platform, an unpacked app without it) or computes a wrong check value:
 * the digest check of every object depends on it, so it must prove itself first.
 */
function loadNative(): Crc32cStep | undefined {
  try {
    const { crc32c } = createRequire(import.meta.url)('@node-rs/crc32') as {
      crc32c: (input: Uint8Array, initialState?: number) => number;
    };
    const step: Crc32cStep = (bytes, previous) => crc32c(bytes, previous) >>> 0;
    const split = step(CHECK_INPUT.subarray(4), step(CHECK_INPUT.subarray(0, 4), 0));
    return step(CHECK_INPUT, 0) === CHECK_VALUE && split === CHECK_VALUE ? step : undefined;
  } catch {
    return undefined;
  }
}

/** The native CRC32C when it loads, else undefined (then crc32cJs is used). */
export const crc32cNative: Crc32cStep | undefined = loadNative();

/** CRC32C of a byte stream, fed in pieces. */
export class Crc32c {
  private crc = 0;

  constructor(private readonly step: Crc32cStep = crc32cNative ?? crc32cJs) {}

  update(bytes: Uint8Array): this {
    this.crc = this.step(bytes, this.crc);
    return this;
  }

  /** The CRC as the JSON API writes it: base64 of the big-endian 32 bits. */
  base64(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc, 0);
    return out.toString('base64');
  }
}
