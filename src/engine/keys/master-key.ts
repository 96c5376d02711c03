import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { AppError } from '../../shared/errors.js';

const HOW_TO_MAKE =
  'Make one with `firebackup keys generate` (or `openssl rand -hex 32`) and keep it safe: without it no backup can be read.';

/**
 * A key with fewer distinct byte values than this is refused as a pattern: all one byte,
 * `deadbeef` repeated (4), `00…01` (2), any pattern of period ≤ 15. A random 32-byte key
 * has about 30.1 distinct values; the chance it has fewer than 16 is
 * Σ_{k<16} C(256,k)·k!·S(32,k) / 256^32 ≈ 3.2·10⁻¹⁷ (S: Stirling numbers of the second
 * kind, computed exactly), so no randomly made key is ever refused.
 */
export const MIN_DISTINCT_BYTES = 16;

/**
 * A 256-bit master key. The bytes stay inside this object: it prints, logs and
 * serialises as its key id only, so a key cannot leak through a stray console.log or
 * JSON.stringify of an options object.
 */
export class MasterKey {
  readonly id: string;
  readonly #bytes: Buffer;
  #wrapKey: Buffer | undefined;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
    this.id = keyIdOf(bytes);
  }

  /** Parses 64 hex characters; `source` names where the key came from, for messages. */
  static fromHex(hex: string, source: string): MasterKey {
    const text = hex.trim();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) {
      const what = /^[0-9a-fA-F]*$/.test(text)
        ? `has ${text.length} hex characters`
        : 'contains characters other than 0-9 and a-f';
      throw new AppError(
        'KEY_INVALID',
        `The encryption key from ${source} ${what}; a key is exactly 64 hex characters (32 bytes). ${HOW_TO_MAKE}`,
      );
    }
    const bytes = Buffer.from(text, 'hex');
    const distinct = new Set(bytes).size;
    if (distinct < MIN_DISTINCT_BYTES) {
      throw new AppError(
        'KEY_INVALID',
        `The encryption key from ${source} has only ${distinct} distinct byte value${distinct === 1 ? '' : 's'} among its 32: it is a pattern (the same byte repeated, deadbeef repeated, 00…01), which is no secret. ${HOW_TO_MAKE}`,
      );
    }
    return new MasterKey(bytes);
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }

  /** The key as 64 hex characters: only for `keys generate` and recovery kits. */
  revealHex(): string {
    return this.#bytes.toString('hex');
  }

  /** The raw bytes, for the cipher calls in this engine only. */
  material(): Buffer {
    return this.#bytes;
  }

  /**
   * The key that wraps data keys in format version 2: HKDF-SHA256 of the master key with
   * its own info string (docs/design.md §4), so the master key itself encrypts nothing.
   */
  wrapKey(): Buffer {
    this.#wrapKey ??= deriveKey(this.#bytes, 'wrap-key');
    return this.#wrapKey;
  }

  toJSON(): string {
    return `[MasterKey ${this.id}]`;
  }

  toString(): string {
    return this.toJSON();
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/**
 * The public fingerprint of a key: 'k' + 16 hex characters of an HMAC of a fixed label,
 * one-way, so it can be shown and stored in archive headers.
 */
export function keyIdOf(key: Buffer): string {
  return `k${createHmac('sha256', key).update('firebackup/key-id/v1').digest('hex').slice(0, 16)}`;
}

/** A 32-byte key for one purpose, derived from the master key (docs/design.md §4). */
function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `firebackup/v2/${purpose}`, 32));
}
